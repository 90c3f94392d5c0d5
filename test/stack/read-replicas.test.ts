import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { readdir, readlink } from 'node:fs/promises';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { Registry } from 'prom-client';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, type Db } from '../../src/stack/db.js';
import { createDbMetrics } from '../../src/stack/db-metrics.js';
import { openTopology, REPLICA_RETRY_MS } from '../../src/stack/db-topology.js';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../src/stack/embedded-postgres.js';
import { dropRunData, eventually, http, metricLines, PG_URL, REDIS_URL, startStackProcess, uniqueName, type StackProcess } from '../helpers/shop.js';

// Read replicas (docs/reference-stack.md#read-replicas): embedded streaming replicas started by the
// stack, an external primary + replica pair of our own (never the machine's PostgreSQL), and the
// routing rules of openTopology.

/** PIDs of the processes working below `top`, a real path (/proc/PID/cwd; a removed directory reads "… (deleted)"). */
async function processesIn(top: string): Promise<number[]> {
  const pids = (await readdir('/proc')).filter((n) => /^\d+$/.test(n));
  const cwds = await Promise.all(pids.map((p) => readlink(`/proc/${p}/cwd`).catch(() => '')));
  return pids.filter((_, i) => cwds[i]!.startsWith(`${top}/`)).map(Number);
}

const metrics = async (url: string): Promise<Map<string, number>> => metricLines((await http(`${url}/metrics`)).text);
const socketDb = (host: string, schema = 'shop'): Db => createDb({ connection: { host, port: 5432, user: 'postgres', database: 'postgres' }, schema, poolSize: 1 });

/** Stops a stack with SIGTERM (SIGKILL only if that hangs). */
async function stopStack(stack: StackProcess | undefined): Promise<void> {
  const exited = stack?.stop('SIGTERM');
  const timer = setTimeout(() => stack?.child.kill('SIGKILL'), 20_000);
  await exited;
  clearTimeout(timer);
}

/** Catalog reads of every kind: products one by one, pages, the flash-sale view; each must answer 200. */
async function readCatalog(url: string, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const paths = [`/api/products/${1 + (i % 7)}`, `/api/products?page=${1 + (i % 3)}&limit=5`, '/api/flash-sale'];
    for (const path of paths) expect((await http(`${url}${path}`)).status, path).toBe(200);
  }
}

describe('embedded read replicas (stack up --read-replicas 2)', () => {
  let stack: StackProcess;
  let socketDir: string;
  let primary: Db;
  let replica1: Db;

  beforeAll(async () => {
    stack = await startStackProcess(['--read-replicas', '2', '--workers', '1', '--consumers', '0', '--products', '200', '--cache', 'off', '--rate-limit', '0']);
    const line = stack.stdout().split('\n').find((l) => l.includes('"socketDir"'));
    socketDir = (JSON.parse(line!) as { socketDir: string }).socketDir;
    primary = socketDb(socketDir);
    replica1 = socketDb(join(socketDir, 'replica-1'));
  });
  afterAll(async () => {
    await Promise.all([primary?.close(), replica1?.close()]);
    await stopStack(stack);
  });

  it('sends catalog reads to the replicas in turn, and the worker\'s replica pools are connected to them', async () => {
    await readCatalog(stack.url, 6);
    const m = await metrics(stack.url);
    const r1 = m.get('shop_catalog_reads_total{pool="replica-1"}')!;
    const r2 = m.get('shop_catalog_reads_total{pool="replica-2"}')!;
    // 18 reads in turn over two replicas, none on the primary.
    expect(r1 + r2).toBe(18);
    expect(Math.abs(r1 - r2)).toBeLessThanOrEqual(1);
    expect(m.get('shop_catalog_reads_total{pool="primary"}')).toBe(0);
    expect(m.get('shop_db_queries_total{role="replica",pool="replica-1"}')).toBeGreaterThanOrEqual(r1);
    expect(m.get('shop_db_queries_total{role="primary",pool="primary"}')).toBeGreaterThan(0);
    // Seen from the replica itself: a hot standby, with the web worker's replica pool among its sessions.
    const seen = await replica1.query<{ standby: boolean; sessions: string }>(
      `SELECT pg_is_in_recovery() AS standby, count(*) FILTER (WHERE application_name LIKE 'scalectl-shop-w%-replica-1') AS sessions FROM pg_stat_activity`);
    expect(seen.rows[0]).toEqual({ standby: true, sessions: expect.not.stringMatching(/^0$/) });
  });

  it('measures lag: replay paused, a write gives bytes > 0 and growing seconds; resumed, both return to 0', async () => {
    await eventually(async () => (await metrics(stack.url)).get('shop_db_replica_lag_bytes{replica="replica-1"}') === 0, 10_000, 'replica-1 caught up');
    await replica1.query('SELECT pg_wal_replay_pause()');
    try {
      await primary.query('UPDATE products SET description = description || \'!\' WHERE id = 1');
      let first = 0;
      await eventually(async () => {
        const m = await metrics(stack.url);
        first = m.get('shop_db_replica_lag_seconds{replica="replica-1"}') ?? 0;
        return (m.get('shop_db_replica_lag_bytes{replica="replica-1"}') ?? 0) > 0 && first > 0;
      }, 10_000, 'replica-1 shows lag');
      await eventually(async () => ((await metrics(stack.url)).get('shop_db_replica_lag_seconds{replica="replica-1"}') ?? 0) > first, 10_000, 'lag seconds grow');
      // The other replica replays as usual.
      await eventually(async () => (await metrics(stack.url)).get('shop_db_replica_lag_bytes{replica="replica-2"}') === 0, 10_000, 'replica-2 caught up');
    } finally {
      await replica1.query('SELECT pg_wal_replay_resume()');
    }
    await eventually(async () => {
      const m = await metrics(stack.url);
      return m.get('shop_db_replica_lag_bytes{replica="replica-1"}') === 0 && m.get('shop_db_replica_lag_seconds{replica="replica-1"}') === 0;
    }, 10_000, 'replica-1 back to 0 lag');
  });

  it('a replica that dies costs no read: the primary answers it, the other replica takes its turn', async () => {
    const before = await metrics(stack.url);
    const pid = Number(readFileSync(join(socketDir, 'replica-2', 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
    process.kill(pid, 'SIGKILL');
    await eventually(async () => stack.stdout().includes('embedded read replica replica-2 exited unexpectedly'), 10_000, 'replica-2 exit noticed');
    await readCatalog(stack.url, 6);
    const after = await metrics(stack.url);
    const grew = (pool: string): number => after.get(`shop_catalog_reads_total{pool="${pool}"}`)! - before.get(`shop_catalog_reads_total{pool="${pool}"}`)!;
    expect(grew('primary') + grew('replica-1') + grew('replica-2')).toBe(18);
    expect(grew('primary')).toBeGreaterThanOrEqual(1);
    expect(grew('replica-2')).toBe(0);
    expect(grew('replica-1')).toBeGreaterThanOrEqual(8);
    expect(stack.stdout()).toContain('read replica replica-2 is unreachable');
    // A dead replica has no lag (not its last reading, 0): a threshold on the lag cannot pass on it.
    // (A reading serves the scrapes of the next 250 ms: the one before the kill may still answer.)
    let lag = new Map<string, number>();
    await eventually(async () => {
      lag = await metrics(stack.url);
      return !lag.has('shop_db_replica_lag_bytes{replica="replica-2"}') && !lag.has('shop_db_replica_lag_seconds{replica="replica-2"}');
    }, 5_000, 'replica-2 has no lag series');
    expect(lag.get('shop_db_replica_lag_bytes{replica="replica-1"}')).toBeGreaterThanOrEqual(0);
  });

  it('rebuilds the replicas from the fresh database when the primary dies and is restarted', async () => {
    const pid = Number(readFileSync(join(socketDir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
    process.kill(pid, 'SIGKILL');
    // From the kill on, every read answers right or 503 (the outage): never a 404 or an empty flash sale
    // from a replica that has not replayed the seed yet. Until both rebuilt replicas have served reads.
    const before = await metrics(stack.url);
    const wrong: string[] = [];
    let served = false;
    for (const until = Date.now() + 40_000; !served && Date.now() < until;) {
      for (const path of ['/api/products/3', '/api/flash-sale']) {
        const r = await http(`${stack.url}${path}`).catch(() => undefined);
        if (!r || r.status === 503) continue;
        const items = path === '/api/flash-sale' ? (r.json as { items?: unknown[] }).items?.length : 1;
        if (r.status !== 200 || !items) wrong.push(`${path}: ${r.status} ${r.text.slice(0, 100)}`);
      }
      const m = await metrics(stack.url).catch(() => before);
      served = stack.stdout().includes('embedded PostgreSQL is up again')
        && ['replica-1', 'replica-2'].every((r) => m.get(`shop_catalog_reads_total{pool="${r}"}`)! > before.get(`shop_catalog_reads_total{pool="${r}"}`)!);
    }
    expect(wrong).toEqual([]);
    expect(served).toBe(true);
    expect(stack.stdout()).toContain('rebuilding the 2 embedded read replicas from the fresh primary');
    const rebuilt = socketDb(join(socketDir, 'replica-2'));
    try {
      expect((await rebuilt.query<{ standby: boolean }>('SELECT pg_is_in_recovery() AS standby')).rows[0]!.standby).toBe(true);
    } finally {
      await rebuilt.close();
    }
  });

  it('stops the replicas with the primary and removes their data', async () => {
    await stopStack(stack);
    expect(existsSync(socketDir)).toBe(false);
  });
});

describe('external read replicas (a primary + streaming replica pair of our own, reached by URL)', () => {
  let pair: EmbeddedPostgres;
  const name = uniqueName();
  const url = (host: string): string => `postgresql://postgres@/postgres?host=${encodeURIComponent(host)}`;

  beforeAll(async () => {
    pair = await startEmbeddedPostgres(() => undefined, () => undefined, { replicas: 1 });
  });
  afterAll(async () => {
    await pair?.stop();
    await dropRunData(name);
  });

  const external = (replicaUrls: string): string[] => ['--backends', 'external', '--database-url', url(pair.connection.host), '--replica-urls', replicaUrls,
    '--redis-url', REDIS_URL, '--key-prefix', name, '--db-schema', name, '--workers', '1', '--consumers', '0', '--products', '100', '--cache', 'off', '--rate-limit', '0'];

  it('reads from the replica URL and exports its lag', async () => {
    const stack = await startStackProcess(external(url(pair.replicas[0]!.host)));
    try {
      await readCatalog(stack.url, 3);
      const m = await metrics(stack.url);
      expect(m.get('shop_catalog_reads_total{pool="replica-1"}')).toBe(9);
      expect(m.get('shop_catalog_reads_total{pool="primary"}')).toBe(0);
      // Read at scrape time: a background write (the outbox relay's) may be streaming at that moment.
      await eventually(async () => (await metrics(stack.url)).get('shop_db_replica_lag_bytes{replica="replica-1"}') === 0, 10_000, 'replica-1 caught up');
      // Checkout and order status stay on the primary (read-your-writes).
      const order = await http(`${stack.url}/api/checkout`, { body: { items: [{ productId: 1, qty: 1 }] }, headers: { 'idempotency-key': name } });
      expect(order.status).toBe(202);
      expect((await http(`${stack.url}/api/orders/${order.json.orderId}`)).status).toBe(200);
      expect((await metrics(stack.url)).get('shop_catalog_reads_total{pool="replica-1"}')).toBe(9);
    } finally {
      await stopStack(stack);
    }
  });

  it('refuses to start when a replica URL is not a replica (one clear line, exit 7)', async () => {
    await expect(startStackProcess(external(url(pair.connection.host)))).rejects.toThrow(/exited with 7 before it was ready:[^]*read replica replica-1 \(.*\) is not a streaming replica/);
  });

  it('refuses to start when a replica URL is a replica of another primary (one clear line, exit 7)', async () => {
    // The machine's PostgreSQL as the primary: the pair's replica follows another one.
    const args = external(url(pair.replicas[0]!.host));
    args[args.indexOf('--database-url') + 1] = PG_URL;
    await expect(startStackProcess(args)).rejects.toThrow(/exited with 7 before it was ready:[^]*read replica replica-1 \(.*\) is not a replica of this primary \(its system identifier is \d+, the primary's \d+\)/);
  });

  it('a restart rebuilds the replica with what prepare wrote: it opens with it, before any read', async () => {
    await pair.restart(async (c) => {
      const db = socketDb(c.host, 'public');
      try {
        await db.query('CREATE TABLE prepared AS SELECT g AS id FROM generate_series(1, 20000) g');
      } finally {
        await db.close();
      }
    });
    const replica = socketDb(pair.replicas[0]!.host, 'public');
    try {
      expect((await replica.query<{ n: number }>('SELECT count(*)::int AS n FROM prepared')).rows[0]!.n).toBe(20000);
    } finally {
      await replica.close();
    }
  });
});

describe('embedded PostgreSQL killed outright (its backends are in sessions of their own)', () => {
  it('stop waits for, or kills, a backend the killed postmaster left behind before it removes the directory', async () => {
    const pgs = await startEmbeddedPostgres(() => undefined);
    const dir = pgs.connection.host;
    const top = realpathSync(dir);
    const db = socketDb(dir, 'public');
    try {
      // CPU-bound: it does not look for its postmaster while it counts.
      const busy = db.query('SELECT count(*) FROM generate_series(1, 100000000000)').catch(() => undefined);
      const counting = async (): Promise<boolean> => (await processesIn(top)).some((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('SELECT'));
      await eventually(counting, 10_000, 'the backend counts');
      process.kill(Number(readFileSync(join(dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]), 'SIGKILL');
      await pgs.stop();
      expect(await processesIn(top)).toEqual([]);
      expect(existsSync(dir)).toBe(false);
      await busy;
    } finally {
      await db.close().catch(() => undefined);
      await pgs.stop();
    }
  }, 20_000);
});

describe('openTopology routing (machine PostgreSQL as primary, a closed port as the replica)', () => {
  it('falls back to the primary for a read an unreachable replica fails, skips it for REPLICA_RETRY_MS, then tries it again', async () => {
    const closed = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as AddressInfo;
        probe.close(() => resolve(port));
      });
    });
    let now = 1_000;
    const sent: string[] = [];
    const reads: string[] = [];
    const down: string[] = [];
    const dbs = openTopology({
      primary: PG_URL, replicas: [`postgres://postgres@127.0.0.1:${closed}/test`], schema: 'public', poolSize: 1, applicationName: 'scalectl-test-topology',
      hooks: [(info, run) => {
        sent.push(info.pool);
        return run();
      }],
      onRead: (pool) => reads.push(pool), onReplicaDown: (pool) => down.push(pool), now: () => now,
    });
    try {
      expect((await dbs.reader().query<{ n: number }>('SELECT 1 AS n')).rows[0]!.n).toBe(1);
      expect({ sent, reads, down }).toEqual({ sent: ['replica-1', 'primary'], reads: ['primary'], down: ['replica-1'] });
      await dbs.reader().query('SELECT 1');
      expect(sent.slice(2)).toEqual(['primary']);
      now += REPLICA_RETRY_MS;
      await dbs.reader().query('SELECT 1');
      expect(sent.slice(3)).toEqual(['replica-1', 'primary']);
      // Still down: said once, not on every failed try.
      expect(down).toEqual(['replica-1']);
      // Anything but a query (a transaction) is a write: the primary.
      await dbs.reader().transaction((c) => c.query('SELECT 1'));
      expect(sent.at(-1)).toBe('primary');
    } finally {
      await dbs.close();
    }
  });

  it('a replica that stops answering (frozen, partitioned) costs a read REPLICA_TIMEOUT_MS, not forever; the lag scrape skips it', async () => {
    // A TCP relay to the machine's PostgreSQL that can stop relaying: the connection stays open, nothing comes back.
    let frozen = false;
    const sockets: Socket[] = [];
    const relay = createServer((client) => {
      const server = connect(5432, '127.0.0.1');
      sockets.push(client, server);
      client.on('data', (d) => frozen || server.write(d));
      server.on('data', (d) => frozen || client.write(d));
      client.on('error', () => undefined);
      server.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
    const port = (relay.address() as AddressInfo).port;
    const reads: string[] = [];
    const down: string[] = [];
    const dbs = openTopology({
      primary: PG_URL, replicas: [`postgres://postgres@127.0.0.1:${port}/test`], schema: 'public', poolSize: 1, applicationName: 'scalectl-test-frozen',
      onRead: (pool) => reads.push(pool), onReplicaDown: (pool) => down.push(pool),
    });
    const registry = new Registry();
    createDbMetrics().register(registry, dbs);
    try {
      await dbs.reader().query('SELECT 1');
      expect(reads).toEqual(['replica-1']);
      frozen = true;
      // Without a client-side timeout this read, and the scrape, would wait as long as the relay does: forever.
      expect((await dbs.reader().query<{ n: number }>('SELECT 2 AS n')).rows[0]!.n).toBe(2);
      expect({ reads, down }).toEqual({ reads: ['replica-1', 'primary'], down: ['replica-1'] });
      expect(dbs.isReplicaDown?.(dbs.replicas[0]!)).toBe(true);
      const text = await registry.metrics();
      expect(text).not.toMatch(/shop_db_replica_lag_(bytes|seconds)\{/);
    } finally {
      for (const sock of sockets) sock.destroy();
      relay.close();
      await dbs.close();
    }
  }, 15_000);
});

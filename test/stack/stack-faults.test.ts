import { createServer, type AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createDb } from '../../src/stack/db.js';
import { runBin } from '../helpers/cli.js';
import { dropRunData, eventually, http, PG_URL, REDIS_URL, startStackProcess, uniqueName, type StackProcess } from '../helpers/shop.js';
import { childrenOf } from '../helpers/processes.js';
import { closedPort } from '../helpers/test-server.js';

// `scalectl stack up` on the machine's PostgreSQL and Redis (external
// backends), each test in a schema and key prefix of its own.
let stack: StackProcess | undefined;
let name = '';

afterEach(async () => {
  await stack?.stop('SIGKILL');
  stack = undefined;
  if (name) await dropRunData(name);
});

const external = (extra: string[] = []) => {
  name = uniqueName();
  return startStackProcess(['--backends', 'external', '--database-url', PG_URL, '--redis-url', REDIS_URL, '--db-schema', name, '--key-prefix', name,
    '--workers', '2', '--products', '100', '--rate-limit', '0', '--shutdown-timeout', '10s', ...extra]);
};

const metric = async (url: string, series: string): Promise<number | undefined> => {
  const line = (await http(`${url}/metrics`)).text.split('\n').find((l) => l.startsWith(series + ' '));
  return line ? Number(line.slice(series.length + 1)) : undefined;
};

describe('stack up under faults (external backends)', () => {
  it('re-forks a worker killed with SIGKILL under load, and keeps answering', async () => {
    stack = await external();
    const url = stack.url;
    // Round robin spreads requests over the workers; find both pids.
    const pids = new Set<number>();
    for (let i = 0; i < 40 && pids.size < 2; i++) pids.add((await http(`${url}/healthz`)).json.pid);
    expect(pids.size).toBe(2);
    const victim = [...pids][0]!;

    let ok = 0;
    let failed = 0;
    let restarted = false;
    const deadline = Date.now() + 30_000;
    const load = async () => {
      for (let i = 0; i < 2_000 && !restarted && Date.now() < deadline; i++) {
        const r = await http(`${url}/api/products/${1 + (i % 50)}`).catch(() => undefined);
        if (r?.status === 200) ok++;
        else failed++;
      }
    };
    const loops = Array.from({ length: 4 }, load);
    await eventually(async () => ok > 50, 10_000, 'load running');
    process.kill(victim, 'SIGKILL');
    await eventually(async () => (await metric(url, 'shop_worker_restarts_total')) === 1 && (await metric(url, 'shop_workers')) === 2, 20_000, 'worker re-forked');
    restarted = true;
    await Promise.all(loops);
    // Only requests the dead worker held can fail; the survivor and the new worker answer the rest.
    expect(failed).toBeLessThanOrEqual(Math.max(8, ok * 0.05));
    const after = await Promise.all(Array.from({ length: 50 }, (_, i) => http(`${url}/api/products/${i + 1}`)));
    expect(after.every((r) => r.status === 200)).toBe(true);
    const nowPids = new Set<number>();
    for (let i = 0; i < 40 && nowPids.size < 2; i++) nowPids.add((await http(`${url}/healthz`)).json.pid);
    expect(nowPids.has(victim)).toBe(false);
    expect(stack.stderr()).not.toContain('internal error');
  });

  it('re-forks a killed order consumer (a process of its own), which then processes orders', async () => {
    stack = await external(['--workers', '1', '--consumers', '1']);
    const url = stack.url;
    const web = (await http(`${url}/healthz`, { fresh: true })).json.pid as number;
    // stack up runs the shop (dist/stack/main.js), whose primary forks the workers.
    const [shop] = await childrenOf(stack.child.pid!);
    const consumer = (await childrenOf(shop!.pid)).filter((c) => c.pid !== web && c.comm.startsWith('node'));
    expect(consumer).toHaveLength(1);
    process.kill(consumer[0]!.pid, 'SIGKILL');
    await eventually(async () => /"msg":"consumer \d+ exited \(SIGKILL\); starting a new one in \d+ ms"/.test(stack!.stdout()), 10_000, 'the primary saw the consumer die');
    await eventually(async () => (await metric(url, 'shop_worker_restarts_total')) === 1 && (await metric(url, 'shop_replicas{role="consumer",state="ready"}')) === 1, 20_000, 'consumer re-forked');
    const order = await http(`${url}/api/checkout`, { body: { items: [{ productId: 50, qty: 1 }] }, headers: { 'idempotency-key': 'after-the-crash' } });
    expect(order.status).toBe(202);
    await eventually(async () => (await http(`${url}/api/orders/${order.json.orderId}`)).json.status === 'done', 20_000, 'the order processed by the new consumer');
    expect(await metric(url, 'shop_workers')).toBe(1);
  });

  it('keeps its port when every worker has died (started with --port 0)', async () => {
    stack = await external(['--workers', '1']);
    const url = stack.url;
    const pid = (await http(`${url}/healthz`, { fresh: true })).json.pid as number;
    process.kill(pid, 'SIGKILL');
    // A connection made in the instant before the primary notices the death waits for a worker
    // that never comes (Node's cluster round robin); poll once the primary has seen it.
    await eventually(async () => stack!.stdout().includes('exited (SIGKILL)'), 10_000, 'the primary saw the worker die');
    await eventually(async () => (await http(`${url}/healthz`, { fresh: true })).json.pid !== pid, 20_000, 'a new worker answers at the same URL');
  });

  it('drains on SIGTERM: in-flight requests complete, exit 0, no sessions left open', async () => {
    stack = await external(['--downstream-latency', '3s']);
    const url = stack.url;
    const inFlight = Array.from({ length: 20 }, (_, i) => http(`${url}/api/products/${i + 1}`));
    await eventually(async () => ((await metric(url, 'shop_http_requests_in_flight')) ?? 0) >= 20, 10_000, '20 requests in flight');
    const readyBefore = (await http(`${url}/readyz`)).status;
    const exit = stack.stop('SIGTERM');
    const answers = await Promise.all(inFlight);
    // Served, and answered while draining (only a draining worker closes the connection).
    expect(answers.map((a) => [a.status, a.headers.connection])).toEqual(Array(20).fill([200, 'close']));
    expect(readyBefore).toBe(200);
    expect(await exit).toBe(0);
    // No session of this stack is left behind, idle in transaction or otherwise.
    // (A closed pool's sessions end a moment after the process does; wait for them, bounded.)
    const db = createDb({ connection: PG_URL, schema: 'public', poolSize: 1 });
    try {
      const sessions = () => db.query<{ state: string }>(`SELECT state FROM pg_stat_activity WHERE application_name LIKE $1`, [`scalectl-${name}%`]);
      expect((await sessions()).rows.filter((r) => r.state === 'idle in transaction')).toEqual([]);
      await eventually(async () => (await sessions()).rowCount === 0, 5_000, 'no sessions left');
    } finally {
      await db.close();
    }
  });

  it('exits 7 with a one-line reason when its database cannot be reached', async () => {
    const port = await closedPort();
    const r = await runBin(['stack', 'up', '--port', '0', '--backends', 'external', '--database-url', `postgres://postgres@127.0.0.1:${port}/test`]);
    expect(r.code).toBe(7);
    expect(r.stderr).toMatch(/scalectl: the reference stack could not start: cannot prepare the database at postgres:\/\/\*\*\*@127\.0\.0\.1:\d+\/test: .*ECONNREFUSED/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('exits 7 naming the cause when a worker cannot start (its port is taken)', async () => {
    const taken = createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    const port = (taken.address() as AddressInfo).port;
    try {
      name = uniqueName();
      const r = await runBin(['stack', 'up', '--port', String(port), '--backends', 'external', '--database-url', PG_URL, '--db-schema', name, '--key-prefix', name, '--workers', '2', '--products', '10']);
      expect(r.code).toBe(7);
      expect(r.stderr).toContain(`scalectl: the reference stack could not start: a worker could not start: bind EADDRINUSE 127.0.0.1:${port}`);
    } finally {
      taken.close();
    }
  });

  it('lists every bad setting at once (exit 2)', async () => {
    const r = await runBin(['stack', 'up', '--workers', '0', '--backends', 'cloud', '--cache-ttl', 'soon']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('workers:');
    expect(r.stderr).toContain('backends:');
    expect(r.stderr).toContain('cacheTtl:');
  });
});

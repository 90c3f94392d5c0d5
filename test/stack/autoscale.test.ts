import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Pool } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunResult } from '../../src/analyzers/run-result.js';
import { runCli } from '../helpers/cli.js';
import { tempFiles } from '../helpers/temp-folders.js';
import { createDb, type Db } from '../../src/stack/db.js';
import { dropRunData, eventually, http, metricLines, PG_URL, REDIS_URL, startStackProcess, uniqueName, type StackProcess } from '../helpers/shop.js';

// `scalectl stack up --autoscale on` with laptop settings (short syncs and
// windows), driven from the test: CPU load scales web workers, a backlog of
// slow orders scales consumers, and both come back down once it is over.
let stack: StackProcess | undefined;
let name = '';

afterEach(async () => {
  // SIGTERM, so embedded PostgreSQL and its temp dir go too; SIGKILL only if that hangs.
  const exited = stack?.stop('SIGTERM');
  const timer = setTimeout(() => stack?.child.kill('SIGKILL'), 30_000);
  await exited;
  clearTimeout(timer);
  stack = undefined;
  if (name) await dropRunData(name);
  name = '';
});

const LAPTOP = ['--autoscale', 'on', '--hpa-sync', '2s', '--scale-up-period', '2s', '--scale-down-window', '6s', '--polling-interval', '1s', '--cooldown', '4s',
  '--products', '100', '--rate-limit', '0', '--shutdown-timeout', '10s'];

const external = () => {
  name = uniqueName();
  return ['--backends', 'external', '--database-url', PG_URL, '--redis-url', REDIS_URL, '--db-schema', name, '--key-prefix', name];
};

/** The stack's /metrics as `name{labels}` → value. */
async function metrics(url: string): Promise<Map<string, number>> {
  return metricLines((await http(`${url}/metrics`, { fresh: true })).text);
}

const replicas = (m: Map<string, number>, role: string, state: string): number | undefined => m.get(`shop_replicas{role="${role}",state="${state}"}`);

/** The counters summed across workers (no per-worker label) that the load moves: cache lookups and request durations. */
function summed(m: Map<string, number>): Map<string, number> {
  return new Map([...m].filter(([k]) => /^shop_cache_requests_total\{|^shop_http_request_duration_seconds_(count|bucket)\{/.test(k)));
}

/** The primary's scaling decisions for a role, from the JSON log lines. */
function decisions(s: StackProcess, role: string): { from: number; to: number; msg: string }[] {
  return s.stdout().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((l) => l.role === 'primary' && l.processRole === role && typeof l.from === 'number' && typeof l.to === 'number')
    .map((l) => ({ from: l.from as number, to: l.to as number, msg: String(l.msg) }));
}

/** Keep-alive load from this process: `loops` request loops over one pool of 4 connections, until stopped. Records which worker pid answered /healthz. */
function keepAliveLoad(url: string, loops: number) {
  const pool = new Pool(url, { connections: 4, headersTimeout: 15_000, bodyTimeout: 15_000 });
  const pids = new Set<number>();
  let stopped = false;
  let ok = 0;
  // Bounded even if the test forgets to stop it.
  const deadline = Date.now() + 120_000;
  const done = Promise.all(Array.from({ length: loops }, async (_, k) => {
    for (let i = 0; !stopped && Date.now() < deadline; i++) {
      const path = k === 0 ? '/healthz' : `/api/products/${1 + (i % 50)}`;
      const r = await pool.request({ path, method: 'GET' }).catch(() => undefined);
      const text = await r?.body.text();
      if (r?.statusCode !== 200) continue;
      ok++;
      if (k === 0) pids.add((JSON.parse(text!) as { pid: number }).pid);
    }
  }));
  return { pids, ok: () => ok, stop: async () => { stopped = true; await done; await pool.close(); } };
}

/** A scrape slower than this fails: a recorded one read the stack's counts at most this long after it began (its t). */
const SCRAPE_TIMEOUT_SEC = 1;

/** A `scalectl run` against the stack, its telemetry scraped from the stack's /metrics with the default mapping (replicas included). */
async function scalectlRun(url: string, seconds: number): Promise<{ code: number; result: RunResult }> {
  const dir = await tempFiles({ 's.yaml': `
name: autoscale-watch
target: ${url}
phases:
  - { duration: ${seconds}s, arrivalRate: 40 }
flows:
  - name: read
    steps:
      - get: /api/products?page={{ randomInt(1, 5) }}
telemetry: { prometheus: ${url}/metrics, timeout: ${SCRAPE_TIMEOUT_SEC}s, drainTimeout: 0 }
` });
  const r = await runCli(['run', 's.yaml', '--out', 'r.json', '--no-progress'], { cwd: dir });
  if (r.stderr.includes('internal error')) throw new Error(r.stderr);
  return { code: r.code, result: JSON.parse(await readFile(join(dir, 'r.json'), 'utf8')) as RunResult };
}

/** When (epoch ms) the primary last logged a line matching `msg`. */
function loggedAt(s: StackProcess, msg: RegExp): number | undefined {
  const line = s.stdout().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { time: number; msg: string }).findLast((l) => msg.test(l.msg));
  return line?.time;
}

/** Clock slack (s) between the stack's log times and the run's: one machine's clock, each rounded to 1 ms, t to 0.01 s. */
const CLOCK_EPSILON = 0.05;
/** How late (s) a scrape's timeout may fire in this busy test process, letting a slower scrape through. */
const TIMER_SLACK_SEC = 1;

describe('stack up --autoscale on', () => {
  it('scales web workers 1 → 2 on CPU (the new one starting for podStartup, then given keep-alive clients), and back to 1 after the window; a run records it', async () => {
    // 100 millicores requested and a 50% target: an idle worker uses about a fifth of that, one under load several times it.
    stack = await startStackProcess([...LAPTOP, '--workers', '1', '--max-workers', '2', '--cpu-request', '100', '--cpu-target', '50', '--pod-startup', '2s']);
    const url = stack.url;
    const load = keepAliveLoad(url, 8);
    // A scalectl run watches the same stack while it scales: its replica series must tell the same story as the stack.
    const run = scalectlRun(url, 20);
    let countsAtTwo: Map<string, number> = new Map();
    try {
      await eventually(async () => load.pids.size === 1, 10_000, 'load running');
      const [first] = [...load.pids];
      // Ready is read from /metrics; "starting" from the log (a 2 s window, read through a saturated worker, is easy to miss by polling).
      await eventually(async () => replicas(await metrics(url), 'web', 'ready') === 2, 90_000, 'two web workers ready');
      const newId = /"msg":"web worker (\d+) forked \(starting/.exec(stack.stdout())![1];
      const forked = loggedAt(stack, new RegExp(`^web worker ${newId} forked \\(starting`))!;
      const readyAt = loggedAt(stack, new RegExp(`^web worker ${newId} ready$`))!;
      // It was starting from its fork until ready, podStartup (2 s) at least.
      expect(readyAt - forked).toBeGreaterThanOrEqual(2_000);
      // The same 4 keep-alive connections reach the new worker: the old one closed them after an answer, and they reconnected.
      await eventually(async () => [...load.pids].some((p) => p !== first), 20_000, 'the new worker answers the keep-alive client');
      const m = await metrics(url);
      expect(m.get('shop_replicas_desired{role="web"}')).toBe(2);
      expect(m.get('shop_scaling_events_total{role="web",direction="up"}')).toBe(1);
      expect(m.get('shop_workers')).toBe(2);
      expect(m.get('shop_autoscaler_observed{role="web"}')).toBeGreaterThan(50);
      countsAtTwo = summed(m);
      const { result } = await run;
      const series = result.timeseries.filter((p) => p.replicas).map((p) => p.replicas!.web);
      expect(series[0]).toBe(1);
      expect(series.at(-1)).toBe(2);
      const up = (result.telemetry as { replicas?: { events: { t: number; role: string; from: number; to: number }[] } }).replicas!.events.find((e) => e.role === 'web' && e.to === 2)!;
      // The run and the stack tell the same story, in order. A scrape is stamped when it begins and reads the count before its
      // timeout ends: the first one that saw 2 cannot have begun more than that before the stack logged the worker ready,
      // and every one that still saw 1 began before it.
      const readySec = (readyAt - Date.parse(result.startedAt)) / 1000;
      expect(up.t).toBeGreaterThanOrEqual(readySec - SCRAPE_TIMEOUT_SEC - TIMER_SLACK_SEC - CLOCK_EPSILON);
      const before = result.timeseries.filter((p) => p.replicas && p.t < up.t);
      expect(before.map((p) => p.replicas!.web)).toContain(1);
      expect(before.filter((p) => p.replicas!.web === 1).at(-1)!.t).toBeLessThanOrEqual(readySec + CLOCK_EPSILON);
      expect(result.telemetry).toMatchObject({ replicas: { roles: { web: { min: 1, max: 2, final: 2 }, consumer: { min: 1, max: 1, final: 1 } } } });
    } finally {
      await load.stop();
      await run.catch(() => undefined);
    }
    expect(load.ok()).toBeGreaterThan(0);
    // Watched in the log, not /metrics: scraping every 50 ms would itself keep a 100 m worker busy.
    await eventually(async () => /"msg":"web worker \d+ retired/.test(stack!.stdout()), 60_000, 'back to one web worker');
    const m = await metrics(url);
    expect(m.get('shop_scaling_events_total{role="web",direction="down"}')).toBe(1);
    // The retired worker's counts stay in the summed counters: none went down.
    for (const [key, before] of countsAtTwo) expect(m.get(key), key).toBeGreaterThanOrEqual(before);
    expect(countsAtTwo.size).toBeGreaterThan(0);
    expect(m.get('shop_replicas_desired{role="web"}')).toBe(1);
    expect(replicas(m, 'web', 'starting')).toBe(0);
    expect(replicas(m, 'consumer', 'ready')).toBe(1);
    // The log has each decision with its numbers, and the processes coming and going.
    const web = decisions(stack, 'web');
    expect(web.map((d) => [d.from, d.to])).toEqual([[1, 2], [2, 1]]);
    for (const d of web) expect(d.msg).toMatch(/\d+%/);
    expect(stack.stdout()).toMatch(/"msg":"web worker \d+ forked \(starting; takes traffic 2000 ms after it connects \(podStartup\)\)"/);
    expect(stack.stdout()).toMatch(/"msg":"retiring web worker \d+ \(draining/);
    expect(stack.stdout()).toMatch(/"msg":"rebalancing: 1 other web worker/);
  }, 240_000);

  // A backlog of 12 consumers' worth (5 each) the first poll sees: the bound, 3, is reached at once or in two steps.
  const ORDERS = 60;
  for (const backends of ['embedded', 'external'] as const) {
    it(`${backends}: scales consumers on the backlog and back after the cooldown; every order done exactly once`, async () => {
      stack = await startStackProcess([...LAPTOP, ...(backends === 'external' ? external() : []), '--workers', '1', '--consumers', '1', '--max-consumers', '3',
        '--backlog-target', '5', '--job-duration', '500ms', '--queue-concurrency', '2', '--db-pool', '20']);
      const url = stack.url;
      // Products past the flash-sale ones have a million units: every checkout is accepted.
      const answers = await Promise.all(Array.from({ length: ORDERS }, (_, i) => http(`${url}/api/checkout`, {
        body: { items: [{ productId: 10 + (i % 50), qty: 1 }] }, headers: { 'idempotency-key': `autoscale-${i}` },
      })));
      expect(answers.map((a) => a.status)).toEqual(Array(ORDERS).fill(202));
      const orderIds = answers.map((a) => a.json.orderId as string);
      await eventually(async () => replicas(await metrics(url), 'consumer', 'ready') === 3, 60_000, 'three consumers');
      await eventually(async () => (await metrics(url)).get('shop_orders{status="done"}') === ORDERS, 90_000, 'every order done');
      await eventually(async () => replicas(await metrics(url), 'consumer', 'ready') === 1, 60_000, 'back to one consumer');
      const m = await metrics(url);
      expect(m.get('shop_scaling_events_total{role="consumer",direction="up"}')).toBeGreaterThanOrEqual(1);
      expect(m.get('shop_scaling_events_total{role="consumer",direction="down"}')).toBeGreaterThanOrEqual(1);
      expect(m.get('shop_replicas_desired{role="consumer"}')).toBe(1);
      expect(m.get('shop_autoscaler_observed{role="consumer"}')).toBe(0);
      const kinds = decisions(stack, 'consumer');
      // Up from 1 (in one step or two, as the checkouts arrive), to 3 at most, and back down to 1.
      expect(kinds[0]!.from).toBe(1);
      expect(kinds[0]!.to).toBeGreaterThan(1);
      expect(Math.max(...kinds.map((d) => d.to))).toBe(3);
      expect(kinds.at(-1)!.to).toBe(1);
      for (const d of kinds) expect(d.msg).toMatch(/backlog \d+/);
      const db = await shopDb(stack, backends);
      try {
        const rows = (await db.query<{ status: string; times: number; n: string }>(
          'SELECT status, times_processed AS times, count(*) AS n FROM orders WHERE id = ANY($1::uuid[]) GROUP BY 1, 2', [orderIds])).rows;
        expect(rows.map((r) => [r.status, r.times, Number(r.n)])).toEqual([['done', 1, ORDERS]]);
      } finally {
        await db.close();
      }
    }, 240_000);
  }
});

/** A pool on the stack's database: the machine's PostgreSQL, or the embedded one at the socket its first log line names. */
async function shopDb(s: StackProcess, backends: 'embedded' | 'external'): Promise<Db> {
  if (backends === 'external') return createDb({ connection: PG_URL, schema: name, poolSize: 1 });
  const line = s.stdout().split('\n').find((l) => l.includes('"socketDir"'));
  const socketDir = (JSON.parse(line!) as { socketDir: string }).socketDir;
  return createDb({ connection: { host: socketDir, port: 5432, user: 'postgres', database: 'postgres' }, schema: 'shop', poolSize: 1 });
}

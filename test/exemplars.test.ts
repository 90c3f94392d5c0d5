import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mergeShardResults } from '../src/analyzers/merge-results.js';
import type { RunResult } from '../src/analyzers/run-result.js';
import { EXEMPLARS_PER_ENDPOINT } from '../src/engine/slowest-requests.js';
import { loadScenario } from '../src/scenarios/load-scenario.js';
import { ExitCode } from '../src/exit-codes.js';
import { formatDuration } from '../src/shared/duration.js';
import { runBin, runCli, runScenario, tempFiles } from './helpers/cli.js';
import { startRawServer, type RawServer } from './helpers/raw-http-server.js';
import { runShardsInProcess } from './helpers/shard-results.js';

// Issue 17: scalectl sends a traceparent with each request and keeps the trace ids of each endpoint's slowest
// requests. The server records every traceparent it receives and answers /item/N slowly when N is a multiple of
// SLOW_EVERY (deterministic by path): the slowest requests kept must be those, by the trace ids the server saw.
// SLOW_EVERY is odd: two engine threads or shards take the even and the odd iterations, and each gets slow ones
// (with 4, all went to one slice, and a merge that dropped the other's exemplars went unseen).

const SLOW_EVERY = 3;
/** How long a slow request waits before its answer, milliseconds: far above a loopback answer (well under 10 ms). */
const SLOW_MS = 250;
/** 20 arrivals (500 ms at 40/s), iterations 0-19: 7 of them slow (4 even, 3 odd), more than K. */
const PHASES = 'phases: [{ duration: 500ms, arrivalRate: 40 }]';
const FORMAT = /^00-([0-9a-f]{32})-[0-9a-f]{16}-01$/;

let server: RawServer;
beforeAll(async () => {
  server = await startRawServer(async (req, conn) => {
    const n = Number(/^\/item\/(\d+)$/.exec(req.target)?.[1]);
    if (n % SLOW_EVERY === 0) await delay(SLOW_MS);
    await conn.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
  });
});
afterAll(() => server.close());

/** The traceparent each request carried (undefined: none), from the requests received since `from`. */
function received(from: number): { target: string; traceparent: string | undefined }[] {
  return server.requests.slice(from).map((r) => ({ target: r.target, traceparent: r.headers.find(([k]) => k.toLowerCase() === 'traceparent')?.[1] }));
}

const isSlow = (target: string): boolean => Number(target.split('/').pop()) % SLOW_EVERY === 0;

const scenario = (defaults: string, step = '', name = 'item'): string => `name: exemplars
target: ${server.origin}
defaults: { ${defaults} }
${PHASES}
flows: [{ name: f, steps: [{ name: ${name}, get: "/item/{{ iteration }}"${step} }] }]
`;

/** The iterations' parities (their engine thread's or shard's slice of 2) the kept trace ids were sent by. */
function slicesOf(kept: readonly { traceId: string }[], seen: ReturnType<typeof received>): Set<number> {
  const byId = new Map(seen.map((s) => [FORMAT.exec(s.traceparent ?? '')?.[1], Number(s.target.split('/').pop())]));
  return new Set(kept.map((e) => byId.get(e.traceId)! % 2));
}

/** The server saw one fresh traceparent per request; the exemplars are the slow requests, by those trace ids. */
function expectSlowestBySeenIds(result: RunResult, seen: ReturnType<typeof received>, name = 'item'): void {
  expect(seen.length).toBe(result.totals.requests);
  const ids = seen.map((s) => FORMAT.exec(s.traceparent ?? '')?.[1]);
  expect(ids.every((id) => id !== undefined)).toBe(true);
  expect(new Set(ids).size).toBe(seen.length);
  const slowIds = new Set(seen.filter((s) => isSlow(s.target)).map((s) => FORMAT.exec(s.traceparent!)![1]));
  expect(slowIds.size).toBeGreaterThanOrEqual(EXEMPLARS_PER_ENDPOINT);
  const kept = result.exemplars?.[name] ?? [];
  expect(kept).toHaveLength(EXEMPLARS_PER_ENDPOINT);
  for (const e of kept) {
    expect(slowIds.has(e.traceId)).toBe(true);
    expect(e.latencyMs).toBeGreaterThanOrEqual(SLOW_MS - 1);
    expect(e.status).toBe(200);
    expect(e.atS).toBeGreaterThanOrEqual(0);
    expect(e.atS).toBeLessThan(result.durationSec);
  }
  expect(kept.map((e) => e.latencyMs)).toEqual([...kept.map((e) => e.latencyMs)].sort((a, b) => b - a));
}

describe('traceparent and exemplars, in-process against a recording server', () => {
  it.each([
    ['auto', 'lean'],
    ['undici', 'undici'],
  ] as const)('httpClient %s: each request sent by the %s path carries a fresh traceparent; the slowest are kept by their trace ids and shown', async (mode, path) => {
    const from = server.requests.length;
    const dir = await tempFiles({});
    const { code, stdout, result } = await runScenario(scenario(`httpClient: ${mode}`), { args: ['--html', join(dir, 'r.html'), '--summary-md', join(dir, 'r.md')] });
    expect(code).toBe(0);
    expect(result.generator.httpClient![path]).toBe(result.totals.requests);
    expectSlowestBySeenIds(result, received(from));
    const top = result.exemplars!.item![0]!;
    expect(stdout).toContain('slowest request');
    expect(stdout).toContain(top.traceId);
    const html = await readFile(join(dir, 'r.html'), 'utf8');
    for (const e of result.exemplars!.item!) expect(html).toContain(`<code>${e.traceId}</code>`);
    expect(await readFile(join(dir, 'r.md'), 'utf8')).toContain(`| item | ${formatDuration(top.latencyMs)} | 200 | \` ${top.traceId} \` |`);
    // report reads them back from the result; a result whose exemplars are malformed is refused (exit 3), naming the field.
    const bad = { ...result, exemplars: { item: [{ ...top, latencyMs: 'slow' }] } };
    await writeFile(join(dir, 'bad.json'), JSON.stringify(bad));
    const refused = await runCli(['report', 'bad.json', '--html', 'bad.html'], { cwd: dir });
    expect(refused.code).toBe(ExitCode.invalidInput);
    expect(refused.stderr).toContain('bad.json: exemplars["item"][0].latencyMs: expected a number, got "slow"');
  });

  it("a step's own traceparent is sent as written and names its exemplars; defaults.traceparent: false sends none and keeps none", async () => {
    const own = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    let from = server.requests.length;
    const mine = await runScenario(scenario('', `, headers: { TraceParent: "${own}" }`));
    expect(mine.code).toBe(0);
    expect(received(from).map((s) => s.traceparent)).toEqual(Array(mine.result.totals.requests).fill(own));
    expect(mine.result.exemplars!.item!.map((e) => e.traceId)).toEqual(Array(EXEMPLARS_PER_ENDPOINT).fill(own.slice(3, 35)));

    from = server.requests.length;
    const off = await runScenario(scenario('traceparent: false'));
    expect(off.code).toBe(0);
    expect(off.result.totals.requests).toBeGreaterThan(0);
    expect(received(from).filter((s) => s.traceparent !== undefined)).toEqual([]);
    expect(off.result.exemplars).toEqual({});
    expect(off.stdout).not.toContain('slowest request');
  });

  it('--workers 2 (built bin): each engine thread keeps its slowest, the run keeps the K slowest of both', async () => {
    const from = server.requests.length;
    const dir = await tempFiles({ 's.yaml': scenario('') });
    const r = await runBin(['run', 's.yaml', '--workers', '2', '--out', 'r.json', '--no-progress'], { cwd: dir });
    expect(r.stderr).not.toContain('internal error');
    expect(r.code).toBe(0);
    const result = JSON.parse(await readFile(join(dir, 'r.json'), 'utf8')) as RunResult;
    expect(result.generator.workers).toBe(2);
    const seen = received(from);
    expectSlowestBySeenIds(result, seen);
    // Each thread's slice had slow requests (at most 4 of K = 5): the run's K come from both threads.
    expect(slicesOf(result.exemplars!.item!, seen)).toEqual(new Set([0, 1]));
  });

  // The step is named `constructor`: a name Object.prototype has, which a plain lookup of a shard's record finds.
  it('two shards keep their own slowest; scalectl merge keeps the K slowest of both on the merged clock, every trace id one the server saw', async () => {
    const name = 'constructor';
    const from = server.requests.length;
    const dir = await tempFiles({ 's.yaml': scenario('', '', name) });
    const loaded = await loadScenario(join(dir, 's.yaml'));
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.issues));
    const shards = await runShardsInProcess(loaded.loaded, server.origin, 2);
    const seen = received(from);
    for (const s of shards) expect(s.exemplars![name]!.length).toBeGreaterThan(0);
    // Shard 2 as if it ran 2 s after shard 1: its exemplars' atS move by as much onto the merged clock.
    const laterMs = Date.parse(shards[0]!.startedAt) + 2000;
    const endedAt = new Date(Date.parse(shards[1]!.endedAt) + 2000).toISOString();
    const later = { ...shards[1]!, startedAt: new Date(laterMs).toISOString(), endedAt };
    const shiftS = (laterMs - Date.parse(shards[0]!.startedAt)) / 1000;
    const m = mergeShardResults([{ source: 'shard-1.json', result: shards[0]! }, { source: 'shard-2.json', result: later }]);
    if ('problem' in m) throw new Error(m.problem);
    expectSlowestBySeenIds(m.result, seen, name);
    const merged = m.result.exemplars![name]!;
    expect(slicesOf(merged, seen)).toEqual(new Set([0, 1]));
    const own = new Map(shards.flatMap((s, i) => s.exemplars![name]!.map((e) => [e.traceId, { i, atS: e.atS }] as const)));
    for (const e of merged) {
      const o = own.get(e.traceId)!;
      expect(o).toBeDefined();
      expect(e.atS).toBeCloseTo(o.atS + (o.i === 1 ? shiftS : 0), 3);
    }
    expect(merged.some((e) => own.get(e.traceId)!.i === 1)).toBe(true);
    // A shard that kept none for the endpoint (its key absent) adds none: the other's are kept, nothing crashes.
    const none = mergeShardResults([{ source: 'shard-1.json', result: { ...shards[0]!, exemplars: {} } }, { source: 'shard-2.json', result: shards[1]! }]);
    if ('problem' in none) throw new Error(none.problem);
    expect(none.result.exemplars![name]!.map((e) => e.traceId)).toEqual(shards[1]!.exemplars![name]!.map((e) => e.traceId));
  });
});

describe('a request never written is never kept', () => {
  // A server that takes requests and never answers, behind one connection: the first request is written and
  // held, the others wait for the connection and time out there. Their trace ids never reached the server,
  // and at the deadline they are as slow as the written ones: they must not take the slowest's places.
  let silent: RawServer;
  beforeAll(async () => {
    silent = await startRawServer((_req, conn) => conn.closed);
  });
  afterAll(() => silent.close());

  it.each(['auto', 'undici'] as const)('httpClient %s: every kept trace id is one the server received, none of a request that waited for the connection', async (mode) => {
    const from = silent.requests.length;
    // 100 arrivals 2.5 ms apart: each deadline sweep (25 ms) times out about 10 waiting requests, and one written
    // request frees the connection for one more, so about 1 in 10 is written.
    const { code, result } = await runScenario(`name: unsent
target: ${silent.origin}
defaults: { httpClient: ${mode}, connections: 1, timeout: 300ms }
phases: [{ duration: 250ms, arrivalRate: 400 }]
flows: [{ name: f, steps: [{ name: item, get: /item }] }]
`);
    expect(code).not.toBe(ExitCode.internal);
    const seen = new Set(silent.requests.slice(from).map((r) => FORMAT.exec(r.headers.find(([k]) => k === 'traceparent')?.[1] ?? '')?.[1]));
    // Most requests were never written (the case under test), and all of them timed out.
    expect(result.totals.requests).toBeGreaterThan(seen.size + EXEMPLARS_PER_ENDPOINT);
    expect(result.totals.errorsByKind.timeout).toBe(result.totals.requests);
    const kept = result.exemplars?.item ?? [];
    expect(kept.length).toBeGreaterThan(0);
    for (const e of kept) {
      expect(seen.has(e.traceId)).toBe(true);
      expect(e.error).toBe('timeout');
    }
  });
});

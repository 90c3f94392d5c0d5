import { describe, expect, it } from 'vitest';
import { mergeFinals, type TimeseriesPoint } from '../engine/aggregator.js';
import { decodeHistogram, encodeHistogram, newHistogram, recordMs, summarizeHistogram, type Histogram } from '../engine/latency-histogram.js';
import { emptyCounts, addCounts, type Counts } from '../engine/recorder.js';
import { MAX_FALLBACK_REASONS, type HttpClientUsage } from '../engine/http-exchange.js';
import { judgeGenerator } from './generator-health.js';
import { mergeShardResults, START_LATE_WARNING_MS, START_SPREAD_WARNING, type ShardInput } from './merge-results.js';
import { assembleRunResult, type ResultShape, type RunResult } from './run-result.js';
import type { TelemetrySummary } from './telemetry.js';
import { EXEMPLARS_PER_ENDPOINT, type Exemplar } from '../engine/slowest-requests.js';

/** One request as a synthetic shard recorded it: its second, endpoint index, latency and status. */
interface Sample { second: number; endpoint: number; ms: number; status: number }

const SHAPE: ResultShape = {
  scenario: { name: 'synthetic', file: 's.yaml' },
  endpoints: [{ name: 'GET /a', method: 'GET' }, { name: 'POST /b', method: 'POST' }],
  flows: [{ name: 'f', thinkMs: 0 }],
  checkNames: ['status is 200'],
  thresholds: ['p95 < 300ms', 'GET /a: p50 < 1s', 'error_rate < 50%', 'checks > 10%'],
};
const DEFAULTS = ['dropped_rate <= 1%'];
const HASH = 'a'.repeat(64);
const T0 = Date.parse('2026-12-03T10:00:00.000Z');

/** Mulberry32: the same numbers on every run. */
function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function samples(seed: number, n: number, seconds: number, scaleMs: number): Sample[] {
  const rnd = seeded(seed);
  return Array.from({ length: n }, () => ({
    second: Math.floor(rnd() * seconds), endpoint: rnd() < 0.6 ? 0 : 1, ms: 1 + rnd() * rnd() * scaleMs, status: rnd() < 0.05 ? 500 : 200,
  }));
}

function record(ss: readonly Sample[]): { counts: Counts; hist: Histogram } {
  const counts = emptyCounts();
  const hist = newHistogram();
  for (const s of ss) {
    addCounts(counts, { requests: 1, errors: s.status >= 500 ? 1 : 0, statusCodes: { [s.status]: 1 }, errorsByKind: s.status >= 500 ? { http_5xx: 1 } : {} });
    recordMs(hist, s.ms);
  }
  return { counts, hist };
}

/**
 * A shard's result as `run --shard` writes it, built by the code run uses
 * (assembleRunResult) from real histograms of `ss`: each sample one request and
 * one iteration of flow f; `index` 0 means a whole run (no shard key).
 */
function synth(ss: readonly Sample[], o: { index: number; count: number; startMs?: number; seconds: number; startLateMs?: number; telemetry?: TelemetrySummary; httpClient?: HttpClientUsage }): RunResult {
  const startMs = o.startMs ?? T0;
  const endpoints = SHAPE.endpoints.map((_, i) => record(ss.filter((s) => s.endpoint === i)));
  const all = record(ss);
  const ok = ss.filter((s) => s.status === 200).length;
  const it = { offered: ss.length, arrivals: ss.length, started: ss.length, dropped: 0, completed: ok, failed: ss.length - ok };
  const final = mergeFinals([{
    endpoints: endpoints.map((e) => ({ counts: e.counts, hist: encodeHistogram(e.hist) })),
    flows: [{ iterations: it, hist: encodeHistogram(all.hist) }],
    errorSamples: ss.some((s) => s.status >= 500) ? { http_5xx: `HTTP 500 from shard ${o.index || 1}` } : {},
    checks: [{ passes: ok, fails: ss.length - ok }],
    ...(o.httpClient ? { httpClient: o.httpClient } : {}),
  }]);
  const hists: string[] = [];
  const timeseries: TimeseriesPoint[] = Array.from({ length: o.seconds }, (_, t) => {
    const sec = ss.filter((s) => s.second === t);
    const r = record(sec);
    hists.push(encodeHistogram(r.hist));
    const sum = summarizeHistogram(r.hist);
    const good = sec.filter((s) => s.status === 200).length;
    return {
      t, offeredRps: sec.length, achievedRps: sec.length, rps: sec.length, p50: sum.p50, p95: sum.p95, p99: sum.p99, errors: r.counts.errors,
      errorsByKind: r.counts.errorsByKind, dropped: 0, inFlight: 0, checks: { 'status is 200': { passes: good, fails: sec.length - good } },
      generator: { elu: 0.2 + o.index / 10, loopLagP99Ms: o.index, loopLagMaxMs: o.index, scheduleLagP99Ms: 1, cpuPercent: 20 * o.index, windowMs: 1000, connectionQueue: 0 },
    };
  });
  const result = assembleRunResult(SHAPE, {
    startedAt: new Date(startMs), endedAt: new Date(startMs + o.seconds * 1000 + 200), durationSec: o.seconds + 0.2, loadDurationSec: o.seconds, aborted: false,
    phases: [{ name: 'steady', kind: 'arrivalRate', startSec: 0, durationSec: o.seconds }],
    timeseries, final,
    generator: judgeGenerator(timeseries, { workers: 1, maxInFlight: 100, connections: 256, connectionsSet: false, cores: 2 }, 0),
  }, { target: 'http://127.0.0.1:1', defaultThresholds: DEFAULTS, ...(o.telemetry ? { telemetry: { summary: o.telemetry, points: [{ t: 1, cpuPercent: 42 }] } } : {}) });
  if (o.index === 0) return result;
  return {
    ...result,
    host: { hostname: `gen-${o.index}`, os: 'linux', cpu: 'x', cores: 2, memoryGiB: 4, node: 'v20', scalectl: '0' },
    shard: { index: o.index, count: o.count, scenarioHash: HASH, startAt: new Date(T0).toISOString(), startLateMs: o.startLateMs ?? 0, workers: 1 },
    timeseries: result.timeseries.map((p, i) => ({ ...p, histogram: hists[i]! })),
  };
}

const input = (result: RunResult, source = `shard-${result.shard?.index}.json`): ShardInput => ({ source, result });

function merged(inputs: ShardInput[]): RunResult {
  const m = mergeShardResults(inputs);
  if ('problem' in m) throw new Error(m.problem);
  return m.result;
}

function problem(inputs: ShardInput[]): string {
  const m = mergeShardResults(inputs);
  if (!('problem' in m)) throw new Error('expected a problem');
  return m.problem;
}

describe('mergeShardResults', () => {
  const a = samples(1, 900, 4, 80);
  const b = samples(2, 700, 4, 400);
  const shards = [synth(a, { index: 1, count: 2, seconds: 4 }), synth(b, { index: 2, count: 2, seconds: 4 })];
  const whole = synth([...a, ...b], { index: 0, count: 1, seconds: 4 });

  it('gives exactly the histograms of all the values, and what one process recording them all would have written', () => {
    const m = merged(shards.map((s) => input(s)));
    for (const e of SHAPE.endpoints) {
      const all = newHistogram();
      for (const s of [...a, ...b].filter((x) => SHAPE.endpoints[x.endpoint] === e)) recordMs(all, s.ms);
      expect(m.histograms[e.name]).toBe(encodeHistogram(all));
      expect(decodeHistogram(m.histograms[e.name]!).totalCount).toBe(all.totalCount);
    }
    const { generator: _g, ...rest } = m;
    const { generator: _w, ...wholeRest } = whole;
    expect({ ...rest, timeseries: rest.timeseries.map(({ generator: _x, ...p }) => p) }).toEqual({
      ...wholeRest, timeseries: wholeRest.timeseries.map(({ generator: _x, ...p }) => p), merged: { shards: 2, scenarioHash: HASH },
    });
    expect(m).not.toHaveProperty('shard');
    expect(m.totals.requests).toBe(a.length + b.length);
  });

  it('judges thresholds on the merged data: p95 from the added histograms, not from averaged percentiles', () => {
    const fast = synth(Array.from({ length: 90 }, (_, i) => ({ second: 0, endpoint: 0, ms: 10 + (i % 3), status: 200 })), { index: 1, count: 2, seconds: 1 });
    const slow = synth(Array.from({ length: 10 }, () => ({ second: 0, endpoint: 0, ms: 500, status: 200 })), { index: 2, count: 2, seconds: 1 });
    // Averaged, the shards' p95s (about 12 ms and 500 ms) would pass p95 < 300ms; the merged p95 is 500 ms.
    expect((fast.totals.latencyMs.p95 + slow.totals.latencyMs.p95) / 2).toBeLessThan(300);
    const m = merged([input(fast), input(slow)]);
    const p95 = m.thresholds.find((t) => t.expression === 'p95 < 300ms')!;
    expect(p95).toMatchObject({ ok: false, actual: m.totals.latencyMs.p95 });
    expect(p95.actual).toBeGreaterThanOrEqual(500);
    expect(m.passed).toBe(false);
    // The scenario's own thresholds, then the defaults, marked so, in the order the shards carried them.
    expect(m.thresholds.map((t) => [t.expression, t.default ?? false])).toEqual([...SHAPE.thresholds.map((t) => [t, false]), ...DEFAULTS.map((t) => [t, true])]);
    expect(merged(shards.map((s) => input(s))).thresholds).toEqual(whole.thresholds);
  });

  it('aligns seconds by wall clock: a shard started 1.4 s late adds its second t to merged second t + 1', () => {
    const late = synth(b, { index: 2, count: 2, seconds: 4, startMs: T0 + 1400, startLateMs: 1400 });
    const m = merged([input(shards[0]!), input(late)]);
    expect(m.startedAt).toBe(new Date(T0).toISOString());
    expect(m.timeseries.map((p) => p.t)).toEqual([0, 1, 2, 3, 4]);
    for (const t of [0, 1, 2, 3, 4]) {
      const values = [...a.filter((s) => s.second === t), ...b.filter((s) => s.second === t - 1)];
      const h = newHistogram();
      for (const s of values) recordMs(h, s.ms);
      const sum = summarizeHistogram(h);
      expect(m.timeseries[t], `second ${t}`).toMatchObject({ rps: values.length, p50: sum.p50, p95: sum.p95, p99: sum.p99 });
    }
    // Load ran until the late shard's end: 1.4 s more than the schedule.
    expect(m.loadDurationSec).toBe(5.4);
    expect(m.totals.rps).toBe(Math.round(((a.length + b.length) / 5.4) * 100) / 100);
    expect(m.generator.shards!.map((s) => [s.index, s.hostname, s.startLateMs])).toEqual([[1, 'gen-1', 0], [2, 'gen-2', 1400]]);
    expect(1400).toBeGreaterThanOrEqual(START_LATE_WARNING_MS);
    expect(m.generator.warnings[0]).toMatch(/^shard 2 started 1.4 s after the agreed start/);
    expect(m.generator.warnings[1]).toMatch(/^the shards started up to 1.4 s apart \(shard 1 first, shard 2 last\)/);
  });

  it('warns when the starts spread over more than 1% of the load and 100 ms, even under a second late: the rates are per the merged load', () => {
    const after = (ms: number, seconds = 4): RunResult => synth(b, { index: 2, count: 2, seconds, startMs: T0 + ms, startLateMs: ms });
    const spread = (ms: number, seconds = 4): string[] => merged([input(synth(a, { index: 1, count: 2, seconds })), input(after(ms, seconds))]).generator.warnings;
    expect(START_SPREAD_WARNING).toEqual({ share: 0.01, minMs: 100 });
    const m = merged([input(shards[0]!), input(after(300))]);
    expect(m.loadDurationSec).toBe(4.3);
    expect(m.generator.warnings).toEqual(['the shards started up to 0.3 s apart (shard 1 first, shard 2 last): every rate is per the merged load duration ' +
      '(4.3 s, from the first start to the last shard\'s end), so rates read up to 7% below what one process would have measured']);
    // Within 100 ms, or within 1% of the load (20 s: 200 ms), nothing to say.
    expect(spread(100)).toEqual([]);
    expect(spread(150, 20)).toEqual([]);
    expect(spread(250, 20)).toHaveLength(1);
  });

  it('adds counters, checks and error kinds; keeps the first error sample; takes phases and telemetry from shard 1', () => {
    const telemetry = { source: 'http://127.0.0.1:1/metrics', scrapes: { ok: 3, failed: 0 }, warnings: [], cacheHitRatio: null, cacheLookups: null, queueDepth: null, jobs: null,
      queueDrainTimeSec: null, drain: null, cpu: { workers: {}, totalPercent: { mean: 30, max: 42 }, maxPercent: 42, meanPercent: 30 }, eventLoopLagMs: null, replicas: null, custom: {} } satisfies TelemetrySummary;
    const one = synth(a, { index: 1, count: 2, seconds: 4, telemetry });
    const m = merged([input(shards[1]!), input(one)]);
    expect(m.totals.statusCodes['500']).toBe([...a, ...b].filter((s) => s.status === 500).length);
    expect(m.totals.errorsByKind.http_5xx).toBe(m.totals.errors);
    expect(m.checks).toEqual([{ name: 'status is 200', passes: m.totals.statusCodes['200'], fails: m.totals.statusCodes['500'] }]);
    expect(m.flows[0]).toMatchObject({ offered: a.length + b.length, completed: m.totals.statusCodes['200'] });
    expect(m.errorSamples.http_5xx).toBe('HTTP 500 from shard 1');
    expect(m.telemetry).toEqual(telemetry);
    expect(m.timeseries[1]!.cpuPercent).toBe(42);
    expect(m.timeseries[1]!.checks!['status is 200']!.passes).toBe([...a, ...b].filter((s) => s.second === 1 && s.status === 200).length);
    expect(m.generator).toMatchObject({ workers: 2, saturated: false, cpuPercent: { max: 40 } });
    expect(m.timeseries.every((p) => !('histogram' in p))).toBe(true);
  });

  it("adds the shards' requests by HTTP client path, reasons in the order first seen, at most MAX_FALLBACK_REASONS", () => {
    const reasons = (from: number, n: number): string[] => Array.from({ length: n }, (_, i) => `reason ${from + i}`);
    const one = synth(a, { index: 1, count: 2, seconds: 4, httpClient: { lean: a.length - 100, undici: 100, undiciReasons: reasons(0, 4) } });
    const two = synth(b, { index: 2, count: 2, seconds: 4, httpClient: { lean: b.length - 300, undici: 300, undiciReasons: reasons(2, 9) } });
    expect(one.generator.httpClient).toEqual({ lean: a.length - 100, undici: 100, undiciReasons: reasons(0, 4) });
    const m = merged([input(two), input(one)]);
    // Shards are merged in index order: shard 1's reasons first, then shard 2's new ones, up to the cap.
    expect(m.generator.httpClient).toEqual({ lean: a.length + b.length - 400, undici: 400, undiciReasons: reasons(0, MAX_FALLBACK_REASONS) });
    expect(m.generator.httpClient!.lean + m.generator.httpClient!.undici).toBe(m.totals.requests);
    // A result written before it was recorded still merges; the merge then has none (a part is not the whole).
    expect(shards[0]!.generator).not.toHaveProperty('httpClient');
    expect(merged([input(one), input(shards[1]!)]).generator).not.toHaveProperty('httpClient');
    expect(merged(shards.map((s) => input(s))).generator).not.toHaveProperty('httpClient');
    // Credentials in a reason never reach a result.
    const secret = synth(a, { index: 1, count: 2, seconds: 4, httpClient: { lean: 0, undici: a.length, undiciReasons: ['https origin https://u:p@shop.example:443'] } });
    expect(secret.generator.httpClient!.undiciReasons).toEqual(['https origin https://***@shop.example:443']);
  });

  it('is aborted when any shard was', () => {
    const m = merged([input(shards[0]!), input({ ...shards[1]!, aborted: true })]);
    expect([m.aborted, m.passed]).toEqual([true, false]);
  });

  it('names what keeps the shards from merging', () => {
    const [one, two] = shards as [RunResult, RunResult];
    const of = (r: RunResult, shard: Partial<NonNullable<RunResult['shard']>>): RunResult => ({ ...r, shard: { ...r.shard!, ...shard } });
    expect(problem([input(one)])).toBe('missing shard 2 of 2');
    expect(problem([input(of(one, { count: 4 })), input(of(two, { count: 4, index: 4 }))])).toBe('missing shards 2 and 3 of 4');
    expect(problem([input(one), input(of(two, { index: 1 }), 'b.json'), input(two)])).toBe('shard 1 given twice (b.json and shard-1.json)');
    expect(problem([input(one), input(of(two, { scenarioHash: 'b'.repeat(64) }))])).toBe(`shard 2 is of another scenario (hash bbbbbbbbbbbb… in shard-2.json; shard 1's is aaaaaaaaaaaa… in shard-1.json)`);
    expect(problem([input(one), input({ ...two, target: 'http://10.0.0.9:8080' })])).toBe(
      'shard 2 ran against another target ("http://10.0.0.9:8080" in shard-2.json; shard 1\'s is "http://127.0.0.1:1" in shard-1.json): shards of one run load one target');
    // Compared masked: other credentials, the same target.
    expect(merged([input({ ...one, target: 'http://a:1@127.0.0.1:1' }), input({ ...two, target: 'http://b:2@127.0.0.1:1' })]).target).toBe('http://***@127.0.0.1:1');
    expect(problem([input({ ...one, target: 'http://a:1@127.0.0.1:1' }), input({ ...two, target: 'http://b:2@127.0.0.2:1' })])).toMatch(/^shard 2 ran against another target \("http:\/\/\*\*\*@127.0.0.2:1" in shard-2.json; shard 1's is "http:\/\/\*\*\*@127.0.0.1:1"/);
    expect(problem([input(one), input(of(two, { count: 3 }))])).toMatch(/^shard 2 \(shard-2.json\) is one of 3, shard 1 \(shard-1.json\) one of 2/);
    expect(problem([input(of(one, { index: 3 }))])).toBe('shard-3.json: shard 3 of 2 is not a shard of 2');
    expect(problem([input(whole, 'whole.json')])).toMatch(/^whole.json: not a shard's result \(no "shard" key\)/);
    expect(problem([input(merged([input(one), input(two)]), 'm.json')])).toMatch(/^m.json: already a merged result \(of 2 shards\)/);
    const noHist = { ...two, timeseries: two.timeseries.map(({ histogram: _h, ...p }) => p) };
    expect(problem([input(one), input(noHist)])).toMatch(/^shard-2.json: timeseries second 0 has no histogram/);
    expect(problem([input(one), input({ ...two, histograms: { ...two.histograms, 'GET /a': 'nope' } })])).toMatch(/^shard-2.json: histograms\["GET \/a"\] is not an encoded HdrHistogram/);
    expect(problem([])).toBe('no shard results given');
    // One target however it is spelled (case, default port, trailing slash).
    expect(merged([input({ ...one, target: 'http://127.0.0.1:80' }), input({ ...two, target: 'HTTP://127.0.0.1/' })]).merged).toEqual({ shards: 2, scenarioHash: one.shard!.scenarioHash });
    // A count no run can have is refused before anything is allocated for it; long lists of missing shards are cut.
    expect(problem([input(of(one, { count: 1e9 })), input(of(two, { count: 1e9 }))])).toBe('shard-1.json: shard.count: 1000000000 is not 1 to 1000');
    expect(problem([input(of(one, { count: 1000 })), input(of(two, { count: 1000 }))])).toBe(`missing shards ${Array.from({ length: 20 }, (_, i) => i + 3).join(', ')} and 978 more of 1000`);
    expect(problem([input(of(one, { index: 1.5 }), 'a.json')])).toBe('a.json: shard.index: expected a whole number, got "1.5"');
    expect(problem([input(of(one, { count: 2.5 }), 'a.json')])).toBe('a.json: shard.count: expected a whole number, got "2.5"');
  });

  it('refuses a result of the wrong shape with one line naming the file and the field, and a threshold that does not parse', () => {
    const [one, two] = shards as [RunResult, RunResult];
    const without = (key: keyof RunResult): RunResult => Object.fromEntries(Object.entries(two).filter(([k]) => k !== key)) as unknown as RunResult;
    const cases: [RunResult, string][] = [
      [without('generator'), 'generator: missing (expected a mapping)'],
      [without('timeseries'), 'timeseries: missing (expected a list)'],
      [without('flows'), 'flows: missing (expected a list)'],
      [without('endedAt'), 'endedAt: missing (expected an ISO-8601 time)'],
      [{ ...two, endedAt: 'soon' }, 'endedAt: expected an ISO-8601 time, got "soon"'],
      [{ ...two, timeseries: two.timeseries.map((p, i) => (i === 1 ? { ...p, rps: 'ten' as unknown as number } : p)) }, 'timeseries[1].rps: expected a number, got "ten"'],
      [{ ...two, generator: { ...two.generator, cpuPercent: { mean: 1 } as RunResult['generator']['cpuPercent'] } }, 'generator.cpuPercent.max: missing (expected a number)'],
      [{ ...two, shard: { ...two.shard!, startLateMs: null as unknown as number } }, 'shard.startLateMs: expected a number, got null'],
      [{ ...two, generator: { ...two.generator, httpClient: { lean: 1, undici: '2', undiciReasons: [] } as unknown as HttpClientUsage } }, 'generator.httpClient.undici: expected a number, got "2"'],
      [{ ...two, generator: { ...two.generator, httpClient: { lean: 1, undici: 2, undiciReasons: 'x' } as unknown as HttpClientUsage } }, 'generator.httpClient.undiciReasons: expected a list, got "x"'],
      [{ ...two, endpoints: [{ ...two.endpoints[0]!, statusCodes: { 200: '5' as unknown as number } }] }, 'endpoints[0].statusCodes["200"]: expected a number, got "5"'],
      [{ ...two, thresholds: [{ ...two.thresholds[0]!, expression: 'bogus' }] }, 'thresholds[0].expression: expected "<metric> <op> <value>" such as "p99 < 200ms" or "error_rate < 1%", got "bogus"'],
      // Collected telemetry is rendered whole: what the summary reads must be there.
      [{ ...two, telemetry: { source: 'http://x/metrics', custom: {} } as unknown as RunResult['telemetry'] }, 'telemetry.scrapes: missing (expected a mapping)'],
      [{ ...two, telemetry: { source: 'http://x/metrics', scrapes: { ok: 1, failed: 0 } } as unknown as RunResult['telemetry'] }, 'telemetry.custom: missing (expected a mapping)'],
      [{ ...two, telemetry: { source: 'http://x/metrics', scrapes: { ok: 1, failed: 0 }, custom: {}, cpu: 'zz' } as unknown as RunResult['telemetry'] }, 'telemetry.cpu: expected a mapping, got "zz"'],
    ];
    for (const [bad, field] of cases) {
      // Each is refused, not merged half-way (a crash with a stack trace, before).
      expect(problem([input(one), input(bad, 'two.json')]), field).toBe(`two.json: ${field}`);
    }
  });
});

describe('mergeShardResults: exemplars', () => {
  const ex = (traceId: string, latencyMs: number, atS: number): Exemplar => ({ traceId, latencyMs, atS, status: 200 });
  const a = samples(3, 200, 2, 80);
  const b = samples(4, 200, 2, 80);
  const one = { ...synth(a, { index: 1, count: 2, seconds: 2 }), exemplars: { 'GET /a': [ex('a1', 90, 1.5), ex('a2', 50, 0.25), ex('a3', 40, 1)] } };
  // Shard 2 started 2 s after shard 1: its times move by 2 s onto the merged clock.
  const two = {
    ...synth(b, { index: 2, count: 2, seconds: 2, startMs: T0 + 2000 }),
    exemplars: { 'GET /a': [ex('b1', 70, 0.5), ex('b2', 60, 0), ex('b3', 45, 1.25), ex('b4', 30, 1.75)], 'POST /b': [ex('b5', 20, 1)] },
  };

  it('keeps the K slowest of all shards per endpoint, slowest first, times from the merged start', () => {
    const m = merged([input(one), input(two)]);
    expect(EXEMPLARS_PER_ENDPOINT).toBe(5);
    expect(m.exemplars).toEqual({
      'GET /a': [ex('a1', 90, 1.5), ex('b1', 70, 2.5), ex('b2', 60, 2), ex('a2', 50, 0.25), ex('b3', 45, 3.25)],
      'POST /b': [ex('b5', 20, 3)],
    });
  });

  it('merges shards written before exemplars were kept (theirs count as none), and refuses malformed ones naming the field', () => {
    const { exemplars: _none, ...old } = two;
    expect(merged([input(one), input(old)]).exemplars).toEqual(one.exemplars);
    const bad = { ...two, exemplars: { 'GET /a': [{ traceId: 7, latencyMs: 1, atS: 0 }] } } as unknown as RunResult;
    expect(problem([input(one), input(bad)])).toBe('shard-2.json: exemplars["GET /a"][0].traceId: expected a string, got 7');
  });
});


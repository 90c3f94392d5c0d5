import { createServer, type IncomingMessage, type Server } from 'node:http';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { newHistogram, recordMs } from '../engine/latency-histogram.js';
import { emptyCounts } from '../engine/recorder.js';
import type { TimeseriesPoint } from '../engine/aggregator.js';
import { decodeWriteRequest, type WriteSeries } from './remote-write-encode.js';
import { REMOTE_WRITE_DEFAULTS, RemoteWriteStream, type RemoteWriteSettings } from './remote-write-stream.js';
import { LATENCY_BUCKETS_SECONDS, RemoteWriteSeries } from './remote-write-series.js';
import { streamSecond, type CheckCounts, type StreamSecond } from './stream-second.js';

const START = 1_800_000_000_000;
const run = { runId: 'abc', scenario: 'unit', endpoints: [{ name: 'GET /a', method: 'GET' }, { name: 'POST /b', method: 'POST' }] };

/** Second t: `a` requests to GET /a of `ms` each, one 503 on POST /b, optional checks. */
function second(t: number, a: number, ms: number, checks?: CheckCounts): StreamSecond {
  const ha = newHistogram();
  const hb = newHistogram();
  const ca = emptyCounts();
  const cb = emptyCounts();
  for (let i = 0; i < a; i++) recordMs(ha, ms);
  Object.assign(ca, { requests: a, statusCodes: { 200: a } });
  recordMs(hb, 2);
  Object.assign(cb, { requests: 1, errors: 1, statusCodes: { 503: 1 }, errorsByKind: { http_5xx: 1 } });
  const total = newHistogram();
  total.add(ha);
  total.add(hb);
  const point = { t, offeredRps: a + 1, achievedRps: a + 1, rps: a + 1, p50: 0, p95: 0, p99: 0, errors: 1, dropped: t, inFlight: 2, checks } as unknown as TimeseriesPoint;
  return streamSecond(run, point, total, { startAtEpochMs: START, endpoints: new Map([[0, { counts: ca, hist: ha }], [1, { counts: cb, hist: hb }]]) }, Infinity);
}

const value = (series: WriteSeries[], name: string, labels: Record<string, string> = {}): number | undefined =>
  series.find((s) => s.labels.__name__ === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.samples.at(-1)?.value;

describe('RemoteWriteSeries', () => {
  it('sends counters and buckets cumulative from the start, gauges per second, every series labelled', () => {
    const rw = new RemoteWriteSeries({ job: 'scalectl', run_id: 'abc', scenario: 'unit' });
    rw.next(second(0, 10, 7, { 'has id': { passes: 9, fails: 1 } }));
    const s = rw.next(second(1, 5, 300, { 'has id': { passes: 4, fails: 1 } }));
    expect(s.every((x) => x.labels.job === 'scalectl' && x.labels.run_id === 'abc' && x.labels.scenario === 'unit')).toBe(true);
    expect(s.every((x) => x.samples.length === 1 && x.samples[0]!.timestamp === START + 2000)).toBe(true);
    expect(value(s, 'scalectl_requests_total', { endpoint: 'GET /a' })).toBe(15);
    expect(value(s, 'scalectl_requests_total', { endpoint: 'POST /b' })).toBe(2);
    expect(value(s, 'scalectl_errors_total', { endpoint: 'POST /b', kind: 'http_5xx' })).toBe(2);
    expect(value(s, 'scalectl_errors_total', { endpoint: 'GET /a' })).toBeUndefined();
    // 10 at 7 ms and 5 at 300 ms: 10 within 10 ms, all 15 within 0.5 s.
    expect(value(s, 'scalectl_request_duration_seconds_bucket', { endpoint: 'GET /a', le: '0.005' })).toBe(0);
    expect(value(s, 'scalectl_request_duration_seconds_bucket', { endpoint: 'GET /a', le: '0.01' })).toBe(10);
    expect(value(s, 'scalectl_request_duration_seconds_bucket', { endpoint: 'GET /a', le: '0.25' })).toBe(10);
    expect(value(s, 'scalectl_request_duration_seconds_bucket', { endpoint: 'GET /a', le: '0.5' })).toBe(15);
    expect(value(s, 'scalectl_request_duration_seconds_bucket', { endpoint: 'GET /a', le: '+Inf' })).toBe(15);
    expect(s.filter((x) => x.labels.__name__ === 'scalectl_request_duration_seconds_bucket' && x.labels.endpoint === 'GET /a')).toHaveLength(LATENCY_BUCKETS_SECONDS.length + 1);
    expect(value(s, 'scalectl_request_duration_seconds_count', { endpoint: 'GET /a' })).toBe(15);
    expect(value(s, 'scalectl_request_duration_seconds_sum', { endpoint: 'GET /a' })).toBeCloseTo(10 * 0.007 + 5 * 0.3, 2);
    expect(value(s, 'scalectl_checks_total', { check: 'has id', result: 'pass' })).toBe(13);
    expect(value(s, 'scalectl_checks_total', { check: 'has id', result: 'fail' })).toBe(2);
    expect(value(s, 'scalectl_dropped_iterations_total')).toBe(1);
    expect(value(s, 'scalectl_offered_rate')).toBe(6);
    expect(value(s, 'scalectl_in_flight')).toBe(2);
    expect(value(s, 'scalectl_latency_window_seconds', { quantile: '1' })).toBeCloseTo(0.3, 3);
  });
});

interface Endpoint { url: string; bodies: WriteSeries[][]; requests: IncomingMessage[]; server: Server }

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => {
    s.closeAllConnections();
    return new Promise((r) => s.close(r));
  }));
});

/** A remote-write receiver on port 0 answering each request with `answer(n)` (n from 0); 'hang' never answers. */
async function receiver(answer: (n: number) => number | 'hang'): Promise<Endpoint> {
  const ep = { bodies: [], requests: [] } as unknown as Endpoint;
  ep.server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const a = answer(ep.requests.length);
      ep.requests.push(req);
      if (a === 'hang') return;
      if (a < 300) ep.bodies.push(decodeWriteRequest(new Uint8Array(Buffer.concat(chunks))));
      res.statusCode = a;
      res.end(a >= 400 ? 'out of bounds' : '');
    });
  });
  servers.push(ep.server);
  await new Promise<void>((r) => ep.server.listen(0, '127.0.0.1', r));
  ep.url = `http://127.0.0.1:${(ep.server.address() as { port: number }).port}/api/v1/write`;
  return ep;
}

const fast: RemoteWriteSettings = { ...REMOTE_WRITE_DEFAULTS, backoffMs: 20, maxBackoffMs: 50, closeTimeoutMs: 2000 };

describe('RemoteWriteStream', () => {
  it('posts snappy protobuf with the remote write headers and the URL credentials as Basic auth', async () => {
    const ep = await receiver(() => 204);
    const warnings: string[] = [];
    const stream = new RemoteWriteStream(ep.url.replace('http://', 'http://user:secret@'), run, (l) => warnings.push(l), fast);
    stream.write(second(0, 3, 5));
    const { summary } = await stream.close();
    expect(summary).toBe(`prometheus-rw ${ep.url.replace('http://', 'http://***@')}: 1 s of samples sent in 1 request`);
    const h = ep.requests[0]!.headers;
    expect([h['content-encoding'], h['content-type'], h['x-prometheus-remote-write-version']]).toEqual(['snappy', 'application/x-protobuf', '0.1.0']);
    expect(h.authorization).toBe(`Basic ${Buffer.from('user:secret').toString('base64')}`);
    expect(value(ep.bodies[0]!, 'scalectl_requests_total', { endpoint: 'GET /a' })).toBe(3);
    expect(warnings).toEqual([]);
  });

  it('retries a failing endpoint in order, warns once, and sends every second once it is back', async () => {
    const ep = await receiver((n) => (n < 3 ? 503 : 204));
    const warnings: string[] = [];
    const stream = new RemoteWriteStream(ep.url, run, (l) => warnings.push(l), fast);
    for (let t = 0; t < 4; t++) {
      stream.write(second(t, 1, 5));
      await new Promise((r) => setTimeout(r, 30));
    }
    // The endpoint is back once it answered 204: wait for that (on a busy machine the retries
    // take longer than the writes), then close, which sends what is still queued.
    await vi.waitFor(() => expect(ep.requests.length).toBeGreaterThan(3), { timeout: 20_000, interval: 10 });
    const { summary } = await stream.close();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/cannot send \(HTTP 503: out of bounds\); retrying in the background/);
    expect(summary).toMatch(/: 4 s of samples sent in \d+ requests$/);
    // Every series got each second once, oldest first.
    const byKey = new Map<string, number[]>();
    for (const body of ep.bodies) for (const s of body) {
      const key = JSON.stringify(s.labels);
      byKey.set(key, [...(byKey.get(key) ?? []), ...s.samples.map((x) => x.timestamp)]);
    }
    for (const times of byKey.values()) expect(times).toEqual([1, 2, 3, 4].map((k) => START + k * 1000));
    expect(value(ep.bodies.at(-1)!, 'scalectl_requests_total', { endpoint: 'GET /a' })).toBe(4);
  });

  it('drops what the endpoint refuses (4xx) without retrying it', async () => {
    const ep = await receiver(() => 400);
    const warnings: string[] = [];
    const stream = new RemoteWriteStream(ep.url, run, (l) => warnings.push(l), fast);
    stream.write(second(0, 1, 5));
    await new Promise((r) => setTimeout(r, 100));
    stream.write(second(1, 1, 5));
    const { summary } = await stream.close();
    expect(ep.requests).toHaveLength(2);
    expect(warnings).toEqual([expect.stringMatching(/cannot send \(HTTP 400: out of bounds\); what it refuses is dropped/)]);
    expect(summary).toMatch(/: 0 s of samples sent in 2 requests; 2 s dropped \(HTTP 400: out of bounds\)$/);
  });

  it('keeps a bounded queue while the endpoint is away and waits a bounded time at the end', async () => {
    const ep = await receiver(() => 'hang');
    const warnings: string[] = [];
    const stream = new RemoteWriteStream(ep.url, run, (l) => warnings.push(l), { ...fast, maxQueuedSeconds: 3, requestTimeoutMs: 200, closeTimeoutMs: 300 });
    for (let t = 0; t < 10; t++) stream.write(second(t, 1, 5));
    const started = Date.now();
    const { summary } = await stream.close();
    expect(Date.now() - started).toBeLessThan(1500);
    expect(summary).toMatch(/: 0 s of samples sent in \d+ requests?; 10 s dropped \((timed out|cut short at the end of the run)\)$/);
    expect(warnings).toHaveLength(1);
  });
});

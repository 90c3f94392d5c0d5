import type { Worker } from 'node:cluster';
import { EventEmitter } from 'node:events';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createClusterMetrics, type ClusterMetrics } from './cluster-metrics.js';
import { MSG, type PrimaryMessage } from './cluster-messages.js';
import { KeptCounters, sumMonotone } from './kept-counters.js';
import { metricLines } from '../../test/helpers/shop.js';

/** A cluster worker stand-in: answers the primary's collect requests with its own registry, unless told to stay silent. */
class FakeWorker extends EventEmitter {
  readonly registry = new Registry();
  readonly checkouts = new Counter({ name: 'shop_checkouts_total', help: 'h', labelNames: ['result'] as const, registers: [this.registry] });
  readonly duration = new Histogram({ name: 'shop_http_request_duration_seconds', help: 'h', buckets: [0.1, 1], registers: [this.registry] });
  readonly inFlight = new Gauge({ name: 'shop_http_requests_in_flight', help: 'h', registers: [this.registry] });
  readonly cpu = new Counter({ name: 'shop_worker_cpu_seconds_total', help: 'h', labelNames: ['worker'] as const, registers: [this.registry] });
  silent = false;
  private readonly replies = new Map<string, (body: string) => void>();

  isConnected(): boolean {
    return true;
  }
  send(msg: PrimaryMessage): void {
    if (msg.type === MSG.metricsCollect && !this.silent) {
      void this.registry.getMetricsAsJSON().then((metrics) => this.emit('message', { type: MSG.metricsJson, id: msg.id, metrics }));
    }
    if (msg.type === MSG.metricsReply) this.replies.get(msg.id)?.(msg.body);
  }
  /** Serves /metrics: asks the primary for the merged exposition. */
  scrape(): Promise<string> {
    const id = String(Math.random());
    return new Promise((resolve) => {
      this.replies.set(id, resolve);
      this.emit('message', { type: MSG.metricsRequest, id });
    });
  }
}


function cluster(n: number): { metrics: ClusterMetrics; workers: FakeWorker[] } {
  const metrics = createClusterMetrics();
  const workers = Array.from({ length: n }, () => new FakeWorker());
  for (const w of workers) {
    metrics.attach(w as unknown as Worker);
    metrics.ready(w as unknown as Worker, 'web');
  }
  return { metrics, workers };
}

let serial = 0;
const load = (w: FakeWorker, checkouts: number, slow: number): void => {
  w.checkouts.inc({ result: 'accepted' }, checkouts);
  w.cpu.inc({ worker: String(++serial) }, 1);
  for (let i = 0; i < slow; i++) w.duration.observe(0.5);
  w.inFlight.set(checkouts);
};

afterEach(() => void vi.useRealTimers());

describe('cluster metrics', () => {
  it('keep a gone worker\'s counters and histogram buckets in the sums, and drop its gauges', async () => {
    const { metrics, workers: [a, b, c] } = cluster(3);
    load(a!, 7, 3);
    load(b!, 5, 2);
    load(c!, 4, 1);
    const before = metricLines(await a!.scrape());
    expect(before.get('shop_checkouts_total{result="accepted"}')).toBe(7 + 5 + 4);
    expect(before.get('shop_http_request_duration_seconds_bucket{le="1"}')).toBe(3 + 2 + 1);
    expect(before.get('shop_http_requests_in_flight')).toBe(7 + 5 + 4);
    // b retires, then c crashes: both leave; their counts stay.
    metrics.gone(b as unknown as Worker);
    metrics.gone(c as unknown as Worker);
    const after = metricLines(await a!.scrape());
    for (const key of ['shop_checkouts_total{result="accepted"}', 'shop_http_request_duration_seconds_bucket{le="1"}', 'shop_http_request_duration_seconds_count']) {
      expect(after.get(key), key).toBeGreaterThanOrEqual(before.get(key)!);
    }
    expect(after.get('shop_http_requests_in_flight')).toBe(7);
    // A series of one process ends with it (nothing else sums into it, so no reader takes that for a reset).
    expect([...before.keys()].filter((k) => k.startsWith('shop_worker_cpu_seconds_total'))).toHaveLength(3);
    expect([...after.keys()].filter((k) => k.startsWith('shop_worker_cpu_seconds_total'))).toHaveLength(1);
    load(a!, 1, 0);
    expect(metricLines(await a!.scrape()).get('shop_checkouts_total{result="accepted"}')).toBe(7 + 5 + 4 + 1);
  });

  it('count a worker that does not answer in time with its last counters, without its gauges', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const { workers: [a, b] } = cluster(2);
    load(a!, 3, 0);
    load(b!, 6, 0);
    expect(metricLines(await a!.scrape()).get('shop_checkouts_total{result="accepted"}')).toBe(9);
    b!.silent = true;
    const scraping = a!.scrape();
    await vi.advanceTimersByTimeAsync(5_000);
    const m = metricLines(await scraping);
    expect(m.get('shop_checkouts_total{result="accepted"}')).toBe(9);
    expect(m.get('shop_http_requests_in_flight')).toBe(3);
  });

  it('count a draining web worker in the scrape but not in shop_workers', async () => {
    const { metrics, workers: [a, b] } = cluster(2);
    load(b!, 2, 0);
    expect(metricLines(await a!.scrape()).get('shop_workers')).toBe(2);
    metrics.retiring(b as unknown as Worker);
    const m = metricLines(await a!.scrape());
    expect(m.get('shop_workers')).toBe(1);
    expect(m.get('shop_checkouts_total{result="accepted"}')).toBe(2);
  });
});

describe('sumMonotone', () => {
  it('adds series with the same name, metricName and labels, whatever the label order', async () => {
    const r1 = new Registry();
    const r2 = new Registry();
    for (const [r, n] of [[r1, 2], [r2, 3]] as const) {
      new Counter({ name: 'c_total', help: 'h', labelNames: ['a', 'b'] as const, registers: [r] }).inc({ a: '1', b: '2' }, n);
    }
    const [one, two] = [await r1.getMetricsAsJSON(), await r2.getMetricsAsJSON()];
    two[0]!.values[0]!.labels = { b: '2', a: '1' };
    const sum = sumMonotone(one, two);
    expect(sum).toHaveLength(1);
    expect(sum[0]!.values).toEqual([{ value: 5, labels: { a: '1', b: '2' } }]);
  });
});

describe('KeptCounters', () => {
  it('ignores a late answer from a process already gone, which would count it twice', async () => {
    const w = new FakeWorker();
    load(w, 4, 0);
    const json = await w.registry.getMetricsAsJSON();
    const kept = new KeptCounters<object>();
    kept.seen(w, json);
    kept.forget(w);
    const parts = kept.parts(new Map([[w, json]]));
    expect(parts).toHaveLength(1);
    expect(parts[0]!.find((m) => m.name === 'shop_checkouts_total')!.values).toEqual([{ value: 4, labels: { result: 'accepted' } }]);
    expect(parts[0]!.find((m) => m.name === 'shop_http_requests_in_flight')).toBeUndefined();
  });
});

import type { Worker } from 'node:cluster';
import { randomUUID } from 'node:crypto';
import { AggregatorRegistry, Counter, Gauge, Registry } from 'prom-client';
import { MSG, type MetricsJson, type PrimaryMessage, type WorkerMessage } from './cluster-messages.js';
import { KeptCounters } from './kept-counters.js';

/** A worker that has not sent its series in this long counts with its last counters and histograms in that scrape (no gauges). */
const WORKER_ANSWER_MS = 2_000;

/**
 * /metrics across the cluster, kept by the primary. A worker serving /metrics
 * asks the primary, which collects every ready worker's registry as JSON,
 * merges them (prom-client's aggregation: sums, or the aggregator a metric
 * names) and adds its own series. Web workers and consumers alike are asked,
 * but only those that said they are ready, so a process still starting
 * cannot stall a scrape. The counters and histograms of processes that are
 * gone stay in the sums (KeptCounters), so no summed counter goes down when
 * a process retires or dies.
 */
export interface ClusterMetrics {
  /** The primary's own series (shop_workers, restarts, the autoscalers'), added to every scrape. */
  registry: Registry;
  /** Start answering this worker's /metrics requests and replies. */
  attach: (w: Worker) => void;
  /** The process serves (web) or consumes (consumer): include it in scrapes. */
  ready: (w: Worker, role: 'web' | 'consumer') => void;
  /** The process drains: still scraped until it exits, no longer counted in shop_workers. */
  retiring: (w: Worker) => void;
  /** The worker exited (retired or died); `restarted` when the primary forks a replacement. */
  gone: (w: Worker) => void;
  restarted: () => void;
  /** The whole cluster's exposition, as a web worker's /metrics serves it (role consumer: the primary's own ops server). */
  exposition: () => Promise<string>;
}

export function createClusterMetrics(): ClusterMetrics {
  const own = new Registry();
  const ready = new Map<Worker, { role: 'web' | 'consumer'; retiring: boolean }>();
  const kept = new KeptCounters<Worker>();
  new Gauge({
    name: 'shop_workers', help: 'Web worker processes serving requests.', registers: [own],
    // As shop_replicas{role="web",state="ready"}: a draining worker no longer counts.
    collect() { this.set([...ready.values()].filter((r) => r.role === 'web' && !r.retiring).length); },
  });
  const restarts = new Counter({ name: 'shop_worker_restarts_total', help: 'Workers re-forked after an unexpected exit.', registers: [own] });
  const waiting = new Map<string, (m: MetricsJson) => void>();

  const collectFrom = (w: Worker): Promise<MetricsJson | undefined> => new Promise((resolve) => {
    const id = randomUUID();
    const timer = setTimeout(() => {
      waiting.delete(id);
      resolve(undefined);
    }, WORKER_ANSWER_MS);
    waiting.set(id, (m) => {
      clearTimeout(timer);
      waiting.delete(id);
      resolve(m);
    });
    const ask: PrimaryMessage = { type: MSG.metricsCollect, id };
    if (w.isConnected()) w.send(ask);
  });

  const exposition = async (): Promise<string> => {
    const workers = [...ready.keys()];
    const answers = await Promise.all(workers.map(collectFrom));
    const parts = kept.parts(new Map(workers.map((w, i) => [w, answers[i]])));
    const merged = parts.length ? await AggregatorRegistry.aggregate(parts).metrics() : '';
    return merged + (await own.metrics());
  };

  return {
    registry: own,
    attach(w) {
      w.on('message', (m: WorkerMessage) => {
        if (m?.type === MSG.metricsJson) waiting.get(m.id)?.(m.metrics);
        if (m?.type !== MSG.metricsRequest) return;
        void exposition().then((body) => {
          const reply: PrimaryMessage = { type: MSG.metricsReply, id: m.id, contentType: own.contentType, body };
          if (w.isConnected()) w.send(reply);
        });
      });
    },
    ready: (w, role) => void ready.set(w, { role, retiring: false }),
    retiring: (w) => {
      const r = ready.get(w);
      if (r) r.retiring = true;
    },
    gone: (w) => {
      ready.delete(w);
      kept.forget(w);
    },
    restarted: () => restarts.inc(),
    exposition,
  };
}

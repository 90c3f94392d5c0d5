import type { MetricsJson } from './cluster-messages.js';

type Metric = MetricsJson[number];

/**
 * Series whose sum across processes must never go down: summed counters and
 * histograms (buckets, _sum, _count). A series labelled with its process
 * (`worker`) is its own series, not part of a sum: it may end with its
 * process, as a pod's series does, and keeping it would grow with every
 * scale event (and read as an idle worker to whoever averages per worker).
 */
function monotone(metrics: MetricsJson): MetricsJson {
  // prom-client's JSON has the type as a string ('counter'), whatever its .d.ts says.
  return metrics
    .filter((m) => ['counter', 'histogram'].includes(String(m.type)) && (m.aggregator ?? 'sum') === 'sum')
    .map((m) => ({ ...m, values: m.values.filter((v) => v.labels.worker === undefined) }))
    .filter((m) => m.values.length > 0);
}

const seriesKey = (v: Metric['values'][number]): string =>
  `${(v as { metricName?: string }).metricName ?? ''}|${JSON.stringify(Object.entries(v.labels).sort(([a], [b]) => a.localeCompare(b)))}`;

/** Sums two sets of counters and histograms, series by series (name, metricName, labels). Pure. */
export function sumMonotone(a: MetricsJson, b: MetricsJson): MetricsJson {
  const byName = new Map<string, { metric: Metric; values: Map<string, Metric['values'][number]> }>();
  for (const metric of [...a, ...b]) {
    const entry = byName.get(metric.name) ?? { metric, values: new Map() };
    byName.set(metric.name, entry);
    for (const v of metric.values) {
      const key = seriesKey(v);
      const prev = entry.values.get(key);
      entry.values.set(key, { ...v, value: (prev?.value ?? 0) + v.value });
    }
  }
  return [...byName.values()].map(({ metric, values }) => ({ ...metric, values: [...values.values()] }));
}

/**
 * The counters and histograms of processes that are gone, so that sums
 * across the cluster stay monotone. When a process retires or dies, its
 * series leave the merged /metrics; a summed counter without a per-process
 * label (shop_checkouts_total) would then drop, and Prometheus' rate() (or
 * scalectl's counter deltas) reads a drop as a reset and counts the whole
 * remaining total as new increase. (Prometheus scraping pods one by one
 * does not see this: it takes rate() per pod before summing. Here the
 * primary sums first, so it must keep what a gone process had counted.)
 *
 * Kept: each live process's last collected counters and histograms (used
 * when it does not answer a scrape in time), and the sum of those of every
 * process gone, compacted into one set so memory does not grow with each
 * scale event. Gauges and summaries are not kept: they describe a process
 * now, and a quantile cannot be summed. Nor are series labelled with their
 * process (shop_worker_cpu_seconds_total{worker}): they end with it, which
 * no rate() or scalectl reads as a reset, since no other series shares them.
 */
export class KeptCounters<K extends object> {
  private readonly last = new Map<K, MetricsJson>();
  /** Processes already folded into `gone`: a late answer of theirs would count them twice. */
  private readonly forgotten = new WeakSet<K>();
  private gone: MetricsJson = [];

  /** A process answered a scrape with these series. */
  seen(key: K, metrics: MetricsJson): void {
    if (!this.forgotten.has(key)) this.last.set(key, monotone(metrics));
  }

  /** The process exited (retired or crashed): its last counters and histograms join the kept ones for good. */
  forget(key: K): void {
    const last = this.last.get(key);
    this.last.delete(key);
    this.forgotten.add(key);
    if (last) this.gone = sumMonotone(this.gone, last);
  }

  /**
   * What to merge for one scrape: each process's fresh answer, or its last
   * counters and histograms when it did not answer (undefined), plus the
   * kept series of the processes gone.
   */
  parts(answers: ReadonlyMap<K, MetricsJson | undefined>): MetricsJson[] {
    const out: MetricsJson[] = [];
    for (const [key, answer] of answers) {
      if (this.forgotten.has(key)) continue;
      if (answer) {
        this.seen(key, answer);
        out.push(answer);
      } else {
        const last = this.last.get(key);
        if (last) out.push(last);
      }
    }
    if (this.gone.length) out.push(this.gone);
    return out;
  }
}

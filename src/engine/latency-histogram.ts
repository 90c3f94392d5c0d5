import * as hdr from 'hdr-histogram-js';

export type Histogram = hdr.Histogram;

/** Values are microseconds. Highest trackable: one hour; larger values are clamped. */
const HIGHEST_US = 3_600_000_000;

/**
 * A latency histogram in microseconds with 3 significant digits: a 50 ms
 * sample is kept to within 50 us (autocannon keeps only whole milliseconds).
 */
export function newHistogram(): Histogram {
  return hdr.build({
    bitBucketSize: 32,
    lowestDiscernibleValue: 1,
    highestTrackableValue: HIGHEST_US,
    numberOfSignificantValueDigits: 3,
    useWebAssembly: false,
  });
}

/** Records a latency given in milliseconds (fractional), as whole microseconds. */
export function recordMs(h: Histogram, ms: number): void {
  const us = Math.round(ms * 1000);
  h.recordValue(us < 1 ? 1 : us > HIGHEST_US ? HIGHEST_US : us);
}

/** Compressed base64 (the HdrHistogram standard encoding), for result files and threads. */
export function encodeHistogram(h: Histogram): string {
  return hdr.encodeIntoCompressedBase64(h);
}

export function decodeHistogram(encoded: string): Histogram {
  return hdr.decodeFromCompressedBase64(encoded, 32, false);
}

/** Adds encoded histograms into one. Percentiles of merged data come from here, never from averages. */
export function mergeEncoded(encoded: readonly string[]): Histogram {
  const out = newHistogram();
  for (const e of encoded) out.add(decodeHistogram(e));
  return out;
}

/** Latency summary in milliseconds. */
export interface LatencySummary {
  min: number; mean: number; p50: number; p90: number; p95: number; p99: number; p999: number; max: number;
}

const ms = (us: number): number => Math.round(us) / 1000;

/**
 * Summary in milliseconds. min and max are the edges of their buckets (p0 and
 * p100), as HdrHistogram defines them, not the raw recorded extremes: those are
 * lost in encoding, and a merged or decoded histogram must summarise exactly
 * like the one recorded directly.
 */
export function summarizeHistogram(h: Histogram): LatencySummary {
  if (h.totalCount === 0) return { min: 0, mean: 0, p50: 0, p90: 0, p95: 0, p99: 0, p999: 0, max: 0 };
  return {
    min: ms(h.getValueAtPercentile(0)),
    mean: ms(h.mean),
    p50: ms(h.getValueAtPercentile(50)),
    p90: ms(h.getValueAtPercentile(90)),
    p95: ms(h.getValueAtPercentile(95)),
    p99: ms(h.getValueAtPercentile(99)),
    p999: ms(h.getValueAtPercentile(99.9)),
    max: ms(h.getValueAtPercentile(100)),
  };
}

/** The value at percentile `q` (0..100) in milliseconds, as the summary rounds it: exact to the histogram's precision. */
export function percentileMs(h: Histogram, q: number): number {
  return ms(h.getValueAtPercentile(q));
}

/** Recorded values above `limitUs` (microseconds), exactly to the histogram's precision. */
export function countAbove(h: Histogram, limitUs: number): number {
  const it = (h as unknown as { recordedValuesIterator: { reset: () => void; hasNext: () => boolean; next: () => { valueIteratedTo: number; countAtValueIteratedTo: number } } }).recordedValuesIterator;
  it.reset();
  let above = 0;
  while (it.hasNext()) {
    const v = it.next();
    if (v.valueIteratedTo > limitUs) above += v.countAtValueIteratedTo;
  }
  return above;
}

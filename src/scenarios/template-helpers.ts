import { randomUUID } from 'node:crypto';

/** A template helper: called with evaluated arguments, returns a value. */
export interface TemplateHelper {
  /** Minimum and maximum argument counts (max Infinity for variadic). */
  arity: [number, number];
  /** One line for docs and "did you mean". */
  usage: string;
  fn: (args: unknown[]) => unknown;
}

function toInt(v: unknown, what: string): number {
  const n = typeof v === 'string' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isFinite(n)) throw new TypeError(`${what}: expected a number, got ${JSON.stringify(v)}`);
  return Math.trunc(n);
}

/** Inclusive integer in [min, max]. */
function randomInt(args: unknown[]): number {
  const min = toInt(args[0], 'randomInt min');
  const max = toInt(args[1], 'randomInt max');
  return min + Math.floor(Math.random() * (max - min + 1));
}

function randomItem(args: unknown[]): unknown {
  const items = args.length === 1 && Array.isArray(args[0]) ? (args[0] as unknown[]) : args;
  if (items.length === 0) throw new TypeError('randomItem: nothing to pick from');
  return items[Math.floor(Math.random() * items.length)];
}

/** Cumulative distribution functions for zipf(n, s), built once per (n, s). */
const zipfCdfs = new Map<string, Float64Array>();

function zipfCdf(n: number, s: number): Float64Array {
  const key = `${n}:${s}`;
  let cdf = zipfCdfs.get(key);
  if (!cdf) {
    cdf = new Float64Array(n);
    let sum = 0;
    for (let k = 1; k <= n; k++) {
      sum += 1 / Math.pow(k, s);
      cdf[k - 1] = sum;
    }
    for (let i = 0; i < n; i++) cdf[i] = cdf[i]! / sum;
    zipfCdfs.set(key, cdf);
  }
  return cdf;
}

/**
 * Zipf-distributed integer in [1, n]: P(k) is proportional to 1/k^s, so a few
 * low numbers ("hot items") take most of the picks. s defaults to 1.
 */
function zipf(args: unknown[]): number {
  const n = toInt(args[0], 'zipf n');
  const s = args[1] === undefined ? 1 : Number(args[1]);
  if (n < 1 || n > 10_000_000) throw new RangeError(`zipf: n must be 1..10000000, got ${n}`);
  if (!(s >= 0)) throw new RangeError(`zipf: s must be >= 0, got ${String(args[1])}`);
  const cdf = zipfCdf(n, s);
  const u = Math.random();
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cdf[mid]! < u) lo = mid + 1;
    else hi = mid;
  }
  return lo + 1;
}

/** The documented helpers (docs/scenarios.md lists the same set; a test checks). */
export const TEMPLATE_HELPERS: Record<string, TemplateHelper> = {
  randomInt: { arity: [2, 2], usage: 'randomInt(min, max): integer in [min, max]', fn: randomInt },
  randomItem: { arity: [1, Infinity], usage: 'randomItem(a, b, ...) or randomItem(list): one at random', fn: randomItem },
  uuid: { arity: [0, 0], usage: 'uuid(): a random UUID v4', fn: () => randomUUID() },
  zipf: { arity: [1, 2], usage: 'zipf(n, s = 1): integer in [1, n], skewed toward 1 (hot items)', fn: zipf },
};

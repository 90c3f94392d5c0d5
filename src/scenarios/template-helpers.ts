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

/** Largest n of zipf(n, s). */
const ZIPF_MAX_N = 10_000_000;

/** (e^x − 1)/x, and its limit 1 at 0, accurate near 0. */
function expm1OverX(x: number): number {
  return Math.abs(x) > 1e-8 ? Math.expm1(x) / x : 1 + x / 2;
}

/** ln(1 + x)/x, and its limit 1 at 0, accurate near 0. */
function log1pOverX(x: number): number {
  return Math.abs(x) > 1e-8 ? Math.log1p(x) / x : 1 - x / 2;
}

/**
 * A zipf(n, s) draw by rejection-inversion (Hörmann and Derflinger, 1996):
 * invert the integral H of the continuous hat h(x) = x^-s, round to the
 * nearest integer k and accept when the draw fell under k's own share. It
 * needs O(1) time and memory for any n and s (a table of n cumulative
 * probabilities, built once per (n, s), took 80 MB for n = 10^7 and grew
 * without bound when s varied), and accepts more than 90% of draws.
 */
function zipfDraw(n: number, s: number): number {
  const q = 1 - s;
  // H(x) = (x^(1-s) − 1)/(1 − s), or ln x at s = 1; H⁻¹ is its inverse; h(x) = x^-s.
  const H = (x: number): number => {
    const lx = Math.log(x);
    return expm1OverX(q * lx) * lx;
  };
  const hInv = (y: number): number => Math.exp(log1pOverX(q * y) * y);
  const h = (x: number): number => Math.exp(-s * Math.log(x));
  const top = H(1.5) - 1;
  const bottom = H(n + 0.5);
  // Draws within this distance left of k's midpoint are accepted without evaluating H.
  const squeeze = 2 - hInv(H(2.5) - h(2));
  for (;;) {
    const u = bottom + Math.random() * (top - bottom);
    const x = hInv(u);
    const k = Math.min(n, Math.max(1, Math.floor(x + 0.5)));
    if (k - x <= squeeze || u >= H(k + 0.5) - h(k)) return k;
  }
}

/**
 * Zipf-distributed integer in [1, n]: P(k) is proportional to 1/k^s, so a few
 * low numbers ("hot items") take most of the picks. s defaults to 1.
 */
function zipf(args: unknown[]): number {
  const n = toInt(args[0], 'zipf n');
  const s = args[1] === undefined ? 1 : Number(args[1]);
  if (n < 1 || n > ZIPF_MAX_N) throw new RangeError(`zipf: n must be 1..${ZIPF_MAX_N}, got ${n}`);
  if (!(s >= 0) || !Number.isFinite(s)) throw new RangeError(`zipf: s must be a number >= 0, got ${String(args[1])}`);
  return zipfDraw(n, s);
}

/** The documented helpers (docs/scenarios.md lists the same set; a test checks). */
export const TEMPLATE_HELPERS: Record<string, TemplateHelper> = {
  randomInt: { arity: [2, 2], usage: 'randomInt(min, max): integer in [min, max]', fn: randomInt },
  randomItem: { arity: [1, Infinity], usage: 'randomItem(a, b, ...) or randomItem(list): one at random', fn: randomItem },
  uuid: { arity: [0, 0], usage: 'uuid(): a random UUID v4', fn: () => randomUUID() },
  zipf: { arity: [1, 2], usage: 'zipf(n, s = 1): integer in [1, n], skewed toward 1 (hot items)', fn: zipf },
};

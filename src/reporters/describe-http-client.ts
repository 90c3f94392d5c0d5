import type { HttpClientUsage } from '../engine/http-exchange.js';

/** 12345 → "12,345": the same in every locale. */
const grouped = (n: number): string => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');

/**
 * The requests each HTTP client path sent, on one line, for the terminal and
 * HTML summaries: `lean 12,345 · undici 0`, and when undici sent any, why
 * (`lean 0 · undici 500 (https origin https://shop.example)`).
 * Reasons are as recorded: the caller escapes them for its output.
 */
export function describeHttpClient(u: HttpClientUsage): string {
  const why = u.undici > 0 && u.undiciReasons.length ? ` (${u.undiciReasons.join('; ')})` : '';
  return `lean ${grouped(u.lean)} · undici ${grouped(u.undici)}${why}`;
}

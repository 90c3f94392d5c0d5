import type { ErrorKind } from './http-exchange.js';

/** Slowest requests kept per endpoint (RunResult.exemplars): one place for the engine, the merges and the docs. */
export const EXEMPLARS_PER_ENDPOINT = 5;

/** One of an endpoint's slowest requests, with the trace id it was sent with (docs/results.md#exemplars). */
export interface Exemplar {
  /** The request's W3C trace id (32 hex digits), as sent in its traceparent header. */
  traceId: string;
  /** Its latency, milliseconds. */
  latencyMs: number;
  /** When its latency began, seconds since the run start. */
  atS: number;
  /** The response status, when one came. */
  status?: number;
  /** How it failed, when it did. */
  error?: ErrorKind;
}

const round3 = (v: number): number => Math.round(v * 1000) / 1000;

/**
 * The K slowest requests of one endpoint, slowest first. Almost every request
 * is turned away by one comparison with the K-th latency (`floor`); only a
 * request slower than it allocates and is placed, in at most K steps, so the
 * cost per request is O(1) whatever the run's length.
 */
export class SlowestRequests {
  private readonly kept: Exemplar[] = [];
  /** The latency a request must beat to be kept: the K-th kept's, -Infinity until K are kept. */
  private floor = -Infinity;

  constructor(private readonly k = EXEMPLARS_PER_ENDPOINT) {}

  /** Whether a request this slow would be kept (it beats the K-th kept). */
  beats(latencyMs: number): boolean {
    return latencyMs > this.floor;
  }

  /** Offers a request; `atS` is seconds since the run start. A tie with the K-th keeps the one kept first. */
  offer(latencyMs: number, traceId: string, atS: number, status: number | undefined, error: ErrorKind | undefined): void {
    if (latencyMs <= this.floor) return;
    const e: Exemplar = { traceId, latencyMs: round3(latencyMs), atS: round3(atS) };
    if (status !== undefined) e.status = status;
    if (error !== undefined) e.error = error;
    this.insert(e);
  }

  private insert(e: Exemplar): void {
    const kept = this.kept;
    let i = kept.length;
    while (i > 0 && kept[i - 1]!.latencyMs < e.latencyMs) i--;
    if (i >= this.k) return;
    kept.splice(i, 0, e);
    if (kept.length > this.k) kept.length = this.k;
    if (kept.length === this.k) this.floor = kept[this.k - 1]!.latencyMs;
  }

  /** The kept requests, slowest first (a copy). */
  list(): Exemplar[] {
    return this.kept.map((e) => ({ ...e }));
  }

  /** The K slowest of several lists (engine threads', shards'), slowest first; ties keep the earlier list's. */
  static merge(lists: readonly (readonly Exemplar[] | undefined)[], k = EXEMPLARS_PER_ENDPOINT): Exemplar[] {
    const keeper = new SlowestRequests(k);
    for (const list of lists) for (const e of list ?? []) if (e.latencyMs > keeper.floor) keeper.insert({ ...e });
    return keeper.list();
  }
}

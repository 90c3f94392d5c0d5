import { randomBytes } from 'node:crypto';

/**
 * W3C trace context ids for the requests scalectl sends
 * (`traceparent: 00-<trace id>-<span id>-01`), so the slowest requests of a
 * run can be looked up in the target's tracing backend. An id costs a
 * counter step and a string, never a call to crypto: the random part is drawn
 * once per thread (each worker thread and each shard's process loads this
 * module anew), 80 bits of it in the trace id, so two generators' ids meet
 * with odds of about 2^-80; the counter below it keeps one thread's unique.
 */

/** The thread's random part of every trace id: 20 hex digits. */
const TRACE_PREFIX = randomBytes(10).toString('hex');
/** The thread's random part of every span id: 4 hex digits. */
const SPAN_PREFIX = randomBytes(2).toString('hex');
/** The counter fills the last 12 hex digits of both ids: it starts over at 1 past them (2^48 requests). */
const COUNTER_LIMIT = 2 ** 48;
const COUNTER_DIGITS = 12;

/** Requests given an id so far in this thread; from 1, so neither id is ever all zeros (invalid per the spec). */
let counter = 0;

/** A fresh `traceparent` header value, sampled (flags 01): `00-<32 hex>-<16 hex>-01`. */
export function newTraceparent(): string {
  counter = counter + 1 < COUNTER_LIMIT ? counter + 1 : 1;
  const n = counter.toString(16).padStart(COUNTER_DIGITS, '0');
  return `00-${TRACE_PREFIX}${n}-${SPAN_PREFIX}${n}-01`;
}

/** A valid traceparent: version, trace id, parent (span) id, flags; lower-case hex. */
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$/;
const ZEROS = /^0+$/;

/** The trace id of a traceparent value, or undefined when it is not a valid one (version ff and all-zero ids are not). */
export function traceIdOf(traceparent: string | undefined): string | undefined {
  if (traceparent === undefined) return undefined;
  const m = TRACEPARENT.exec(traceparent.trim());
  if (m === null || m[1] === 'ff' || ZEROS.test(m[2]!) || ZEROS.test(m[3]!)) return undefined;
  return m[2]!;
}

/** The trace id of a traceparent made by newTraceparent (no check: its layout is known). */
export const ownTraceId = (traceparent: string): string => traceparent.substring(3, 35);

import { randomBytes } from 'node:crypto';

/**
 * W3C trace context ids for the requests scalectl sends
 * (`traceparent: 00-<trace id>-<span id>-01`), so the slowest requests of a
 * run can be looked up in the target's tracing backend. An id costs a
 * counter step, two integer mixes and a string, never a call to crypto: the
 * random part is drawn once per thread (each worker thread and each shard's
 * process loads this module anew), 64 bits of it at the head of the trace
 * id, so two generators' ids meet with odds of about 2^-64; the counter below
 * it keeps one thread's unique. The counter is mixed by a bijection, not
 * written as it is: a backend that samples by the trace id's rightmost 7
 * bytes (W3C Level 2, OpenTelemetry's consistent probability sampling) must
 * see them vary at random from request to request.
 */

const seeds = randomBytes(20);
/** The thread's random head of every trace id: 16 hex digits. */
const TRACE_PREFIX = seeds.toString('hex', 0, 8);
/** The thread's random head of every span id, never 0 (so no span id is all zeros). */
const SPAN_PREFIX = hex8(seeds.readUInt32BE(8) | 1);
const SEED_LOW = seeds.readUInt32BE(12);
const SEED_HIGH = seeds.readUInt32BE(16);
/** The counter has 48 bits (the low 32 mixed, the high 16 as they are): it starts over at 1 past them (2^48 requests). */
const COUNTER_LIMIT = 2 ** 48;
const LOW = 2 ** 32;

/** Requests given an id so far in this thread. */
let counter = 0;

/** murmur3's 32-bit finalizer: a bijection of 32-bit integers that spreads every input bit over the output. */
function mix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function hex8(n: number): string {
  return (n >>> 0).toString(16).padStart(8, '0');
}

/** A fresh `traceparent` header value, sampled (flags 01): `00-<32 hex>-<16 hex>-01`. */
export function newTraceparent(): string {
  counter = counter + 1 < COUNTER_LIMIT ? counter + 1 : 1;
  // `low` is a bijection of the counter's low 32 bits and `high` holds its high 16 as they are: one thread's ids never repeat.
  const low = mix32((counter % LOW) ^ SEED_LOW);
  const high = ((Math.floor(counter / LOW) << 16) | (mix32(low ^ SEED_HIGH) & 0xffff)) >>> 0;
  const tail = hex8(low);
  return `00-${TRACE_PREFIX}${hex8(high)}${tail}-${SPAN_PREFIX}${tail}-01`;
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

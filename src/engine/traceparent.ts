import { randomBytes } from 'node:crypto';

/**
 * W3C trace context ids for the requests scalectl sends
 * (`traceparent: 00-<trace id>-<span id>-01`), so the slowest requests of a
 * run can be looked up in the target's tracing backend. An id costs a
 * counter step and a few integer mixes, never a call to crypto nor a string:
 * the lean path writes its hex digits straight into the request head's bytes
 * (a 256-entry table), and the text is made only where it is needed (the
 * undici path's header, a kept request's trace id). The random part is drawn
 * once per thread (each worker thread and each shard's process loads this
 * module anew): 64 bits at the head of the trace id, so two generators' ids
 * meet with odds of about 2^-64. The trace id's other 8 bytes are a keyed
 * bijection (a Feistel network) of the thread's 64-bit request counter: one
 * thread's ids never repeat, and all 8 of them, so all of the rightmost 7
 * bytes a backend samples by (W3C Level 2, OpenTelemetry's consistent
 * probability sampling), vary at random from request to request.
 */

const seeds = randomBytes(32);
// Never all zeros (an all-zero trace id is invalid): the head is, with odds of 2^-64, and then gets one bit.
if (seeds.readBigUInt64BE(0) === 0n) seeds[7] = 1;
/** The thread's random head of every span id, never 0 (so no span id is all zeros). */
const SPAN_HEAD = (seeds.readUInt32BE(8) | 1) >>> 0;
/** The Feistel network's round keys. */
const KEYS = [seeds.readUInt32BE(12), seeds.readUInt32BE(16), seeds.readUInt32BE(20), seeds.readUInt32BE(24)];

/** Hex digits of each byte value, two ASCII codes per byte: the digits are copied, never formatted. */
const HEX = new Uint8Array(512);
for (let b = 0; b < 256; b++) {
  HEX[2 * b] = '0123456789abcdef'.charCodeAt(b >>> 4);
  HEX[2 * b + 1] = '0123456789abcdef'.charCodeAt(b & 15);
}

function writeHex32(out: Uint8Array, at: number, n: number): void {
  let i = 2 * (n >>> 24);
  out[at] = HEX[i]!;
  out[at + 1] = HEX[i + 1]!;
  i = 2 * ((n >>> 16) & 0xff);
  out[at + 2] = HEX[i]!;
  out[at + 3] = HEX[i + 1]!;
  i = 2 * ((n >>> 8) & 0xff);
  out[at + 4] = HEX[i]!;
  out[at + 5] = HEX[i + 1]!;
  i = 2 * (n & 0xff);
  out[at + 6] = HEX[i]!;
  out[at + 7] = HEX[i + 1]!;
}

const NAME = 'traceparent: ';
/** Where the variable digits go in a header line: the trace id's last 16, the span id's last 8. */
const TRACE_TAIL_AT = NAME.length + 3 + 16;
const SPAN_TAIL_AT = NAME.length + 3 + 32 + 1 + 8;
/**
 * A header line with the thread's fixed parts written in:
 * `traceparent: 00-<head: 16 hex><16 hex>-<span head: 8 hex><8 hex>-01\r\n`.
 */
const LINE = Buffer.from(`${NAME}00-${seeds.toString('hex', 0, 8)}${'0'.repeat(16)}-${SPAN_HEAD.toString(16).padStart(8, '0')}${'0'.repeat(8)}-01\r\n`, 'latin1');
/** Bytes of a traceparent header line, CRLF included. */
export const TRACEPARENT_LINE_BYTES = LINE.length;
/** Where one line is written to be read as text (the undici path, a kept trace id). */
const scratch = Buffer.allocUnsafe(LINE.length);

/** murmur3's 32-bit finalizer: spreads every input bit over the output (the Feistel rounds' function). */
function mix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** One request's trace context: two 32-bit numbers until its bytes or text are asked for. */
export class TraceContext {
  constructor(
    /** The trace id's bytes 8-11. */
    private readonly hi: number,
    /** The trace id's bytes 12-15, and the span id's last 4. */
    private readonly lo: number,
  ) {}

  /** Writes its header line (TRACEPARENT_LINE_BYTES, CRLF included) into `out` at `at`. */
  writeLine(out: Buffer, at: number): void {
    LINE.copy(out, at);
    writeHex32(out, at + TRACE_TAIL_AT, this.hi);
    writeHex32(out, at + TRACE_TAIL_AT + 8, this.lo);
    writeHex32(out, at + SPAN_TAIL_AT, this.lo);
  }

  /** The header's value, `00-<32 hex>-<16 hex>-01` (text, for the undici path). */
  value(): string {
    this.writeLine(scratch, 0);
    return scratch.toString('latin1', NAME.length, LINE.length - 2);
  }

  /** The trace id, 32 hex digits (text, made only for a request kept as an exemplar). */
  traceId(): string {
    this.writeLine(scratch, 0);
    return scratch.toString('latin1', NAME.length + 3, NAME.length + 35);
  }
}

/** Requests given an id so far in this thread, as two 32-bit halves (2^64 ids before one repeats). */
let countLo = 0;
let countHi = 0;

/** A fresh trace context, sampled (flags 01). */
export function newTraceparent(): TraceContext {
  countLo = (countLo + 1) >>> 0;
  if (countLo === 0) countHi = (countHi + 1) >>> 0;
  // Four Feistel rounds: a bijection of the 64-bit count whatever the round function, so one thread's ids never repeat.
  let l = countHi;
  let r = countLo;
  for (let i = 0; i < 4; i++) {
    const t = (l ^ mix32((r ^ KEYS[i]!) >>> 0)) >>> 0;
    l = r;
    r = t;
  }
  return new TraceContext(l, r);
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

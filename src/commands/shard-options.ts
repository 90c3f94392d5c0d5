import { isIP } from 'node:net';
import { parseDuration } from '../shared/duration.js';
import { MAX_SHARDS, type ProcessShard } from '../engine/shard-slice.js';

export { MAX_SHARDS };

/** How long a shard waits at a start barrier by default (`--barrier-timeout`). */
export const DEFAULT_BARRIER_TIMEOUT = '10m';

/** Longest `--barrier-timeout`: a day (shards that have not all arrived by then will not). */
export const MAX_BARRIER_TIMEOUT = '24h';
const MAX_BARRIER_TIMEOUT_MS = parseDuration(MAX_BARRIER_TIMEOUT)!;

/** Farthest ahead a `--start-at` time may be: a week (further is a typo, a wrong unit or a wrong year). */
export const MAX_START_AHEAD_DAYS = 7;

const DAY_MS = 86_400_000;

/** Epoch values above this are milliseconds, at or below it seconds (1e12 ms is September 2001; 1e12 s is the year 33658). */
const EPOCH_MS_ABOVE = 1e12;

/** When a shard starts its first phase (`--start-at`). */
export type StartAt =
  | { kind: 'time'; epochMs: number }
  | { kind: 'barrier'; host: string; port: number };

/** `--shard I/N`, I from 1: this process runs slice I of N (index from 0 in the result). Throws an Error with the reason. */
export function parseShard(value: string): ProcessShard {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(value);
  if (!m) throw new Error(`--shard takes I/N, e.g. 2/4 (this process runs the 2nd of 4 slices of the schedule), got "${value}"`);
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (count < 1 || count > MAX_SHARDS) throw new Error(`--shard ${value}: N must be 1 to ${MAX_SHARDS}`);
  if (index < 1 || index > count) throw new Error(`--shard ${value}: I must be 1 to ${count} (shards are numbered from 1)`);
  return { index: index - 1, count };
}

/**
 * `--start-at`: an ISO-8601 time with its time zone (`2026-12-03T10:00:00Z`),
 * epoch seconds, epoch milliseconds (above 1e12), or `barrier:HOST:PORT`
 * (an IPv6 HOST in brackets). A time more than MAX_START_AHEAD_DAYS after
 * `now` (epoch ms) is refused; one in the past starts at once. Throws an
 * Error with the reason.
 */
export function parseStartAt(value: string, now: number = Date.now()): StartAt {
  const v = value.trim();
  if (v.toLowerCase().startsWith('barrier:')) return parseBarrier(v.slice('barrier:'.length), value);
  const at = parseTime(v, value);
  if (at - now > MAX_START_AHEAD_DAYS * DAY_MS) {
    throw new Error(`--start-at ${value} is ${Math.floor((at - now) / DAY_MS)} days ahead; a start at most ${MAX_START_AHEAD_DAYS} days ahead is taken`);
  }
  return { kind: 'time', epochMs: at };
}

/** An ISO-8601 time with its zone, or epoch seconds or milliseconds, as epoch milliseconds. */
function parseTime(v: string, value: string): number {
  if (/^\d+(\.\d+)?$/.test(v)) {
    const n = Number(v);
    return n > EPOCH_MS_ABOVE ? n : n * 1000;
  }
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/i.test(v)) {
    throw new Error(`--start-at ${value}: give the time zone (Z or +01:00), so that every shard reads the same instant`);
  }
  const ms = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/i.test(v) ? Date.parse(v) : NaN;
  if (Number.isNaN(ms)) {
    throw new Error(`--start-at takes an ISO-8601 time (2026-12-03T10:00:00Z), epoch seconds or milliseconds, or barrier:HOST:PORT; got "${value}"`);
  }
  return ms;
}

function parseBarrier(rest: string, given: string): StartAt {
  const m = /^(?:\[([0-9a-f:.]+)\]|([^:[\]\s]+)):(\d+)$/i.exec(rest);
  const host = m ? m[1] ?? m[2]! : '';
  const port = m ? Number(m[3]) : NaN;
  if (!m || (m[1] !== undefined && isIP(host) !== 6)) throw new Error(`--start-at ${given}: expected barrier:HOST:PORT (an IPv6 address in brackets), e.g. barrier:scalectl-0.scalectl:7070`);
  if (!(port >= 1 && port <= 65535)) throw new Error(`--start-at ${given}: the port must be 1 to 65535`);
  return { kind: 'barrier', host, port };
}

/** `--barrier-timeout`: a duration above 0 and at most MAX_BARRIER_TIMEOUT, milliseconds. Throws an Error with the reason. */
export function parseBarrierTimeout(value: string): number {
  const ms = parseDuration(value);
  if (ms === undefined || ms <= 0) throw new Error(`--barrier-timeout takes a duration above 0 (30s, 10m), got "${value}"`);
  if (ms > MAX_BARRIER_TIMEOUT_MS) throw new Error(`--barrier-timeout ${value}: at most ${MAX_BARRIER_TIMEOUT}`);
  return ms;
}

/** The default --barrier-timeout, milliseconds. */
export const DEFAULT_BARRIER_TIMEOUT_MS = parseBarrierTimeout(DEFAULT_BARRIER_TIMEOUT);

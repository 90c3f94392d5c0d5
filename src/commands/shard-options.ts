import { isIP } from 'node:net';
import { parseDuration } from '../shared/duration.js';
import type { ProcessShard } from '../engine/shard-slice.js';

/** Most shards of one distributed run (`--shard I/N`). */
export const MAX_SHARDS = 1000;

/** How long a shard waits at a start barrier by default (`--barrier-timeout`). */
export const DEFAULT_BARRIER_TIMEOUT = '10m';

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
 * (an IPv6 HOST in brackets). Throws an Error with the reason.
 */
export function parseStartAt(value: string): StartAt {
  const v = value.trim();
  if (v.toLowerCase().startsWith('barrier:')) return parseBarrier(v.slice('barrier:'.length), value);
  if (/^\d+(\.\d+)?$/.test(v)) {
    const n = Number(v);
    return { kind: 'time', epochMs: n > EPOCH_MS_ABOVE ? n : n * 1000 };
  }
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/i.test(v)) {
    throw new Error(`--start-at ${value}: give the time zone (Z or +01:00), so that every shard reads the same instant`);
  }
  const ms = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/i.test(v) ? Date.parse(v) : NaN;
  if (Number.isNaN(ms)) {
    throw new Error(`--start-at takes an ISO-8601 time (2026-12-03T10:00:00Z), epoch seconds or milliseconds, or barrier:HOST:PORT; got "${value}"`);
  }
  return { kind: 'time', epochMs: ms };
}

function parseBarrier(rest: string, given: string): StartAt {
  const m = /^(?:\[([0-9a-f:.]+)\]|([^:[\]\s]+)):(\d+)$/i.exec(rest);
  const host = m ? m[1] ?? m[2]! : '';
  const port = m ? Number(m[3]) : NaN;
  if (!m || (m[1] !== undefined && isIP(host) !== 6)) throw new Error(`--start-at ${given}: expected barrier:HOST:PORT (an IPv6 address in brackets), e.g. barrier:scalectl-0.scalectl:7070`);
  if (!(port >= 1 && port <= 65535)) throw new Error(`--start-at ${given}: the port must be 1 to 65535`);
  return { kind: 'barrier', host, port };
}

/** `--barrier-timeout`: a duration above 0, milliseconds. Throws an Error with the reason. */
export function parseBarrierTimeout(value: string): number {
  const ms = parseDuration(value);
  if (ms === undefined || ms <= 0) throw new Error(`--barrier-timeout takes a duration above 0 (30s, 10m), got "${value}"`);
  return ms;
}

/** The default --barrier-timeout, milliseconds. */
export const DEFAULT_BARRIER_TIMEOUT_MS = parseBarrierTimeout(DEFAULT_BARRIER_TIMEOUT);

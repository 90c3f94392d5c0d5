import { describe, expect, it } from 'vitest';
import { DEFAULT_BARRIER_TIMEOUT_MS, MAX_SHARDS, parseBarrierTimeout, parseShard, parseStartAt } from './shard-options.js';

describe('--shard', () => {
  it('reads I/N from 1 into an index from 0', () => {
    expect(parseShard('1/4')).toEqual({ index: 0, count: 4 });
    expect(parseShard('4/4')).toEqual({ index: 3, count: 4 });
    expect(parseShard(' 2 / 3 ')).toEqual({ index: 1, count: 3 });
    expect(parseShard(`${MAX_SHARDS}/${MAX_SHARDS}`)).toEqual({ index: MAX_SHARDS - 1, count: MAX_SHARDS });
  });
  it('refuses what is not a slice of the run', () => {
    for (const bad of ['0/4', '5/4', 'x', '1', '1/0', '-1/4', '1.5/4', '1/4/2', `1/${MAX_SHARDS + 1}`, '']) expect(() => parseShard(bad), bad).toThrow(/--shard/);
    expect(() => parseShard('0/4')).toThrow('I must be 1 to 4 (shards are numbered from 1)');
  });
});

describe('--start-at', () => {
  it('reads ISO-8601 with a zone, epoch seconds and epoch milliseconds', () => {
    const ms = Date.UTC(2026, 11, 3, 10, 0, 0);
    expect(parseStartAt('2026-12-03T10:00:00Z')).toEqual({ kind: 'time', epochMs: ms });
    expect(parseStartAt('2026-12-03T11:00:00+01:00')).toEqual({ kind: 'time', epochMs: ms });
    expect(parseStartAt('2026-12-03T10:00:00.250Z')).toEqual({ kind: 'time', epochMs: ms + 250 });
    expect(parseStartAt(String(ms / 1000))).toEqual({ kind: 'time', epochMs: ms });
    expect(parseStartAt(String(ms))).toEqual({ kind: 'time', epochMs: ms });
  });
  it('reads a barrier, an IPv6 host in brackets', () => {
    expect(parseStartAt('barrier:job-0.job:7070')).toEqual({ kind: 'barrier', host: 'job-0.job', port: 7070 });
    expect(parseStartAt('barrier:[::1]:7070')).toEqual({ kind: 'barrier', host: '::1', port: 7070 });
  });
  it('refuses a time without its zone, garbage, and a bad barrier', () => {
    expect(() => parseStartAt('2026-12-03T10:00:00')).toThrow(/give the time zone/);
    for (const bad of ['soon', '2026-13-45T99:00:00Z', 'barrier:host', 'barrier:host:0', 'barrier:host:70000', 'barrier:[nothost]:1', 'barrier::7070']) {
      expect(() => parseStartAt(bad), bad).toThrow(/--start-at/);
    }
  });
});

describe('--barrier-timeout', () => {
  it('is a duration above 0; the default is 10 minutes', () => {
    expect(parseBarrierTimeout('2s')).toBe(2000);
    expect(DEFAULT_BARRIER_TIMEOUT_MS).toBe(600_000);
    for (const bad of ['0s', 'never', '-1s']) expect(() => parseBarrierTimeout(bad), bad).toThrow(/--barrier-timeout/);
  });
});

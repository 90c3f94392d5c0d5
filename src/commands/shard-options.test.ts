import { describe, expect, it } from 'vitest';
import { DEFAULT_BARRIER_TIMEOUT_MS, MAX_BARRIER_TIMEOUT, MAX_SHARDS, MAX_START_AHEAD_DAYS, parseBarrierTimeout, parseShard, parseStartAt } from './shard-options.js';
import { parseDuration } from '../shared/duration.js';

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
  it('refuses a time more than a week ahead (setTimeout cannot wait that long either), takes one in the past', () => {
    const now = Date.UTC(2026, 11, 3, 8, 0, 0);
    const day = 86_400_000;
    const iso = (ms: number): string => new Date(ms).toISOString();
    expect(() => parseStartAt('2030-01-01T00:00:00Z', now)).toThrow(/^--start-at 2030-01-01T00:00:00Z is 1124 days ahead; a start at most 7 days ahead is taken$/);
    expect(() => parseStartAt(iso(now + MAX_START_AHEAD_DAYS * day + 1000), now)).toThrow(/days ahead/);
    expect(() => parseStartAt(String(now + 30 * day), now)).toThrow(/30 days ahead/);
    expect(() => parseStartAt(String((now + 30 * day) / 1000), now)).toThrow(/30 days ahead/);
    expect(parseStartAt(iso(now + MAX_START_AHEAD_DAYS * day), now)).toEqual({ kind: 'time', epochMs: now + MAX_START_AHEAD_DAYS * day });
    expect(parseStartAt(iso(now - 400 * day), now)).toEqual({ kind: 'time', epochMs: now - 400 * day });
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
  it(`is at most ${MAX_BARRIER_TIMEOUT}`, () => {
    expect(parseBarrierTimeout(MAX_BARRIER_TIMEOUT)).toBe(parseDuration(MAX_BARRIER_TIMEOUT));
    expect(() => parseBarrierTimeout('900h')).toThrow(`--barrier-timeout 900h: at most ${MAX_BARRIER_TIMEOUT}`);
    expect(() => parseBarrierTimeout('24h1s')).toThrow(/at most/);
  });
});

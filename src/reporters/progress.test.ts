import { describe, expect, it } from 'vitest';
import type { TimeseriesPoint } from '../engine/aggregator.js';
import { schedulePhases } from '../scenarios/schedule.js';
import { colorsFor } from './colors.js';
import { Progress, progressMode } from './progress.js';

const phases = schedulePhases([
  { kind: 'arrivalRate', name: 'warm-up', durationMs: 5000, arrivalRate: 10, rampTo: 10 },
  { kind: 'arrivalRate', name: 'surge', durationMs: 10_000, arrivalRate: 10, rampTo: 50 },
]);
const point = (t: number): TimeseriesPoint => ({
  t, offeredRps: 10, achievedRps: 9, rps: 9, p50: 5, p95: 9, p99: 12, errors: 0, dropped: 0, inFlight: 1,
  generator: { elu: 0.1, loopLagP99Ms: 1, loopLagMaxMs: 2, scheduleLagP99Ms: 0.5, cpuPercent: 10, windowMs: 1000, connectionQueue: 0 },
});
const live = { requests: 100, errors: 2, dropped: 0, p99: 15 };

describe('live progress', () => {
  it('in a terminal, redraws one status block in place', () => {
    let out = '';
    const p = new Progress({ write: (s) => (out += s), tty: true, colors: colorsFor({ isTTY: true }, { NO_COLOR: '1' }), phases });
    p.update(point(0), live);
    p.update(point(6), live);
    const frames = out.split('\x1b[3A');
    expect(frames).toHaveLength(2);
    expect(frames[0]).toMatch(/warm-up .* 1\/15 s/);
    expect(frames[1]).toMatch(/surge .* 7\/15 s/);
    expect(frames[1]).toMatch(/offered 10\/s {2}achieved 9\/s/);
    expect(frames[1]).toMatch(/errors 2 \(2\.00%\)/);
    // NO_COLOR: cursor moves only, no colour codes (SGR sequences end in "m").
    // eslint-disable-next-line no-control-regex -- matching terminal escapes is the point
    expect(out).not.toMatch(/\x1b\[[\d;]*m/);
  });

  it('prints a phase name with terminal escapes as text, in a terminal and in plain lines', () => {
    const evil = schedulePhases([{ kind: 'arrivalRate', name: 'surge\x1b[2J\x07', durationMs: 5000, arrivalRate: 10, rampTo: 10 }]);
    for (const tty of [true, false]) {
      let out = '';
      const p = new Progress({ write: (s) => (out += s), tty, colors: colorsFor({ isTTY: false }, {}), phases: evil, plainEverySec: 1 });
      p.update(point(1), live);
      expect(out).toContain('surge\\x1b[2J\\x07');
      expect(out).not.toContain('\x07');
      expect(out).not.toContain('\x1b[2J');
    }
  });

  it('after a stop, draws a fresh block below the line the CLI printed, not over it', () => {
    let out = '';
    const ac = new AbortController();
    const p = new Progress({ write: (s) => (out += s), tty: true, colors: colorsFor({ isTTY: false }, {}), phases, signal: ac.signal });
    p.update(point(0), live);
    out += 'scalectl: SIGINT received, stopping\n';
    ac.abort();
    p.update(point(1), live);
    expect(out).not.toContain('\x1b[3A');
    expect(out.indexOf('SIGINT received')).toBeLessThan(out.lastIndexOf('2/15 s'));
  });

  it('elsewhere, prints a plain line every 5 s', () => {
    const lines: string[] = [];
    const p = new Progress({ write: (s) => lines.push(s), tty: false, colors: colorsFor({ isTTY: false }, {}), phases });
    for (let t = 0; t < 12; t++) p.update(point(t), live);
    expect(lines).toHaveLength(3);
    expect(lines[0]).toBe('[1/15s] warm-up: offered 10/s achieved 9/s p99 15ms requests 100 errors 2\n');
    expect(lines[1]).toMatch(/^\[6\/15s\] surge/);
    expect(lines.join('')).not.toContain('\x1b');
  });
});

describe('progress in CI', () => {
  it('with CI set to a true value, prints plain lines every 10 s even on a terminal: no carriage returns, no escape codes', () => {
    for (const CI of ['true', '1', 'woodpecker']) {
      const env = { CI, FORCE_COLOR: '1' };
      const mode = progressMode({ isTTY: true }, env);
      expect(mode).toEqual({ tty: false, plainEverySec: 10 });
      let out = '';
      const p = new Progress({ write: (s) => (out += s), ...mode, colors: colorsFor({ isTTY: true }, env), phases, telemetry: () => ({ t: 0, queueDepth: 3 }) });
      for (let t = 0; t < 15; t++) p.update(point(t), { ...live, dropped: 1 });
      expect(out.split('\n').filter(Boolean).map((l) => l.slice(0, 8))).toEqual(['[1/15s] ', '[11/15s]']);
      expect(out).not.toContain('\r');
      expect(out).not.toContain('\x1b');
    }
  });

  it('without CI (or with CI=false, 0 or empty), a terminal is redrawn and anything else gets plain lines', () => {
    for (const CI of [undefined, 'false', '0', '', 'FALSE']) {
      expect(progressMode({ isTTY: true }, { CI })).toEqual({ tty: true });
      expect(progressMode({ isTTY: false }, { CI })).toEqual({ tty: false });
    }
  });
});

describe('colour', () => {
  it('is on for a terminal only, and off with NO_COLOR', () => {
    expect(colorsFor({ isTTY: true }, {}).level).toBeGreaterThan(0);
    expect(colorsFor({ isTTY: false }, {}).level).toBe(0);
    expect(colorsFor({ isTTY: true }, { NO_COLOR: '1' }).level).toBe(0);
  });

  it('FORCE_COLOR=1/2/3 forces it on a non-terminal at that level, FORCE_COLOR=0 turns it off, and NO_COLOR wins', () => {
    const pipe = { isTTY: false };
    expect(['1', '2', '3', 'true', ''].map((FORCE_COLOR) => colorsFor(pipe, { FORCE_COLOR }).level)).toEqual([1, 2, 3, 1, 1]);
    expect(colorsFor(pipe, { FORCE_COLOR: '1' }).red('x')).toBe('\x1b[31mx\x1b[39m');
    expect(['0', 'false'].map((FORCE_COLOR) => colorsFor({ isTTY: true }, { FORCE_COLOR }).level)).toEqual([0, 0]);
    expect(colorsFor(pipe, { FORCE_COLOR: '3', NO_COLOR: '1' }).level).toBe(0);
    // An empty NO_COLOR does not count (no-color.org).
    expect(colorsFor(pipe, { FORCE_COLOR: '1', NO_COLOR: '' }).level).toBe(1);
  });
});

describe('telemetryLine', () => {
  it('shows what is known of the target, and nothing before the first scrapes', async () => {
    const { telemetryLine } = await import('./progress.js');
    expect(telemetryLine(undefined)).toBe('');
    expect(telemetryLine({ t: 3, cacheHitRatio: 0.934, queueDepth: 12, jobsPerSec: 20.5, cpuPercent: 145.2, cpuMaxWorkerPercent: 80.4, eventLoopLagMs: 3 }))
      .toBe('cache hit 93%  queue 12  jobs 20.5/s  CPU 145% (hottest worker 80%)  lag 3ms');
    expect(telemetryLine({ t: 0, cacheHitRatio: null })).toBe('cache hit -');
  });

  it('shows ready replicas per role, first, with role names as text', async () => {
    const { telemetryLine } = await import('./progress.js');
    expect(telemetryLine({ t: 3, replicas: { web: 2, consumer: 3 }, queueDepth: 40 })).toBe('replicas web 2 · consumer 3  queue 40');
    expect(telemetryLine({ t: 3, replicas: { 'evil\x1b[2J': 1 } })).toBe('replicas evil\\x1b[2J 1');
    expect(telemetryLine({ t: 3, replicas: {} })).toBe('');
  });

  it('puts the replicas in the live block and in plain lines', () => {
    let out = '';
    let counts = { web: 1, consumer: 1 };
    const p = new Progress({ write: (s) => (out += s), tty: true, colors: colorsFor({ isTTY: false }, {}), phases, telemetry: () => ({ t: 0, replicas: counts }) });
    p.update(point(0), live);
    counts = { web: 3, consumer: 2 };
    p.update(point(1), live);
    const frames = out.split('\x1b[4A');
    expect(frames).toHaveLength(2);
    expect(frames[0]).toContain('target: replicas web 1 · consumer 1');
    expect(frames[1]).toContain('target: replicas web 3 · consumer 2');
    const lines: string[] = [];
    const plain = new Progress({ write: (s) => lines.push(s), tty: false, colors: colorsFor({ isTTY: false }, {}), phases, telemetry: () => ({ t: 0, replicas: { web: 2 } }) });
    plain.update(point(0), live);
    expect(lines[0]).toMatch(/ \| replicas web 2\n$/);
  });
});

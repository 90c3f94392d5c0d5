import { describe, expect, it } from 'vitest';
import type { TimeseriesPoint } from '../engine/aggregator.js';
import { judgeGenerator } from './generator-health.js';

const at = (elu: number, lag = 1, sched = 1): TimeseriesPoint => ({
  t: 0, offeredRps: 0, achievedRps: 0, rps: 0, p50: 0, p95: 0, p99: 0, errors: 0, dropped: 0, inFlight: 0,
  generator: { elu, loopLagP99Ms: lag, loopLagMaxMs: lag, scheduleLagP99Ms: sched, cpuPercent: elu * 100, windowMs: 1000 },
});

describe('generator health', () => {
  it('is fine when the engine thread has room', () => {
    const g = judgeGenerator(Array.from({ length: 10 }, () => at(0.4)), 1, 100, 0, 2);
    expect(g).toMatchObject({ saturated: false, warnings: [] });
    expect(g.eventLoopUtilization).toEqual({ mean: 0.4, max: 0.4 });
  });

  it('is saturated when a thread is busy >= 90% for 2 s, lag is high, or arrivals run late', () => {
    expect(judgeGenerator([at(0.95), at(0.97), ...Array.from({ length: 8 }, () => at(0.3))], 1, 100, 0, 2).saturated).toBe(true);
    expect(judgeGenerator([at(0.2, 80), at(0.2, 90), ...Array.from({ length: 8 }, () => at(0.2))], 1, 100, 0, 2).saturated).toBe(true);
    expect(judgeGenerator([at(0.2, 1, 200), at(0.2, 1, 300), at(0.2)], 1, 100, 0, 2).saturated).toBe(true);
    // One busy second in ten (start-up) is not saturation.
    expect(judgeGenerator([at(0.99), ...Array.from({ length: 9 }, () => at(0.3))], 1, 100, 0, 2).saturated).toBe(false);
  });

  it('ignores the short last window of a run', () => {
    const short = { ...at(1), generator: { ...at(1).generator, windowMs: 20 } };
    const g = judgeGenerator([at(0.3), at(0.3), at(0.3), short], 1, 100, 0, 2);
    expect(g.saturated).toBe(false);
    expect(g.eventLoopUtilization.max).toBe(0.3);
  });

  it('suggests more workers while cores remain, and warns about drops', () => {
    const g = judgeGenerator([at(0.95), at(0.95)], 1, 50, 12, 2);
    expect(g.warnings[0]).toMatch(/describe the tool, not the target; try --workers 2/);
    expect(g.warnings[1]).toMatch(/^12 iterations dropped: 50 were already in flight/);
  });
});

import { describe, expect, it } from 'vitest';
import type { TimeseriesPoint } from '../engine/aggregator.js';
import { judgeGenerator } from './generator-health.js';

const at = (elu: number, lag = 1, sched = 1): TimeseriesPoint => ({
  t: 0, offeredRps: 0, achievedRps: 0, rps: 0, p50: 0, p95: 0, p99: 0, errors: 0, dropped: 0, inFlight: 0,
  generator: { elu, loopLagP99Ms: lag, loopLagMaxMs: lag, scheduleLagP99Ms: sched, cpuPercent: elu * 100, windowMs: 1000, connectionQueue: 0 },
});

describe('generator health', () => {
  it('is fine when the engine thread has room', () => {
    const g = judgeGenerator(Array.from({ length: 10 }, () => at(0.4)), { workers: 1, maxInFlight: 100, connections: 256, connectionsSet: false, cores: 2 }, 0);
    expect(g).toMatchObject({ saturated: false, warnings: [] });
    expect(g.eventLoopUtilization).toEqual({ mean: 0.4, max: 0.4 });
  });

  it('is saturated when a thread is busy >= 90% for 2 s, lag is high, or arrivals run late', () => {
    expect(judgeGenerator([at(0.95), at(0.97), ...Array.from({ length: 8 }, () => at(0.3))], { workers: 1, maxInFlight: 100, connections: 256, connectionsSet: false, cores: 2 }, 0).saturated).toBe(true);
    expect(judgeGenerator([at(0.2, 80), at(0.2, 90), ...Array.from({ length: 8 }, () => at(0.2))], { workers: 1, maxInFlight: 100, connections: 256, connectionsSet: false, cores: 2 }, 0).saturated).toBe(true);
    expect(judgeGenerator([at(0.2, 1, 200), at(0.2, 1, 300), at(0.2)], { workers: 1, maxInFlight: 100, connections: 256, connectionsSet: false, cores: 2 }, 0).saturated).toBe(true);
    // One busy second in ten (a cold start) is not saturation, but it is said.
    const points = [at(0.99), ...Array.from({ length: 9 }, () => at(0.3))].map((p, t) => ({ ...p, t }));
    const cold = judgeGenerator(points, { workers: 1, maxInFlight: 100, connections: 256, connectionsSet: false, cores: 2 }, 0);
    expect(cold.saturated).toBe(false);
    expect(cold.warnings).toEqual([
      'the generator was busy in second 0 of 10; latency there includes its delay (a cold start: a short warm-up phase at a lower rate keeps it out of the numbers that matter)',
    ]);
  });

  it('ignores the short last window of a run', () => {
    const short = { ...at(1), generator: { ...at(1).generator, windowMs: 20 } };
    const g = judgeGenerator([at(0.3), at(0.3), at(0.3), short], { workers: 1, maxInFlight: 100, connections: 256, connectionsSet: false, cores: 2 }, 0);
    expect(g.saturated).toBe(false);
    expect(g.eventLoopUtilization.max).toBe(0.3);
  });

  it('warns when requests waited for a connection in 2 s or more', () => {
    const waiting = { ...at(0.3), generator: { ...at(0.3).generator, connectionQueue: 40 } };
    expect(judgeGenerator([waiting, at(0.3)], { workers: 1, maxInFlight: 100, connections: 8, connectionsSet: true, cores: 2 }, 0).warnings).toEqual([]);
    const g = judgeGenerator([waiting, waiting, at(0.3)], { workers: 1, maxInFlight: 100, connections: 8, connectionsSet: true, cores: 2 }, 0);
    expect(g.connectionWaitSeconds).toBe(2);
    expect(g.warnings[0]).toMatch(/^requests waited for a free connection in 2 s \(8 connections per origin per worker\)/);
  });

  it('suggests more workers while cores remain, and warns about drops', () => {
    const g = judgeGenerator([at(0.95), at(0.95)], { workers: 1, maxInFlight: 50, connections: 256, connectionsSet: false, cores: 2 }, 12);
    expect(g.warnings[0]).toMatch(/describe the tool, not the target; try --workers 2/);
    expect(g.warnings[1]).toMatch(/^12 iterations dropped: 50 were already in flight/);
  });

  it('names the connection cap, not the machine, when requests queued for a connection', () => {
    const queued = (elu: number): TimeseriesPoint => ({ ...at(elu), generator: { ...at(elu).generator, connectionQueue: 500 } });
    const g = judgeGenerator([queued(0.95), queued(0.95), queued(0.3)], { workers: 1, maxInFlight: 50, connections: 1, connectionsSet: true, cores: 2 }, 7);
    expect(g.saturated).toBe(true);
    expect(g.warnings[0]).toMatch(/requests queued for the connection cap \(1 per origin per worker, defaults.connections or --connections\) in 3 s/);
    expect(g.warnings[0]).not.toMatch(/describe the tool|--workers/);
    expect(g.warnings[1]).toMatch(/^7 iterations dropped: .*Requests queued for the connection cap/);
    // At the default cap, a queue is a symptom of a busy generator, not the user's setting.
    const atDefault = judgeGenerator([queued(0.95), queued(0.95), queued(0.3)], { workers: 1, maxInFlight: 50, connections: 256, connectionsSet: false, cores: 2 }, 0);
    expect(atDefault.warnings[0]).toMatch(/describe the tool, not the target; try --workers 2/);
  });

  it('blames the connection cap when the user set it, whatever its size, and never tells to raise the default cap of a saturated generator', () => {
    const queued = (elu: number): TimeseriesPoint => ({ ...at(elu), generator: { ...at(elu).generator, connectionQueue: 500 } });
    const points = [queued(0.95), queued(0.95), queued(0.3)];
    const userCap = judgeGenerator(points, { workers: 1, maxInFlight: 5000, connections: 512, connectionsSet: true, cores: 2 }, 0);
    expect(userCap.warnings[0]).toMatch(/requests queued for the connection cap \(512 per origin per worker/);
    expect(userCap.warnings[1]).toMatch(/raise defaults.connections or --connections/);
    const atDefault = judgeGenerator(points, { workers: 1, maxInFlight: 5000, connections: 256, connectionsSet: false, cores: 2 }, 0);
    expect(atDefault.warnings[0]).toMatch(/describe the tool, not the target/);
    expect(atDefault.warnings[1]).toBe('requests waited for a free connection in 3 s (256 connections per origin per worker, the default): the generator was saturated, so the wait is its own delay; a higher cap would not help');
    // Not saturated: the default cap itself held requests back.
    const calm = judgeGenerator([queued(0.3), queued(0.3)], { workers: 1, maxInFlight: 5000, connections: 256, connectionsSet: false, cores: 2 }, 0);
    expect(calm.warnings).toEqual(['requests waited for a free connection in 2 s (256 connections per origin per worker, the default): their latency includes that wait; set defaults.connections or --connections higher if the target should see more concurrency']);
  });
});

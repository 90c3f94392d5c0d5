import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  erlangB, erlangC, queueMetrics, responseWithin, serversForLatency, serversForServiceLevel,
  sumOfExponentialsExceeds, waitWithin, formatPercentile,
} from './erlang.js';
import { mulberry32 } from '../../test/helpers/seeded-random.js';

/**
 * An independent check: a FIFO M/M/c queue simulated customer by customer
 * (each arrival takes the server that frees first). Returns the fraction with
 * response time <= latencySec and the fraction that waited at all.
 */
function simulateMMc(servers: number, arrivalRate: number, serviceTimeSec: number, latencySec: number, seed: number) {
  const rnd = mulberry32(seed);
  const exp = (rate: number) => -Math.log(1 - rnd()) / rate;
  const free = new Array<number>(servers).fill(0);
  const warmup = 5_000;
  const n = 150_000;
  let now = 0;
  let within = 0;
  let waited = 0;
  for (let i = 0; i < warmup + n; i++) {
    now += exp(arrivalRate);
    let k = 0;
    for (let j = 1; j < servers; j++) if (free[j]! < free[k]!) k = j;
    const start = Math.max(now, free[k]!);
    free[k] = start + exp(1 / serviceTimeSec);
    if (i < warmup) continue;
    if (free[k]! - now <= latencySec) within++;
    if (start > now) waited++;
  }
  return { within: within / n, waited: waited / n };
}

describe('Erlang C against published numbers', () => {
  // Call Centre Helper, "Erlang C Formula – Made Simple With an Easy Worked Example",
  // https://www.callcentrehelper.com/erlang-c-formula-example-121281.htm : 100 calls per
  // 30 minutes, average handling time 180 s, 80% answered within 20 s → 10 Erlangs, 14 agents.
  // The exact figures for 14 agents are those printed by pyworkforce for the same example,
  // rodrigo-arenas/pyworkforce docs/guide/erlangc.md ("Basic usage"):
  //   'raw_positions': 14, 'service_level': 0.8883500191794669,
  //   'occupancy': 0.7142857142857143, 'waiting_probability': 0.1741319335950498
  const example = { arrivalRate: 100 / 1800, serviceTimeSec: 180, targetWaitSec: 20, serviceLevel: 0.8 };

  it('the call-centre worked example: 10 Erlangs, 80% within 20 s needs 14 agents', () => {
    const plan = serversForServiceLevel(example);
    expect(plan).toMatchObject({ ok: true, servers: 14 });
    if (!plan.ok) return;
    expect(plan.offeredLoad).toBeCloseTo(10, 12);
    expect(plan.probabilityOfWaiting).toBeCloseTo(0.1741319335950498, 12);
    expect(plan.serviceLevel).toBeCloseTo(0.8883500191794669, 12);
    expect(plan.utilization).toBeCloseTo(0.7142857142857143, 12);
    // One agent fewer misses the target: 13 agents answer under 80% within 20 s.
    expect(waitWithin(13, example, 20)).toBeLessThan(0.8);
  });

  it('15 agents for the same traffic', () => {
    // rodrigo-arenas/pyworkforce pyworkforce/queuing/tests/test_erlang.py, test_over_occupancy_erlangc:
    // 15 agents → service_level 0.941, occupancy 0.667, waiting_probability 0.102 (3 decimals).
    expect(erlangC(15, 10)).toBeCloseTo(0.102, 3);
    expect(waitWithin(15, example, 20)).toBeCloseTo(0.941, 3);
    expect(queueMetrics(15, example).utilization).toBeCloseTo(0.667, 3);
  });

  it('mean response time of M/M/2 and M/M/4 with lambda = 9/s, mu = 5/s', () => {
    // ETH Zurich, Advanced Systems Lab 2017, slides "M/M/m queues",
    // https://www.systems.ethz.ch/sites/default/files/file/asl2017/slides/slides-mmx-queues.pdf
    // as checked in mmarzolla/queueing inst/qsmmm.m (%!test blocks, tolerance 1e-3):
    //   m = 2: mean number waiting 7.674, mean response time 1.053 s
    //   m = 4: mean number waiting 0.105, mean response time 0.212 s
    const load = { arrivalRate: 9, serviceTimeSec: 1 / 5 };
    for (const [m, waiting, response] of [[2, 7.674, 1.053], [4, 0.105, 0.212]] as const) {
      const q = queueMetrics(m, load);
      expect(Math.abs(load.arrivalRate * q.meanWaitSec - waiting)).toBeLessThan(1e-3);
      expect(Math.abs(q.meanResponseSec - response)).toBeLessThan(1e-3);
    }
  });

  it('the textbook special cases: B(1, A) = A/(1 + A), C(1, rho) = rho (M/M/1)', () => {
    for (const a of [0.1, 0.5, 0.9]) {
      expect(erlangB(1, a)).toBeCloseTo(a / (1 + a), 14);
      expect(erlangC(1, a)).toBeCloseTo(a, 14);
    }
  });
});

describe('Erlang B and C properties', () => {
  const factorialForm = (c: number, a: number): number => {
    // The closed form with factorials, fine for small c: (A^c/c!)·c/(c−A) / (Σ_{k<c} A^k/k! + that).
    let term = 1;
    let sum = 0;
    for (let k = 0; k < c; k++) {
      sum += term;
      term *= a / (k + 1);
    }
    const top = term * (c / (c - a));
    return top / (sum + top);
  };
  const stable = fc.tuple(fc.integer({ min: 1, max: 60 }), fc.double({ min: 0.01, max: 0.999, noNaN: true }))
    .map(([c, rho]) => ({ c, a: c * rho }));

  it('the stable recursion agrees with the factorial closed form', () => {
    fc.assert(fc.property(stable, ({ c, a }) => {
      expect(erlangC(c, a)).toBeCloseTo(factorialForm(c, a), 10);
      expect(erlangC(c, a)).toBeGreaterThanOrEqual(erlangB(c, a));
    }));
  });

  it('P_w is in (0, 1) and falls as servers are added; the service level rises', () => {
    fc.assert(fc.property(
      fc.double({ min: 0.01, max: 500, noNaN: true }), fc.integer({ min: 0, max: 40 }), fc.double({ min: 0, max: 5, noNaN: true }),
      (a, extra, waitInServiceTimes) => {
        const c = Math.floor(a) + 1 + extra;
        const load = { arrivalRate: a, serviceTimeSec: 1 };
        const pw = erlangC(c, a);
        expect(pw).toBeGreaterThan(0);
        expect(pw).toBeLessThan(1);
        expect(erlangC(c + 1, a)).toBeLessThan(pw);
        expect(waitWithin(c + 1, load, waitInServiceTimes)).toBeGreaterThanOrEqual(waitWithin(c, load, waitInServiceTimes));
        expect(responseWithin(c + 1, load, waitInServiceTimes)).toBeGreaterThanOrEqual(responseWithin(c, load, waitInServiceTimes));
      }));
  });

  it('is unstable at c <= A: everyone waits, no target is met', () => {
    expect(erlangC(10, 10)).toBe(1);
    expect(erlangC(3, 7.5)).toBe(1);
    expect(waitWithin(10, { arrivalRate: 10, serviceTimeSec: 1 }, 100)).toBe(0);
  });

  it('stays finite for thousands of Erlangs', () => {
    const load = { arrivalRate: 5000, serviceTimeSec: 1 };
    const pw = erlangC(5100, 5000);
    expect(Number.isFinite(pw) && pw > 0 && pw < 1).toBe(true);
    const plan = serversForServiceLevel({ ...load, targetWaitSec: 0.02, serviceLevel: 0.9 });
    expect(plan.ok).toBe(true);
    if (!plan.ok) return;
    expect(plan.servers).toBeGreaterThan(5000);
    expect(plan.servers).toBeLessThan(5000 + 10 * Math.sqrt(5000));
    for (const v of [plan.utilization, plan.probabilityOfWaiting, plan.serviceLevel, plan.meanWaitSec]) expect(Number.isFinite(v)).toBe(true);
    expect(waitWithin(plan.servers - 1, load, 0.02)).toBeLessThan(0.9);
    const latency = serversForLatency({ ...load, latencySloSec: 5, percentile: 0.99 });
    expect(latency).toMatchObject({ ok: true });
  });

  it('the plan is the smallest count that meets the target', () => {
    fc.assert(fc.property(
      fc.double({ min: 0.05, max: 200, noNaN: true }), fc.double({ min: 0, max: 3, noNaN: true }), fc.double({ min: 0.05, max: 0.995, noNaN: true }),
      (a, wait, level) => {
        const load = { arrivalRate: a, serviceTimeSec: 1 };
        const plan = serversForServiceLevel({ ...load, targetWaitSec: wait, serviceLevel: level });
        expect(plan.ok).toBe(true);
        if (!plan.ok) return;
        expect(plan.serviceLevel).toBeGreaterThanOrEqual(level);
        expect(plan.serviceLevel).toBeCloseTo(waitWithin(plan.servers, load, wait), 12);
        expect(plan.meanWaitSec).toBeCloseTo(queueMetrics(plan.servers, load).meanWaitSec, 12);
        if (plan.servers - 1 > a) expect(waitWithin(plan.servers - 1, load, wait)).toBeLessThan(level);
      }));
  });
});

describe('response-time percentiles', () => {
  it('no number of servers meets p99 <= 2 s when the service time alone averages 10 s', () => {
    const plan = serversForLatency({ arrivalRate: 1, serviceTimeSec: 10, latencySloSec: 2, percentile: 0.99 });
    expect(plan).toMatchObject({ ok: false, offeredLoad: 10 });
    if (plan.ok) return;
    // -ln(0.01) × 10 s = 46.05 s
    expect(plan.reason).toMatch(/^the service time alone has p99 = 46\.05s > 2s/);
  });

  it('approaches the service time alone as servers grow', () => {
    const load = { arrivalRate: 2, serviceTimeSec: 1 };
    for (const t of [0.1, 1, 3]) expect(responseWithin(80, load, t)).toBeCloseTo(1 - Math.exp(-t), 12);
  });

  it('matches a simulated M/M/c queue', () => {
    // c = 3, A = 2: the wait rate c·mu − lambda equals mu, the degenerate case.
    for (const [c, latency, seed] of [[3, 2, 1], [4, 1.5, 2], [3, 4, 3]] as const) {
      const load = { arrivalRate: 2, serviceTimeSec: 1 };
      const sim = simulateMMc(c, load.arrivalRate, load.serviceTimeSec, latency, seed);
      expect(Math.abs(sim.within - responseWithin(c, load, latency))).toBeLessThan(0.02);
      expect(Math.abs(sim.waited - erlangC(c, 2))).toBeLessThan(0.02);
    }
  });

  it('sums two exponentials without cancellation when the rates meet', () => {
    const direct = (p: number, q: number, t: number) => (p * Math.exp(-q * t) - q * Math.exp(-p * t)) / (p - q);
    expect(sumOfExponentialsExceeds(3, 1, 2)).toBeCloseTo(direct(3, 1, 2), 14);
    expect(sumOfExponentialsExceeds(1, 3, 2)).toBeCloseTo(direct(3, 1, 2), 14);
    expect(sumOfExponentialsExceeds(1, 1, 2)).toBeCloseTo(3 * Math.exp(-2), 14);
    expect(sumOfExponentialsExceeds(1 + 1e-9, 1, 2)).toBeCloseTo(3 * Math.exp(-2), 8);
    expect(sumOfExponentialsExceeds(1e-3, 5000, 1e4)).toBeGreaterThan(0);
  });

  it('finds the smallest count for a feasible percentile', () => {
    const load = { arrivalRate: 20, serviceTimeSec: 0.05 };
    const plan = serversForLatency({ ...load, latencySloSec: 0.3, percentile: 0.99 });
    expect(plan.ok).toBe(true);
    if (!plan.ok) return;
    expect(plan.serviceLevel).toBeGreaterThanOrEqual(0.99);
    expect(responseWithin(plan.servers - 1, load, 0.3)).toBeLessThan(0.99);
  });

  it('names percentiles', () => {
    expect([0.99, 0.999, 0.95, 0.5].map(formatPercentile)).toEqual(['p99', 'p99.9', 'p95', 'p50']);
  });
});

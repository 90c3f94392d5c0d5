/**
 * M/M/c capacity planning with the Erlang C formula: Poisson arrivals,
 * exponential service times, `c` identical servers, one FIFO queue, nobody
 * gives up. Pure functions, no I/O.
 *
 * Notation: lambda arrivals/s, S mean service time in seconds (mu = 1/S),
 * offered load A = lambda * S in Erlangs. The queue is stable only when c > A.
 */
import { formatDuration } from '../shared/duration.js';

/** Offered loads above this many Erlangs are refused (the server search is linear in A). */
export const MAX_OFFERED_LOAD = 10_000_000;

/** How the work arrives and how long it takes. */
export interface QueueLoad {
  /** Arrivals per second (lambda), > 0. */
  arrivalRate: number;
  /** Mean service time in seconds (S = 1/mu), > 0. Assumed exponentially distributed. */
  serviceTimeSec: number;
}

/** "At least `serviceLevel` of requests wait no longer than `targetWaitSec` before service starts." */
export interface ServiceLevelTarget extends QueueLoad {
  /** Longest acceptable wait in the queue, seconds, >= 0 (0: answered at once). */
  targetWaitSec: number;
  /** Fraction that must meet the target wait, in (0, 1): 0.8 for 80%. */
  serviceLevel: number;
}

/** "Percentile `percentile` of response time (wait + service) is at most `latencySloSec`." */
export interface LatencyTarget extends QueueLoad {
  /** Response-time objective in seconds, > 0. */
  latencySloSec: number;
  /** The percentile as a fraction in (0, 1): 0.99 for p99. */
  percentile: number;
}

/** The smallest number of servers that meets the target, with what it achieves. */
export interface ErlangPlanOk {
  ok: true;
  servers: number;
  /** A = lambda * S, Erlangs. */
  offeredLoad: number;
  /** A / servers, in (0, 1). */
  utilization: number;
  /** Erlang C: the chance a request has to queue at all. */
  probabilityOfWaiting: number;
  /** Achieved fraction meeting the target: P(W <= target wait), or P(T <= latency SLO). */
  serviceLevel: number;
  /** Mean wait in the queue over all requests, seconds: P_w * S / (c - A). */
  meanWaitSec: number;
}

/** No number of servers meets the target (or none within the search limit). */
export interface ErlangPlanInfeasible {
  ok: false;
  /** Why, as a phrase for people: `the service time alone has p99 = 46.05s > 2s`. */
  reason: string;
  offeredLoad: number;
}

export type ErlangPlan = ErlangPlanOk | ErlangPlanInfeasible;

/**
 * Erlang B (blocking probability of M/M/c/c) by the recursion
 * B(0) = 1, B(k) = A·B(k−1) / (k + A·B(k−1)): every step stays in [0, 1], so
 * no factorials or powers overflow, whatever the load.
 */
export function erlangB(servers: number, offeredLoad: number): number {
  checkServers(servers);
  checkLoad(offeredLoad);
  let b = 1;
  for (let k = 1; k <= servers; k++) b = nextErlangB(b, k, offeredLoad);
  return b;
}

/**
 * Erlang C: the probability an arrival has to wait, P_w(c, A). It is 1 when
 * c <= A: the queue is unstable and grows without bound.
 */
export function erlangC(servers: number, offeredLoad: number): number {
  checkServers(servers);
  checkLoad(offeredLoad);
  if (servers <= offeredLoad) return 1;
  return erlangCFromB(servers, offeredLoad, erlangB(servers, offeredLoad));
}

/** P(W <= t) = 1 − P_w·exp(−(c − A)·t/S): the fraction whose wait in the queue is at most `waitSec`. */
export function waitWithin(servers: number, load: QueueLoad, waitSec: number): number {
  const a = offeredLoadOf(load);
  if (servers <= a) return 0;
  return waitWithinGiven(servers, a, load.serviceTimeSec, erlangC(servers, a), waitSec);
}

/**
 * P(T <= t) for the response time T = wait + service:
 * P(T > t) = (1 − P_w)·e^(−mu·t) + P_w·P(X + Y > t), with X ~ Exp(c·mu − lambda)
 * the wait of those who wait and Y ~ Exp(mu) their service.
 */
export function responseWithin(servers: number, load: QueueLoad, latencySec: number): number {
  const a = offeredLoadOf(load);
  if (servers <= a) return 0;
  return responseWithinGiven(servers, a, load.serviceTimeSec, erlangC(servers, a), latencySec);
}

/** What a fixed number of servers achieves; the queue must be stable (servers > A). */
export function queueMetrics(servers: number, load: QueueLoad): { offeredLoad: number; utilization: number; probabilityOfWaiting: number; meanWaitSec: number; meanResponseSec: number } {
  const a = offeredLoadOf(load);
  if (servers <= a) throw new RangeError(`${servers} servers cannot keep up with an offered load of ${a} Erlangs`);
  const pw = erlangC(servers, a);
  const meanWaitSec = (pw * load.serviceTimeSec) / (servers - a);
  return { offeredLoad: a, utilization: a / servers, probabilityOfWaiting: pw, meanWaitSec, meanResponseSec: meanWaitSec + load.serviceTimeSec };
}

/** `p99`, `p99.9`, `p50` for 0.99, 0.999, 0.5. */
export function formatPercentile(fraction: number): string {
  return `p${Number((fraction * 100).toFixed(4))}`;
}

/** The fewest servers so that at least `serviceLevel` of requests wait at most `targetWaitSec`. */
export function serversForServiceLevel(target: ServiceLevelTarget): ErlangPlan {
  checkFraction('serviceLevel', target.serviceLevel);
  if (!(target.targetWaitSec >= 0) || !Number.isFinite(target.targetWaitSec)) {
    throw new RangeError(`targetWaitSec must be a finite number >= 0, got ${target.targetWaitSec}`);
  }
  return search(target, target.serviceLevel,
    (c, a, pw) => waitWithinGiven(c, a, target.serviceTimeSec, pw, target.targetWaitSec));
}

/**
 * The fewest servers so that percentile `percentile` of response time is at
 * most `latencySloSec`. Adding servers only removes waiting: as c grows,
 * P(T <= L) rises towards 1 − e^(−L/S), the service time alone. When that is
 * below the percentile no number of servers is enough, and the plan says so.
 */
export function serversForLatency(target: LatencyTarget): ErlangPlan {
  checkFraction('percentile', target.percentile);
  if (!(target.latencySloSec > 0) || !Number.isFinite(target.latencySloSec)) {
    throw new RangeError(`latencySloSec must be a finite number > 0, got ${target.latencySloSec}`);
  }
  const s = target.serviceTimeSec;
  const limit = -Math.expm1(-target.latencySloSec / s);
  if (limit <= target.percentile) {
    const serviceOnly = s * -Math.log1p(-target.percentile);
    return {
      ok: false,
      offeredLoad: offeredLoadOf(target),
      reason: `the service time alone has ${formatPercentile(target.percentile)} = ${seconds(serviceOnly)} > ${seconds(target.latencySloSec)}` +
        ` (exponential service with mean ${seconds(s)})`,
    };
  }
  return search(target, target.percentile,
    (c, a, pw) => responseWithinGiven(c, a, s, pw, target.latencySloSec));
}

/**
 * Walks c upward from the first stable count, carrying Erlang B along (one
 * O(1) step per server), and stops at the first c whose achieved fraction
 * reaches `goal`. Beyond A + 10·sqrt(A) + 1000 servers P_w is negligible, so a
 * target still unmet there is reported as infeasible rather than searched on.
 */
function search(load: QueueLoad, goal: number, achieved: (c: number, a: number, pw: number) => number): ErlangPlan {
  const a = offeredLoadOf(load);
  const first = Math.floor(a) + 1;
  const last = Math.ceil(a + 10 * Math.sqrt(a) + 1000);
  let b = 1;
  for (let k = 1; k < first; k++) b = nextErlangB(b, k, a);
  let best = 0;
  for (let c = first; c <= last; c++) {
    b = nextErlangB(b, c, a);
    const pw = erlangCFromB(c, a, b);
    const level = achieved(c, a, pw);
    if (level >= goal) {
      return {
        ok: true, servers: c, offeredLoad: a, utilization: a / c, probabilityOfWaiting: pw,
        serviceLevel: level, meanWaitSec: (pw * load.serviceTimeSec) / (c - a),
      };
    }
    best = Math.max(best, level);
  }
  return {
    ok: false, offeredLoad: a,
    reason: `not met with up to ${last} servers (the best reached ${(best * 100).toFixed(4)}%, the target is ${(goal * 100).toFixed(4)}%)`,
  };
}

function nextErlangB(previous: number, k: number, a: number): number {
  return (a * previous) / (k + a * previous);
}

/** C = c·B / (c − A·(1 − B)), valid for c > A. */
function erlangCFromB(c: number, a: number, b: number): number {
  return Math.min(1, (c * b) / (c - a * (1 - b)));
}

function waitWithinGiven(c: number, a: number, s: number, pw: number, t: number): number {
  return 1 - pw * Math.exp((-(c - a) * t) / s);
}

function responseWithinGiven(c: number, a: number, s: number, pw: number, t: number): number {
  const mu = 1 / s;
  const queued = (c - a) * mu; // c·mu − lambda: the rate of the wait of those who wait
  const exceed = (1 - pw) * Math.exp(-mu * t) + pw * sumOfExponentialsExceeds(queued, mu, t);
  return Math.min(1, Math.max(0, 1 - exceed));
}

/**
 * P(X + Y > t) for independent X ~ Exp(p), Y ~ Exp(q):
 * (p·e^(−q t) − q·e^(−p t)) / (p − q), or (1 + p t)·e^(−p t) when p = q.
 * Written as e^(−lo·t)·(1 + lo·t·(1 − e^(−d t))/(d t)) with lo = min, d = |p − q|:
 * no cancellation near p = q, and no overflow (the expression is symmetric).
 */
export function sumOfExponentialsExceeds(p: number, q: number, t: number): number {
  const lo = Math.min(p, q);
  const x = (Math.max(p, q) - lo) * t;
  const ratio = x < 1e-12 ? 1 - x / 2 : -Math.expm1(-x) / x;
  return Math.exp(-lo * t) * (1 + lo * t * ratio);
}

function offeredLoadOf(load: QueueLoad): number {
  if (!(load.arrivalRate > 0) || !Number.isFinite(load.arrivalRate)) {
    throw new RangeError(`arrivalRate must be a finite number > 0, got ${load.arrivalRate}`);
  }
  if (!(load.serviceTimeSec > 0) || !Number.isFinite(load.serviceTimeSec)) {
    throw new RangeError(`serviceTimeSec must be a finite number > 0, got ${load.serviceTimeSec}`);
  }
  const a = load.arrivalRate * load.serviceTimeSec;
  checkLoad(a);
  return a;
}

function checkServers(servers: number): void {
  if (!Number.isInteger(servers) || servers < 1) throw new RangeError(`servers must be a whole number >= 1, got ${servers}`);
}

function checkLoad(a: number): void {
  if (!(a >= 0) || a > MAX_OFFERED_LOAD) throw new RangeError(`offered load must be between 0 and ${MAX_OFFERED_LOAD} Erlangs, got ${a}`);
}

function checkFraction(name: string, f: number): void {
  if (!(f > 0 && f < 1)) throw new RangeError(`${name} must be a fraction strictly between 0 and 1, got ${f}`);
}

function seconds(sec: number): string {
  return formatDuration(sec * 1000);
}

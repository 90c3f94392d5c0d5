import type { CapacitySettings } from '../capacity/capacity-result.js';
import { usageError } from '../exit-codes.js';

export type { CapacitySettings } from '../capacity/capacity-result.js';
export { DEFAULT_POD_STARTUP_MS } from '../capacity/autoscaler-settings.js';
import { parseDuration } from '../shared/duration.js';
import { parseThreshold } from '../scenarios/threshold-expression.js';
import { targetUrlProblem } from '../scenarios/target-url.js';
import { SHOP_DEPLOYMENTS } from '../reporters/k8s.js';
import { redisAddressProblem } from '../reporters/redis-address.js';
import { maskCredentials } from '../shared/mask-credentials.js';
import { LOAD_LIMITS } from '../scenarios/schema.js';

/** Without --max-steady, an undecided step may be measured this many windows in all. */
export const DEFAULT_WINDOWS_PER_STEP = 3;

/** `scalectl capacity` flags as commander hands them over (strings, lists for repeatable flags). */
export interface CapacityFlags {
  replicas?: string;
  slo?: string[];
  /** false with --no-scenario-thresholds. */
  scenarioThresholds?: boolean;
  peakRps?: string;
  surge?: string;
  baseRate?: string;
  headroom?: string;
  precision?: string;
  warmup?: string;
  steady?: string;
  maxSteady?: string;
  redisAddress?: string;
  redisTls?: boolean;
  startRate?: string;
  maxRate?: string;
  target?: string;
  scaleCmd?: string;
  readyUrl?: string;
  readyTimeout?: string;
  podStartup?: string;
  consumers?: string;
  ramp?: string;
  queue?: string;
  queuePrefix?: string;
  queueWait?: string;
  jobTime?: string;
  deployment?: string;
  consumerDeployment?: string;
  out?: string;
  emitK8s?: string;
  html?: string;
  workers?: number;
  verify?: boolean;
  applyCmd?: string;
  plan?: string;
}

/** `25%` or `0.25` → 0.25. */
function fraction(flag: string, v: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(%?)\s*$/.exec(v);
  const n = m ? Number(m[1]) / (m[2] ? 100 : 1) : NaN;
  if (!Number.isFinite(n) || (!m![2] && n >= 1)) throw usageError(`${flag} takes a percentage such as 25% or a fraction such as 0.25, got "${v}"`);
  return n;
}

function positive(flag: string, v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw usageError(`${flag} takes a number > 0, got "${v}"`);
  return n;
}

/** An arrival rate: above 0 and within the scenario's bound (capacity's phases are built without the schema). */
function rate(flag: string, v: string): number {
  const n = positive(flag, v);
  if (n > LOAD_LIMITS.arrivalRate) {
    throw usageError(`${flag} takes at most ${LOAD_LIMITS.arrivalRate} arrivals/s, got ${v}: one generator starts tens of thousands of iterations per second; for more load, run several generators`);
  }
  return n;
}

function duration(flag: string, v: string, min = 0): number {
  const ms = parseDuration(v);
  if (ms === undefined || ms < min) throw usageError(`${flag} takes a duration such as 15s or 500ms${min ? ` (at least ${min / 1000} s)` : ''}, got "${v}"`);
  return ms;
}

const optional = <T>(v: string | undefined, parse: (v: string) => T): T | undefined => (v === undefined ? undefined : parse(v));

/** Checks every flag and fills in the defaults; a bad value is a usage error (exit 2). */
export function parseCapacityOptions(f: CapacityFlags): CapacitySettings {
  if (f.plan !== undefined && !f.verify) throw usageError('--plan verifies a saved capacity.json: give --verify with it');
  if (f.plan !== undefined) {
    // A saved plan is verified as it was made: flags that would change what was measured or planned do not apply.
    const measuring = Object.entries({ '--replicas': f.replicas, '--slo': f.slo, '--no-scenario-thresholds': f.scenarioThresholds === false ? true : undefined, '--peak-rps': f.peakRps, '--surge': f.surge,
      '--base-rate': f.baseRate, '--ramp': f.ramp, '--pod-startup': f.podStartup, '--consumers': f.consumers, '--job-time': f.jobTime })
      .filter(([, v]) => v !== undefined).map(([k]) => k);
    if (measuring.length) throw usageError(`--plan verifies the saved plan as it was measured and planned: leave out ${measuring.join(', ')}`);
  }
  if (f.replicas === undefined && f.plan === undefined) throw usageError('--replicas is required, e.g. --replicas 1,2,3,4');
  if (f.applyCmd !== undefined && !f.verify) throw usageError('--apply-cmd puts the recommended autoscaler in place for --verify: give --verify with it');
  const replicas = (f.replicas ?? '').split(',').map((x) => x.trim()).filter(Boolean).map((x) => {
    const n = Number(x);
    if (!Number.isInteger(n) || n < 1 || n > 1000) throw usageError(`--replicas takes whole numbers from 1 to 1000 separated by commas, got "${x}"`);
    return n;
  });
  if (replicas.length === 0 && f.plan === undefined) throw usageError('--replicas needs at least one count');
  const slos = (f.slo ?? []).flatMap((x) => x.split(',')).map((x) => x.trim()).filter(Boolean);
  for (const slo of slos) {
    const t = parseThreshold(slo);
    if (typeof t === 'string') throw usageError(`--slo "${slo}": ${t}`);
  }
  if (f.peakRps !== undefined && f.surge !== undefined) throw usageError('give either --peak-rps or --surge, not both');
  const surge = optional(f.surge, (v) => {
    const m = /^\s*(\d+(?:\.\d+)?)\s*x?\s*$/i.exec(v);
    if (!m || !(Number(m[1]) >= 1)) throw usageError(`--surge takes a factor >= 1 such as 5x, got "${v}"`);
    return Number(m[1]);
  });
  for (const [flag, v] of [['--target', f.target], ['--ready-url', f.readyUrl]] as const) {
    const problem = v === undefined ? undefined : targetUrlProblem(v);
    if (problem) throw usageError(`${flag} ${maskCredentials(v!)}: ${problem}`);
  }
  if (f.readyUrl !== undefined && f.scaleCmd === undefined && f.applyCmd === undefined) throw usageError('--ready-url goes with --scale-cmd or --apply-cmd (it is polled after each)');
  if (f.applyCmd !== undefined && f.readyUrl === undefined) throw usageError('--apply-cmd needs --ready-url, the URL to wait for once the autoscaler is applied');
  if (f.scaleCmd !== undefined && f.readyUrl === undefined) throw usageError('--scale-cmd needs --ready-url, the URL to wait for after each resize');
  if (f.scaleCmd !== undefined && !f.scaleCmd.includes('{n}')) throw usageError('--scale-cmd must contain {n}, the replica count (e.g. "kubectl scale deploy/api --replicas={n}")');
  const precision = f.precision === undefined ? 0.05 : fraction('--precision', f.precision);
  if (precision < 0.005 || precision > 0.5) throw usageError('--precision must be between 0.5% and 50%');
  const startRate = optional(f.startRate, (v) => rate('--start-rate', v));
  const maxRate = f.maxRate === undefined ? 100_000 : rate('--max-rate', f.maxRate);
  if (startRate !== undefined && startRate > maxRate) throw usageError('--start-rate is above --max-rate');
  const steadyMs = f.steady === undefined ? 15_000 : duration('--steady', f.steady, 3000);
  const maxSteadyMs = f.maxSteady === undefined ? DEFAULT_WINDOWS_PER_STEP * steadyMs : duration('--max-steady', f.maxSteady, 3000);
  if (maxSteadyMs < steadyMs) throw usageError(`--max-steady ${f.maxSteady} is shorter than --steady (${steadyMs / 1000} s): it bounds the windows measured at one rate`);
  const redisProblem = f.redisAddress === undefined ? undefined : redisAddressProblem(f.redisAddress);
  if (redisProblem) throw usageError(maskCredentials(`--redis-address ${f.redisAddress}: ${redisProblem}`));
  const scenarioThresholds = f.scenarioThresholds !== false;
  if (!scenarioThresholds && slos.length === 0) throw usageError('--no-scenario-thresholds needs at least one --slo to judge the steps by');
  return {
    replicas: [...new Set(replicas)].sort((a, b) => a - b),
    slos,
    scenarioThresholds,
    peakRps: optional(f.peakRps, (v) => rate('--peak-rps', v)),
    surge,
    baseRate: optional(f.baseRate, (v) => rate('--base-rate', v)),
    headroom: f.headroom === undefined ? 0.25 : fraction('--headroom', f.headroom),
    precision,
    warmupMs: f.warmup === undefined ? 5000 : duration('--warmup', f.warmup),
    steadyMs,
    maxSteadyMs,
    startRate,
    maxRate,
    target: f.target,
    scaleCmd: f.scaleCmd,
    readyUrl: f.readyUrl,
    readyTimeoutMs: f.readyTimeout === undefined ? 300_000 : duration('--ready-timeout', f.readyTimeout, 1000),
    podStartupMs: optional(f.podStartup, (v) => duration('--pod-startup', v)),
    consumers: optional(f.consumers, (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1 || n > 1000) throw usageError(`--consumers takes a whole number from 1 to 1000, got "${v}"`);
      return n;
    }),
    rampSec: optional(f.ramp, (v) => duration('--ramp', v, 1000) / 1000),
    queue: f.queue ?? 'orders',
    queuePrefix: f.queuePrefix,
    redisAddress: f.redisAddress,
    redisTls: f.redisTls === true,
    queueWaitMs: f.queueWait === undefined ? 30_000 : duration('--queue-wait', f.queueWait, 1),
    jobTimeMs: optional(f.jobTime, (v) => duration('--job-time', v, 0.001)),
    deployment: f.deployment ?? SHOP_DEPLOYMENTS.web,
    consumerDeployment: f.consumerDeployment ?? SHOP_DEPLOYMENTS.consumer,
    out: f.out,
    emitK8s: f.emitK8s,
    html: f.html,
    workers: f.workers ?? 1,
    verify: f.verify === true,
    applyCmd: f.applyCmd,
    planFile: f.plan,
  };
}

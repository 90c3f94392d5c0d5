import { parseThreshold } from '../scenarios/threshold-expression.js';
import { echo } from '../shared/printable.js';

/*
 * What `scalectl merge` reads of a shard's result, checked before it reads
 * any of it: a result edited by hand, written by another tool or cut short
 * must be refused with one line naming the field, never crash the merge
 * half-way (docs/results.md has each field).
 */

/** Why the value at `path` is not what it should be, or undefined when it is. */
type Check = (value: unknown, path: string) => string | undefined;

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

function expected(what: string): (value: unknown, path: string) => string {
  return (value, path) => (value === undefined ? `${path}: missing (expected ${what})` : `${path}: expected ${what}, got ${echo(value)}`);
}

const kind = (what: string, test: (v: unknown) => boolean): Check => {
  const say = expected(what);
  return (v, path) => (test(v) ? undefined : say(v, path));
};

const number = kind('a number', (v) => typeof v === 'number' && Number.isFinite(v));
const string = kind('a string', (v) => typeof v === 'string');
const boolean = kind('true or false', (v) => typeof v === 'boolean');
const time = kind('an ISO-8601 time', (v) => typeof v === 'string' && !Number.isNaN(Date.parse(v)));

const optional = (check: Check): Check => (v, path) => (v === undefined ? undefined : check(v, path));
const nullable = (check: Check): Check => (v, path) => (v === null ? undefined : check(v, path));

function listOf(check: Check): Check {
  const say = expected('a list');
  return (v, path) => {
    if (!Array.isArray(v)) return say(v, path);
    for (let i = 0; i < v.length; i++) {
      const bad = check(v[i], `${path}[${i}]`);
      if (bad) return bad;
    }
    return undefined;
  };
}

function mapOf(check: Check): Check {
  const say = expected('a mapping');
  return (v, path) => {
    if (!isObject(v)) return say(v, path);
    for (const [k, x] of Object.entries(v)) {
      const bad = check(x, `${path}[${JSON.stringify(k)}]`);
      if (bad) return bad;
    }
    return undefined;
  };
}

function fields(spec: Record<string, Check>): Check {
  const say = expected('a mapping');
  return (v, path) => {
    if (!isObject(v)) return say(v, path);
    for (const [k, check] of Object.entries(spec)) {
      const bad = check(v[k], path ? `${path}.${k}` : k);
      if (bad) return bad;
    }
    return undefined;
  };
}

const counts = mapOf(number);
const meanMax = fields({ mean: number, max: number });
const atSeconds = nullable(fields({ t: number }));

/** RunResult.exemplars: per endpoint name, its slowest requests. */
const EXEMPLARS = mapOf(listOf(fields({ traceId: string, latencyMs: number, atS: number, status: optional(number), error: optional(string) })));

/**
 * Why a result's `exemplars` cannot be shown (`exemplars["checkout"][0].traceId: expected a string`),
 * or undefined when it can or is absent (results from before they were kept): `report` reads it too.
 */
export function exemplarsProblem(exemplars: unknown): string | undefined {
  return exemplars === undefined ? undefined : EXEMPLARS(exemplars, 'exemplars');
}

/** The fields merge reads, and what each must be. */
/**
 * Telemetry a shard collected (it has `source`, and the summary renders all of
 * it: `collected`), or none (`{}`: shards but the first, runs without a
 * telemetry section), where only what the merge moves is checked (`rest`).
 */
const collectedOrNone = (collected: Check, rest: Check): Check => (v, path) => (isObject(v) && !('source' in v) ? rest(v, path) : collected(v, path));

const isMapping = kind('a mapping', isObject);

const SHARD_RESULT = fields({
  scenario: fields({ name: string, file: string }),
  target: string,
  startedAt: time,
  endedAt: time,
  loadDurationSec: number,
  aborted: boolean,
  shard: fields({ index: number, count: number, scenarioHash: string, startLateMs: number, workers: number }),
  endpoints: listOf(fields({ name: string, method: string, requests: number, errors: number, statusCodes: counts, errorsByKind: counts })),
  flows: listOf(fields({
    name: string, thinkMs: optional(number), offered: number, arrivals: optional(number), started: number, dropped: number, completed: number, failed: number,
  })),
  checks: optional(listOf(fields({ name: string, passes: number, fails: number }))),
  phases: listOf(fields({ name: string, kind: string, startSec: number, durationSec: number })),
  timeseries: listOf(fields({
    t: number, offeredRps: number, achievedRps: number, rps: number, errors: number, errorsByKind: optional(counts), dropped: number, inFlight: number,
    checks: optional(mapOf(fields({ passes: number, fails: number }))),
    generator: fields({ elu: number, loopLagP99Ms: number, loopLagMaxMs: number, scheduleLagP99Ms: number, cpuPercent: number, windowMs: number, connectionQueue: number }),
  })),
  errorSamples: mapOf(string),
  generator: fields({
    workers: number, maxInFlight: number, connections: number, connectionWaitSeconds: number, cpuPercent: meanMax, eventLoopUtilization: meanMax,
    eventLoopLagP99Ms: number, scheduleLagP99Ms: number, saturated: boolean, warnings: listOf(string),
    // Absent in results from before it was recorded: the merged result then has none.
    httpClient: optional(fields({ lean: number, undici: number, undiciReasons: listOf(string) })),
  }),
  telemetry: collectedOrNone(fields({
    scrapes: fields({ ok: number, failed: number }),
    custom: mapOf(isMapping),
    warnings: optional(listOf(string)),
    queueDepth: optional(nullable(fields({ max: number, mean: number, final: number }))),
    jobs: optional(nullable(fields({ completed: number, perSec: number }))),
    cpu: optional(nullable(fields({ totalPercent: meanMax, workers: mapOf(fields({ meanPercent: number, maxPercent: number })) }))),
    eventLoopLagMs: optional(nullable(fields({ max: number, mean: number }))),
    drain: optional(nullable(fields({ series: listOf(atSeconds) }))),
    replicas: optional(nullable(fields({ events: listOf(atSeconds) }))),
  }), fields({
    drain: optional(nullable(fields({ series: listOf(atSeconds) }))),
    replicas: optional(nullable(fields({ events: listOf(atSeconds) }))),
  })),
  thresholds: listOf(fields({ expression: string, default: optional(boolean) })),
  host: optional(fields({ hostname: string })),
  // Absent in results from before exemplars were kept: the merged result then has those shards' none.
  exemplars: optional(EXEMPLARS),
});

/**
 * Why a shard's result cannot be merged as it is (`field.path: expected
 * ..., got ...`, or a threshold that does not parse), or undefined. The
 * histograms are checked apart (they need decoding).
 */
export function shardResultProblem(result: unknown): string | undefined {
  const bad = SHARD_RESULT(result, '');
  if (bad) return bad;
  const thresholds = (result as { thresholds: { expression: string }[] }).thresholds;
  for (let i = 0; i < thresholds.length; i++) {
    const t = parseThreshold(thresholds[i]!.expression);
    if (typeof t === 'string') return `thresholds[${i}].expression: ${t}`;
  }
  return undefined;
}

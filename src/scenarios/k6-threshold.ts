import { didYouMean } from './scenario-issue.js';
import { echo } from '../shared/printable.js';

/**
 * k6 metric keys scalectl reads (`thresholds: { http_req_duration: ['p(95)<500'] }`),
 * what each of their aggregates becomes in our metrics, and the tag filters
 * each takes as a scope (`http_req_duration{name:checkout}`).
 */
export type ScopeKind = 'endpoint' | 'flow' | 'check';
/** How an aggregate is read: a time aggregate (p(N), avg, med, min, max), a rate or a count. */
export type AggregateFamily = 'time' | 'rate' | 'count';
/** What a k6 aggregate reads: a latency of requests or iterations, or one of our metrics. */
export type K6Reading = { metric: 'time' | 'error_rate' | 'checks' | 'count' | 'rps' | 'dropped_iterations'; overIterations: boolean };

interface K6Metric {
  /** k6's metric type: what its thresholds may aggregate. */
  type: 'trend' | 'rate' | 'counter';
  /** What its `rate` (Rate metrics: the share true; Counter metrics: per second) and `count` read. */
  rate?: K6Reading['metric'] | { refused: string };
  count?: K6Reading['metric'];
  /** Iterations of flows, not requests. */
  overIterations: boolean;
  /** The tag filter keys it takes, and what each names. */
  tags: Partial<Record<string, ScopeKind>>;
}

const REQUEST_TAGS = { name: 'endpoint', endpoint: 'endpoint' } as const;

export const K6_METRICS: Readonly<Record<string, K6Metric>> = {
  http_req_duration: { type: 'trend', overIterations: false, tags: REQUEST_TAGS },
  http_req_failed: { type: 'rate', rate: 'error_rate', overIterations: false, tags: REQUEST_TAGS },
  checks: { type: 'rate', rate: 'checks', overIterations: false, tags: { check: 'check' } },
  http_reqs: { type: 'counter', count: 'count', rate: 'rps', overIterations: false, tags: REQUEST_TAGS },
  iterations: { type: 'counter', count: 'count', rate: 'rps', overIterations: true, tags: { flow: 'flow' } },
  iteration_duration: { type: 'trend', overIterations: true, tags: { flow: 'flow' } },
  dropped_iterations: {
    type: 'counter', count: 'dropped_iterations', overIterations: false, tags: {},
    rate: { refused: 'dropped_iterations takes count here; for the share of arrivals dropped write dropped_rate (e.g. "dropped_rate <= 1%") in the list form' },
  },
};

/** k6 built-in metrics scalectl does not measure, with what it measures instead. */
const NOT_MEASURED: Readonly<Record<string, string>> = {
  http_req_blocked: 'http_req_duration (each request timed whole, the wait for a connection included)',
  http_req_connecting: 'http_req_duration (each request timed whole, connecting included)',
  http_req_tls_handshaking: 'http_req_duration (each request timed whole, the TLS handshake included)',
  http_req_sending: 'http_req_duration (each request timed whole)',
  http_req_waiting: 'http_req_duration (each request timed whole, from sending to the last byte)',
  http_req_receiving: 'http_req_duration (each request timed whole)',
  vus: 'iterations, iteration_duration or dropped_iterations (virtual users are set by the phases, not measured)',
  vus_max: 'iterations, iteration_duration or dropped_iterations (virtual users are set by the phases, not measured)',
  data_received: 'http_reqs (bytes are not counted)',
  data_sent: 'http_reqs (bytes are not counted)',
  group_duration: 'iteration_duration (flows, not groups)',
};

const KEY_RE = /^([A-Za-z_][A-Za-z0-9_.]*)\s*(?:\{(.*)\})?$/;

const measured = (): string => Object.keys(K6_METRICS).join(', ');

/** A k6 metric key and its tag filter, as a scope. */
export interface K6Key {
  metric: string;
  tag?: { key: string; value: string; kind: ScopeKind };
}

/**
 * Reads a threshold's scope as a k6 metric key. Undefined when it is not one
 * (then it names an endpoint or flow of ours): a k6 key is a name k6 defines,
 * or any name with a `{tag:value}` filter, or, with `mapping` (a key of the
 * k6-style `thresholds:` mapping), any name at all. A string is the reason
 * it is refused.
 */
export function parseK6Key(text: string, mapping = false): K6Key | string | undefined {
  const m = KEY_RE.exec(text.trim());
  const name = m?.[1];
  const known = name !== undefined && (name in K6_METRICS || name in NOT_MEASURED);
  if (!m || !name || (!known && m[2] === undefined && !mapping)) return mapping ? `expected a k6 metric name such as http_req_duration or http_req_duration{name:checkout}, got ${echo(text)}` : undefined;
  const spec = K6_METRICS[name];
  if (!spec) {
    const instead = NOT_MEASURED[name];
    return instead ? `scalectl does not measure k6's ${name}; use ${instead}`
      : `${echo(name)} is not a k6 metric scalectl measures${didYouMean(name, Object.keys(K6_METRICS))} (custom k6 metrics come from script code); it reads ${measured()}; ` +
        'for anything else (an endpoint or flow by name, telemetry) write thresholds as a list, e.g. - checkout: p95 < 300ms (docs/scenarios.md#thresholds)';
  }
  if (m[2] === undefined) return { metric: name };
  const tag = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*:\s*(.*?)\s*$/.exec(m[2]);
  const allowed = Object.keys(spec.tags);
  const hint = allowed.length ? `; ${name} takes ${allowed.map((k) => `{${k}:...}`).join(' or ')}` : `; ${name} is counted over the whole run and takes none`;
  if (!tag || !tag[2]) return `expected one tag filter such as {name:checkout}, got ${echo(`{${m[2]}}`)}${hint}`;
  if (/,\s*[A-Za-z_][A-Za-z0-9_]*\s*:/.test(tag[2])) return `one tag filter at a time, got ${echo(`{${m[2]}}`)}${hint}`;
  const kind = spec.tags[tag[1]!];
  if (!kind && tag[1] === 'expected_response') {
    return `scalectl has no expected_response tag: it times every request, answered or failed, and counts failed ones in http_req_failed (error_rate); drop the filter (write ${name})${hint}`;
  }
  if (!kind) {
    const other = allowed.length === 0 ? '' : tag[1] === 'flow' ? ' (per flow scalectl times whole iterations: iteration_duration{flow:...})'
      : tag[1] === 'name' || tag[1] === 'endpoint' ? ' (per endpoint: http_req_duration, http_req_failed or http_reqs with {name:...})' : '';
    return `${name} has no tag ${echo(tag[1]!)}${other}${hint}`;
  }
  return { metric: name, tag: { key: tag[1]!, value: tag[2].replace(/^(["'])(.*)\1$/, '$2'), kind } };
}

/** What an aggregate under a k6 key reads, or why it cannot be used there. */
export function k6Reading(key: K6Key, family: AggregateFamily, aggregate: string): K6Reading | string {
  const spec = K6_METRICS[key.metric]!;
  const allowed = spec.type === 'trend' ? 'p(N), avg, med, min or max' : spec.type === 'rate' ? 'rate' : 'count or rate';
  const refuse = `${key.metric} is a k6 ${spec.type}: use ${allowed}, not ${echo(aggregate)}`;
  if (family === 'time') return spec.type === 'trend' ? { metric: 'time', overIterations: spec.overIterations } : refuse;
  const reading = family === 'rate' ? spec.rate : spec.count;
  if (reading === undefined) return refuse;
  if (typeof reading !== 'string') return reading.refused;
  return { metric: reading, overIterations: spec.overIterations };
}

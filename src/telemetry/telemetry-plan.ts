import { inputError } from '../exit-codes.js';
import { OPTIONAL_SIGNALS, REFERENCE_SIGNALS, type PromqlAuth, type Signal, type SignalName, type TelemetryConfig } from '../scenarios/telemetry-schema.js';
import { prometheusSource, promqlSource, type Snapshot, type TelemetrySource } from './telemetry-source.js';

/** What to collect for a run, resolved from the scenario and its target. */
export interface TelemetryPlan {
  source: TelemetrySource;
  /** The Prometheus text endpoints scraped (none for PromQL): where a service's info series can be read. */
  metricsUrls: string[];
  /** Signal names looked for (custom series as `custom:<name>`). */
  signals: string[];
  /** Signals whose absence is not warned about: OPTIONAL_SIGNALS taken from the default mapping. */
  quiet: string[];
  custom: Record<string, 'counter' | 'gauge'>;
  intervalMs: number;
  timeoutMs: number;
  drainTimeoutMs: number;
}

type Env = Readonly<Record<string, string | undefined>>;

/** The environment variables `promql.auth` reads its secret from, with the scenario path of each. */
function authVariables(auth: PromqlAuth | undefined): { key: 'bearerTokenEnv' | 'passwordEnv'; name: string }[] {
  if (!auth) return [];
  return (['bearerTokenEnv', 'passwordEnv'] as const).flatMap((key) => auth[key] === undefined ? [] : [{ key, name: auth[key] }]);
}

/**
 * A secret as read from the environment: surrounding whitespace and newlines
 * dropped (a Kubernetes secret made with --from-file ends in one), or why it
 * cannot be sent (unset or empty, or a control character left inside).
 */
function readSecret(name: string, env: Env): { value: string } | { problem: string } {
  const value = env[name]?.trim();
  if (value === undefined || value === '') return { problem: `environment variable ${name} is not set` };
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(value)) return { problem: `environment variable ${name} holds a control character (a line break or tab inside the secret?): an HTTP header cannot carry it` };
  return { value };
}

/**
 * What is wrong with the secrets `promql.auth` names, each with its path in
 * the scenario: checked when the scenario is loaded (validate, run and
 * capacity), before a stack starts or load is sent.
 */
export function promqlAuthIssues(config: TelemetryConfig | undefined, env: Env): { path: (string | number)[]; message: string }[] {
  return authVariables(config?.promql?.auth).flatMap(({ key, name }) => {
    const s = readSecret(name, env);
    return 'problem' in s ? [{ path: ['telemetry', 'promql', 'auth', key], message: s.problem }] : [];
  });
}

/** The Authorization header value for `promql.auth`, its secret read from the environment; a missing or unusable one is exit 3. */
export function promqlAuthorization(auth: PromqlAuth | undefined, env: Env): string | undefined {
  if (!auth) return undefined;
  const read = (key: 'bearerTokenEnv' | 'passwordEnv'): string => {
    const s = readSecret(auth[key]!, env);
    if ('problem' in s) throw inputError(`telemetry.promql.auth.${key}: ${s.problem}`);
    return s.value;
  };
  if (auth.bearerTokenEnv !== undefined) return `Bearer ${read('bearerTokenEnv')}`;
  return `Basic ${Buffer.from(`${auth.username}:${read('passwordEnv')}`, 'utf8').toString('base64')}`;
}

/**
 * The URL telemetry scrapes through the target itself (`<target>/metrics`:
 * a scenario with a `telemetry:` section without `prometheus:` or `promql:`,
 * or `target: reference` without one), or undefined when it collects none
 * or has a source of its own. Behind a load balancer (a Kubernetes
 * Service), each scrape reaches one replica of many.
 */
export function metricsThroughTarget(config: TelemetryConfig | undefined, target: string, reference: boolean): string | undefined {
  if (!config && !reference) return undefined;
  return config?.promql || config?.prometheus !== undefined ? undefined : `${target.replace(/\/+$/, '')}/metrics`;
}

/**
 * Decides where telemetry comes from: the scenario's `telemetry:` section, or,
 * for `target: reference` without one, the stack's own /metrics with the
 * default mapping. Returns undefined when the run collects none. `env`
 * holds the secrets `promql.auth` names.
 */
export function planTelemetry(config: TelemetryConfig | undefined, target: string, reference: boolean, env: Env): TelemetryPlan | undefined {
  if (!config && !reference) return undefined;
  const c: Partial<TelemetryConfig> = config ?? {};
  const intervalMs = c.interval ?? 1000;
  // The reference stack's mapping applies to the reference stack, and to a scrape with no mapping of its own;
  // a mapping for another service stands alone (no warnings about shop_* series it never had).
  const given = c.metrics ?? {};
  const useDefaults = !c.promql && (reference || Object.keys(given).length === 0);
  const signals: Record<string, Signal> = useDefaults ? { ...REFERENCE_SIGNALS, ...given } : { ...given };
  for (const [name, custom] of Object.entries(c.custom ?? {})) signals[`custom:${name}`] = custom.signal;
  const throughTarget = metricsThroughTarget(config, target, reference);
  const urls = throughTarget !== undefined ? [throughTarget] : c.prometheus === undefined ? [] : Array.isArray(c.prometheus) ? c.prometheus : [c.prometheus];
  return {
    source: c.promql ? promqlSource(c.promql.url, signals, promqlAuthorization(c.promql.auth, env)) : prometheusSource(urls, signals),
    metricsUrls: c.promql ? [] : urls,
    signals: Object.keys(signals),
    quiet: useDefaults ? OPTIONAL_SIGNALS.filter((n) => given[n] === undefined) : [],
    custom: Object.fromEntries(Object.entries(c.custom ?? {}).map(([k, v]) => [k, v.type])),
    intervalMs,
    timeoutMs: c.timeout ?? Math.min(intervalMs, 5000),
    drainTimeoutMs: c.drainTimeout ?? 60_000,
  };
}

const QUEUE_SIGNALS: SignalName[] = ['queueWaiting', 'queueActive', 'queueDelayed'];

/** True when the scrape saw some queue gauge. */
export function seesQueue(s: Snapshot): boolean {
  return QUEUE_SIGNALS.some((n) => s[n] !== undefined);
}

/**
 * The queue is empty when a scrape saw queue gauges and every one reads 0 (no
 * queue series is not "empty"), and none of their queries failed in it (`failed`:
 * a failed one is unknown, not 0).
 */
export function queueEmpty(s: Snapshot, failed: readonly string[] = []): boolean {
  if (QUEUE_SIGNALS.some((n) => failed.includes(n))) return false;
  return seesQueue(s) && QUEUE_SIGNALS.every((n) => (s[n] ?? []).every((x) => x.value === 0));
}

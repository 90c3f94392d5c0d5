import { inputError } from '../exit-codes.js';
import { REFERENCE_SIGNALS, type PromqlAuth, type Signal, type SignalName, type TelemetryConfig } from '../scenarios/telemetry-schema.js';
import { prometheusSource, promqlSource, type Snapshot, type TelemetrySource } from './telemetry-source.js';

/** What to collect for a run, resolved from the scenario and its target. */
export interface TelemetryPlan {
  source: TelemetrySource;
  /** The Prometheus text endpoints scraped (none for PromQL): where a service's info series can be read. */
  metricsUrls: string[];
  /** Signal names looked for (custom series as `custom:<name>`). */
  signals: string[];
  custom: Record<string, 'counter' | 'gauge'>;
  intervalMs: number;
  timeoutMs: number;
  drainTimeoutMs: number;
}

type Env = Readonly<Record<string, string | undefined>>;

/** The Authorization header value for `promql.auth`, its secret read from the environment; a missing variable is exit 3. */
export function promqlAuthorization(auth: PromqlAuth | undefined, env: Env): string | undefined {
  if (!auth) return undefined;
  const read = (key: 'bearerTokenEnv' | 'passwordEnv'): string => {
    const name = auth[key]!;
    const value = env[name];
    if (value === undefined || value === '') throw inputError(`telemetry.promql.auth.${key}: environment variable ${name} is not set`);
    return value;
  };
  if (auth.bearerTokenEnv !== undefined) return `Bearer ${read('bearerTokenEnv')}`;
  return `Basic ${Buffer.from(`${auth.username}:${read('passwordEnv')}`, 'utf8').toString('base64')}`;
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
  const urls = c.prometheus === undefined ? [`${target.replace(/\/+$/, '')}/metrics`] : Array.isArray(c.prometheus) ? c.prometheus : [c.prometheus];
  return {
    source: c.promql ? promqlSource(c.promql.url, signals, promqlAuthorization(c.promql.auth, env)) : prometheusSource(urls, signals),
    metricsUrls: c.promql ? [] : urls,
    signals: Object.keys(signals),
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

/** The queue is empty when a scrape saw queue gauges and every one reads 0 (no queue series is not "empty"). */
export function queueEmpty(s: Snapshot): boolean {
  return seesQueue(s) && QUEUE_SIGNALS.every((n) => (s[n] ?? []).every((x) => x.value === 0));
}

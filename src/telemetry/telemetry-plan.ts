import { REFERENCE_SIGNALS, type Signal, type SignalName, type TelemetryConfig } from '../scenarios/telemetry-schema.js';
import { prometheusSource, promqlSource, type Snapshot, type TelemetrySource } from './telemetry-source.js';

/** What to collect for a run, resolved from the scenario and its target. */
export interface TelemetryPlan {
  source: TelemetrySource;
  /** Signal names looked for (custom series as `custom:<name>`). */
  signals: string[];
  custom: Record<string, 'counter' | 'gauge'>;
  intervalMs: number;
  timeoutMs: number;
  drainTimeoutMs: number;
}

/**
 * Decides where telemetry comes from: the scenario's `telemetry:` section, or,
 * for `target: reference` without one, the stack's own /metrics with the
 * default mapping. Returns undefined when the run collects none.
 */
export function planTelemetry(config: TelemetryConfig | undefined, target: string, reference: boolean): TelemetryPlan | undefined {
  if (!config && !reference) return undefined;
  const c: Partial<TelemetryConfig> = config ?? {};
  const intervalMs = c.interval ?? 1000;
  const signals: Record<string, Signal> = c.promql ? { ...c.metrics } : { ...REFERENCE_SIGNALS, ...c.metrics };
  for (const [name, custom] of Object.entries(c.custom ?? {})) signals[`custom:${name}`] = custom.signal;
  const urls = c.prometheus === undefined ? [`${target.replace(/\/+$/, '')}/metrics`] : Array.isArray(c.prometheus) ? c.prometheus : [c.prometheus];
  return {
    source: c.promql ? promqlSource(c.promql.url, signals) : prometheusSource(urls, signals),
    signals: Object.keys(signals),
    custom: Object.fromEntries(Object.entries(c.custom ?? {}).map(([k, v]) => [k, v.type])),
    intervalMs,
    timeoutMs: c.timeout ?? Math.min(intervalMs, 5000),
    drainTimeoutMs: c.drainTimeout ?? 60_000,
  };
}

/** The queue is empty when every mapped queue gauge reads 0 (unmapped ones count as empty). */
export function queueEmpty(s: Snapshot): boolean {
  const names: SignalName[] = ['queueWaiting', 'queueActive', 'queueDelayed'];
  if (names.every((n) => s[n] === undefined)) return true;
  return names.every((n) => (s[n] ?? []).every((x) => x.value === 0));
}

/** True when the plan can tell a queue's depth (some queue gauge is mapped). */
export function tracksQueue(plan: TelemetryPlan): boolean {
  return ['queueWaiting', 'queueActive', 'queueDelayed'].some((n) => plan.signals.includes(n));
}

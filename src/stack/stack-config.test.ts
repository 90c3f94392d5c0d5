import { describe, expect, it } from 'vitest';
import { HPA_DEFAULTS, KEDA_DEFAULTS } from './autoscale-rules.js';
import { configuredKeyPrefix, knobEnvName, referenceStackSettings, resolveStackConfig, stackConfigFromEnv, stackConfigSchema } from './stack-config.js';

const ok = (r: ReturnType<typeof resolveStackConfig>) => {
  if (!r.ok) throw new Error(r.problems.join('\n'));
  return r.config;
};

describe('resolveStackConfig', () => {
  it('applies the documented defaults', () => {
    const c = ok(resolveStackConfig({ env: {} }));
    expect(c).toMatchObject({ backends: 'embedded', port: 3000, host: '127.0.0.1', cache: true, cacheTtl: 30_000, dbPool: 10, queueConcurrency: 4,
      jobDuration: 50, products: 10_000, hotProducts: 5, hotStock: 500, downstreamLatency: 0, requeueAfter: 60_000, rateLimit: 2000, rateLimitKey: 'address', dbSchema: 'shop', keyPrefix: 'shop', shutdownTimeout: 10_000 });
    expect(c.workers).toBeGreaterThanOrEqual(1);
    expect(c.redisUrl).toBeUndefined();
    expect(c.trustProxy).toBeUndefined();
  });

  it('takes flags over a scenario\'s stack block over SHOP_* variables over defaults', () => {
    const env = { SHOP_CACHE_TTL: '5s', SHOP_DB_POOL: '7', SHOP_HOT_STOCK: '9', SHOP_CACHE: 'off' };
    const c = ok(resolveStackConfig({ flags: { dbPool: '3' }, parsed: { dbPool: 4, hotStock: 11, cacheTtl: 2_000 }, env }));
    expect(c.dbPool).toBe(3);
    expect(c.hotStock).toBe(11);
    expect(c.cacheTtl).toBe(2_000); // the block's value is already in ms, not re-read as seconds
    expect(c.cache).toBe(false);
  });

  it('names each knob\'s environment variable', () => {
    expect(knobEnvName('cacheTtl')).toBe('SHOP_CACHE_TTL');
    expect(knobEnvName('queueConcurrency')).toBe('SHOP_QUEUE_CONCURRENCY');
    expect(knobEnvName('databaseUrl')).toBe('DATABASE_URL');
    expect(knobEnvName('redisUrl')).toBe('REDIS_URL');
    for (const key of Object.keys(stackConfigSchema.shape)) expect(knobEnvName(key)).toMatch(/^[A-Z_]+$/);
  });

  it('external backends need a database URL and default Redis to the local one', () => {
    const missing = resolveStackConfig({ flags: { backends: 'external' }, env: {} });
    expect(missing.ok).toBe(false);
    expect(!missing.ok && missing.problems[0]).toMatch(/^databaseUrl: external backends need a PostgreSQL URL/);
    const c = ok(resolveStackConfig({ flags: { backends: 'external' }, env: { DATABASE_URL: 'postgres://x@127.0.0.1/db' } }));
    expect(c.redisUrl).toBe('redis://127.0.0.1:6379');
  });

  it('runs one role apart (web or consumer) only on external backends and without its own autoscalers', () => {
    const external = { backends: 'external', databaseUrl: 'postgres://x@127.0.0.1/db' };
    expect(ok(resolveStackConfig({ env: {} })).role).toBe('all');
    expect(ok(resolveStackConfig({ flags: external, env: { SHOP_ROLE: 'consumer' } })).role).toBe('consumer');
    const problems = (r: ReturnType<typeof resolveStackConfig>): string[] => (r.ok ? [] : r.problems.map((p) => p.split(':')[0]!));
    expect(problems(resolveStackConfig({ flags: { role: 'web' }, env: {} }))).toEqual(['role']);
    expect(problems(resolveStackConfig({ flags: { ...external, role: 'consumer', autoscale: 'on' }, env: {} }))).toEqual(['autoscale']);
    expect(problems(resolveStackConfig({ flags: { role: 'cron' }, env: {} }))).toEqual(['role']);
  });

  it("names the Redis key prefix a scenario or SHOP_KEY_PREFIX sets, else the default", () => {
    expect(configuredKeyPrefix({ keyPrefix: 'a' }, { SHOP_KEY_PREFIX: 'b' })).toBe('a');
    expect(configuredKeyPrefix(undefined, { SHOP_KEY_PREFIX: 'b' })).toBe('b');
    expect(configuredKeyPrefix(undefined, { SHOP_KEY_PREFIX: '' })).toBe(ok(resolveStackConfig({ env: {} })).keyPrefix);
  });

  it('reads compound durations in flags and SHOP_* variables', () => {
    expect(ok(resolveStackConfig({ flags: { cacheTtl: '1m30s' }, env: { SHOP_JOB_DURATION: '0.5s', SHOP_REQUEUE_AFTER: '2min' } })))
      .toMatchObject({ cacheTtl: 90_000, jobDuration: 500, requeueAfter: 120_000 });
  });

  it('reports every bad value, saying which variable it came from', () => {
    const r = resolveStackConfig({ flags: { workers: '0', port: 'http' }, env: { SHOP_JOB_DURATION: 'later', SHOP_DB_SCHEMA: 'Robert; DROP' } });
    expect(r.ok).toBe(false);
    const problems = r.ok ? [] : r.problems;
    expect(problems.map((p) => p.split(':')[0])).toEqual(['workers', 'dbSchema (SHOP_DB_SCHEMA)', 'jobDuration (SHOP_JOB_DURATION)', 'port']);
  });

  it('takes trusted proxies as addresses and CIDR ranges only, and a requeue bound of at least 100ms', () => {
    expect(ok(resolveStackConfig({ flags: { trustProxy: '127.0.0.1, 10.0.0.0/8,::1,loopback' }, env: {} })).trustProxy).toBe('127.0.0.1, 10.0.0.0/8,::1,loopback');
    for (const bad of ['true', '10.0.0.0/33', 'proxy.internal', '1.2.3.4/8/1']) {
      expect(resolveStackConfig({ flags: { trustProxy: bad }, env: {} }).ok, bad).toBe(false);
    }
    expect(ok(resolveStackConfig({ env: { SHOP_REQUEUE_AFTER: '2m' } })).requeueAfter).toBe(120_000);
    expect(resolveStackConfig({ flags: { requeueAfter: '50ms' }, env: {} }).ok).toBe(false);
  });
});

describe('autoscaling knobs', () => {
  it('default to Kubernetes\' and KEDA\'s settings (durations in ms), autoscale off, one consumer', () => {
    const c = ok(resolveStackConfig({ env: {} }));
    expect(c).toMatchObject({
      autoscale: false, consumers: 1, minWorkers: 1, maxWorkers: 4, cpuTarget: 80, cpuRequest: 1000, podStartup: 0, minConsumers: 1, maxConsumers: 4,
      hpaSync: HPA_DEFAULTS.syncSec * 1000, hpaTolerance: HPA_DEFAULTS.tolerance, scaleDownWindow: HPA_DEFAULTS.scaleDownWindowSec * 1000,
      scaleUpPods: HPA_DEFAULTS.scaleUpPods, scaleUpPercent: HPA_DEFAULTS.scaleUpPercent, scaleUpPeriod: HPA_DEFAULTS.scaleUpPeriodSec * 1000,
      backlogTarget: KEDA_DEFAULTS.listLength, pollingInterval: KEDA_DEFAULTS.pollingSec * 1000, cooldown: KEDA_DEFAULTS.cooldownSec * 1000,
    });
  });

  it('start with minWorkers web workers when autoscaling and workers is not set', () => {
    expect(ok(resolveStackConfig({ flags: { autoscale: 'on', minWorkers: '2' }, env: {} })).workers).toBe(2);
    expect(ok(resolveStackConfig({ env: { SHOP_AUTOSCALE: '1', SHOP_WORKERS: '3' } })).workers).toBe(3);
  });

  it('with autoscale on, need min ≤ start ≤ max for both roles, saying which', () => {
    const r = resolveStackConfig({ flags: { autoscale: 'on', workers: '5', consumers: '0' }, env: {} });
    expect(r.ok).toBe(false);
    expect(r.ok ? [] : r.problems).toEqual([
      'workers: 5 at start is outside minWorkers..maxWorkers (1..4) with autoscale on',
      'consumers: 0 at start is outside minConsumers..maxConsumers (1..4) with autoscale on',
    ]);
    const inverted = resolveStackConfig({ flags: { autoscale: 'on', minConsumers: '3', maxConsumers: '2', consumers: '3' }, env: {} });
    expect(inverted.ok ? [] : inverted.problems).toEqual(['minConsumers: 3 is above maxConsumers 2']);
    // Off: the start counts are fixed, the bounds unused.
    expect(ok(resolveStackConfig({ flags: { workers: '5', consumers: '0' }, env: {} })).workers).toBe(5);
  });

  it('reject periods too short to measure and tolerances outside 0..1', () => {
    const r = resolveStackConfig({ flags: { hpaSync: '500ms', pollingInterval: '100ms', hpaTolerance: '2', cpuTarget: '0' }, env: {} });
    expect(r.ok ? [] : r.problems.map((p) => p.split(':')[0])).toEqual(['cpuTarget', 'hpaSync', 'hpaTolerance', 'pollingInterval']);
    expect(ok(resolveStackConfig({ env: { SHOP_HPA_SYNC: '2s', SHOP_COOLDOWN: '20s', SHOP_POD_STARTUP: '1.5s' } }))).toMatchObject({ hpaSync: 2_000, cooldown: 20_000, podStartup: 1_500 });
  });
});

describe('autoscaling knobs, bounded as Kubernetes bounds the HPA', () => {
  it('need scale-up policies of at least 1 pod and 1 percent', () => {
    const r = resolveStackConfig({ flags: { scaleUpPods: '0', scaleUpPercent: '0' }, env: {} });
    expect(r.ok ? [] : r.problems.map((p) => p.split(':')[0])).toEqual(['scaleUpPods', 'scaleUpPercent']);
    expect(ok(resolveStackConfig({ flags: { scaleUpPods: '1', scaleUpPercent: '1' }, env: {} }))).toMatchObject({ scaleUpPods: 1, scaleUpPercent: 1 });
  });

  it('take a scale-up period up to 30 minutes and a scale-down window up to an hour', () => {
    expect(ok(resolveStackConfig({ flags: { scaleUpPeriod: '30m', scaleDownWindow: '1h' }, env: {} }))).toMatchObject({ scaleUpPeriod: 1_800_000, scaleDownWindow: 3_600_000 });
    const r = resolveStackConfig({ flags: { scaleUpPeriod: '1801s' }, env: { SHOP_SCALE_DOWN_WINDOW: '3601s' } });
    expect(r.ok ? [] : r.problems).toEqual(['scaleDownWindow (SHOP_SCALE_DOWN_WINDOW): at most 3600s', 'scaleUpPeriod: at most 1800s']);
  });
});

describe('referenceStackSettings', () => {
  it('turns the rate limit off for a load test unless the scenario or SHOP_RATE_LIMIT sets it', () => {
    expect(referenceStackSettings({ workers: 2 }, {})).toEqual({ workers: 2, rateLimit: 0 });
    expect(referenceStackSettings(undefined, {})).toEqual({ rateLimit: 0 });
    expect(referenceStackSettings({ rateLimit: 50 }, {})).toEqual({ rateLimit: 50 });
    expect(referenceStackSettings({}, { SHOP_RATE_LIMIT: '300' })).toEqual({});
    const c = ok(resolveStackConfig({ parsed: referenceStackSettings({}, { SHOP_RATE_LIMIT: '300' }), env: { SHOP_RATE_LIMIT: '300' } }));
    expect(c.rateLimit).toBe(300);
  });
});

describe('stackConfigFromEnv', () => {
  it('reads the JSON object the parent hands over, and nothing when the variable is unset or empty', () => {
    expect(stackConfigFromEnv({ SCALECTL_STACK_CONFIG: '{"workers":2,"hotStock":150}' })).toEqual({ ok: true, parsed: { workers: 2, hotStock: 150 } });
    expect(stackConfigFromEnv({})).toEqual({ ok: true, parsed: undefined });
    expect(stackConfigFromEnv({ SCALECTL_STACK_CONFIG: ' ' })).toEqual({ ok: true, parsed: undefined });
  });

  it('says in one line, without the credentials it holds, when it is not JSON or not an object', () => {
    const bad = stackConfigFromEnv({ SCALECTL_STACK_CONFIG: '{"databaseUrl": "postgres://shop:s3cret@db:5432/shop", workers: 2}' });
    expect(bad.ok).toBe(false);
    if (bad.ok) return;
    expect(bad.problem).toMatch(/^SCALECTL_STACK_CONFIG is not JSON: \S/);
    expect(bad.problem).not.toContain('\n');
    expect(bad.problem).not.toContain('s3cret');
    for (const [text, got] of [['[1]', 'an array'], ['null', 'null'], ['"x"', 'string'], ['3', 'number']]) {
      expect(stackConfigFromEnv({ SCALECTL_STACK_CONFIG: text })).toEqual({ ok: false, problem: `SCALECTL_STACK_CONFIG is not a JSON object (the scenario's stack: block): got ${got}` });
    }
  });
});

describe('read replica settings', () => {
  const problems = (flags: Record<string, unknown>, env: Record<string, string> = {}): string[] => {
    const r = resolveStackConfig({ flags, env });
    return r.ok ? [] : r.problems;
  };
  const external = { backends: 'external', databaseUrl: 'postgres://p/db' };

  it('embedded: readReplicas is the count to start (0 to 8); replica URLs are refused', () => {
    expect(ok(resolveStackConfig({ env: {} })).readReplicas).toBe(0);
    expect(ok(resolveStackConfig({ flags: { readReplicas: '2' }, env: {} })).readReplicas).toBe(2);
    expect(ok(resolveStackConfig({ env: { SHOP_READ_REPLICAS: '3' } })).readReplicas).toBe(3);
    expect(problems({ readReplicas: '9' })[0]).toMatch(/^readReplicas: /);
    expect(problems({ readReplicas: '-1' })[0]).toMatch(/^readReplicas: /);
    expect(problems({ replicaUrls: 'postgres://r1/db' })).toEqual(['replicaUrls: embedded backends start their own replicas: set readReplicas instead']);
  });

  it('external: readReplicas is the count of replicaUrls (trimmed, empty items dropped); a count without URLs or not matching them is refused', () => {
    const c = ok(resolveStackConfig({ flags: { ...external, replicaUrls: ' postgres://r1/db, ,postgres://r2/db ' }, env: {} }));
    expect(c.readReplicas).toBe(2);
    expect(ok(resolveStackConfig({ flags: external, env: { SHOP_REPLICA_URLS: 'postgres://r1/db' } })).readReplicas).toBe(1);
    expect(ok(resolveStackConfig({ flags: external, env: {} })).readReplicas).toBe(0);
    expect(ok(resolveStackConfig({ flags: { ...external, readReplicas: '2', replicaUrls: 'postgres://r1/db,postgres://r2/db' }, env: {} })).readReplicas).toBe(2);
    expect(problems({ ...external, readReplicas: '2' })).toEqual(['readReplicas: external backends read from the replicas you run: give their URLs in replicaUrls']);
    expect(problems({ ...external, readReplicas: '3', replicaUrls: 'postgres://r1/db' })).toEqual(['readReplicas: 3 does not match the 1 replicaUrls (leave it unset)']);
  });
});

describe('shard settings', () => {
  const problems = (flags: Record<string, unknown>): string[] => {
    const r = resolveStackConfig({ flags, env: {} });
    return r.ok ? [] : r.problems;
  };
  const external = { backends: 'external', databaseUrl: 'postgres://p/db' };

  it('refuses a dbSchema whose shard schemas PostgreSQL would cut to 63 characters (they would collide)', () => {
    const longest = 'a'.repeat(63 - '_shard_15'.length);
    expect(problems({ shards: '16', dbSchema: longest })).toEqual([]);
    expect(problems({ shards: '16', dbSchema: `${longest}a` })).toEqual([`dbSchema: at most ${longest.length} characters with 16 shards (the shards' schemas are <dbSchema>_shard_<i>, 63 at most)`]);
    expect(problems({ shards: '3', dbSchema: 'a'.repeat(63 - '_shard_2'.length) })).toEqual([]);
    expect(problems({ shards: '1', dbSchema: 'a'.repeat(63) })).toEqual([]);
  });

  it('refuses shardUrls with one shard (they would be ignored)', () => {
    expect(problems({ ...external, shardUrls: 'postgres://s0/db' })).toEqual(['shardUrls: with one shard, carts and orders stay on the primary: give two URLs or more with shards set to their count, or none']);
    expect(problems({ ...external, shards: '2', shardUrls: 'postgres://s0/db,postgres://s1/db' })).toEqual([]);
  });
});

describe('domain-event knobs', () => {
  it('take amqp:// and amqps:// URLs only and an emailLatency of at most 60s, each with one problem line', () => {
    const problems = (flags: Record<string, string>): string[] => {
      const r = resolveStackConfig({ flags: { broker: 'rabbitmq', ...flags }, env: {} });
      return r.ok ? [] : r.problems;
    };
    expect(problems({ amqpUrl: 'amqps://u:p@mq.example:5671/vhost' })).toEqual([]);
    expect(problems({ amqpUrl: 'http://127.0.0.1:5672' })).toEqual(['amqpUrl: an amqp:// or amqps:// URL']);
    expect(problems({ emailLatency: '60s' })).toEqual([]);
    expect(problems({ emailLatency: '61s' })).toEqual(['emailLatency: at most 60s']);
  });
});

import { connect } from 'amqplib';
import { describe, expect, it } from 'vitest';
import { EVENT_CONSUMERS, eventExchange, eventQueue } from '../../src/stack/contract.js';
import { startOtlpReceiver } from '../helpers/otlp-receiver.js';
import type { TelemetrySummary } from '../../src/analyzers/telemetry.js';
import type { RunResult } from '../../src/analyzers/run-result.js';
import { runCli, runScenario } from '../helpers/cli.js';
import { dropRunData, eventually, PG_URL, REDIS_URL, uniqueName } from '../helpers/shop.js';
import { readFile } from 'node:fs/promises';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const EXAMPLE = new URL('../../scenarios/examples/flash-sale.yaml', import.meta.url).pathname;

/** The README's flash sale, its phases (10 s, 15 s, 20 s, 10 s) scaled by `scale`. */
async function flashSaleScenario(scale: number): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'scalectl-flash-'));
  if (scale === 1) return EXAMPLE;
  const yaml = (await readFile(EXAMPLE, 'utf8')).replace(/duration: (\d+)s/g, (_m, sec: string) => `duration: ${Math.round(Number(sec) * scale)}s`);
  await writeFile(join(dir, 'flash-sale.yaml'), yaml);
  return join(dir, 'flash-sale.yaml');
}

/**
 * Runs the flash sale (55 s of load, or `scale` of it) with extra environment, and returns its result.
 * `latencyMayFail`: the example's latency thresholds (tuned for the default shop) may fail (exit 4), no other.
 */
async function flashSale(env: Record<string, string>, scale = 1, latencyMayFail = false): Promise<{ code: number; result: RunResult }> {
  const out = join(await mkdtemp(join(tmpdir(), 'scalectl-flash-')), 'r.json');
  const r = await runCli(['run', await flashSaleScenario(scale), '--out', out, '--no-progress'], { env });
  const result = r.code === 0 || r.code === 4 ? JSON.parse(await readFile(out, 'utf8')) as RunResult : undefined;
  const failed = result?.thresholds.filter((t) => !t.ok && !(latencyMayFail && /^p\d/.test(t.metric))) ?? [];
  if (!result || (r.code !== 0 && failed.length > 0) || (r.code === 0) !== result.thresholds.every((t) => t.ok)) {
    throw new Error(`flash-sale exited ${r.code}:\n${r.stderr}\n${r.stdout}`);
  }
  return { code: r.code, result };
}

function expectFlashSaleTelemetry(result: RunResult): void {
  const t = result.telemetry as TelemetrySummary;
  const seconds = result.loadDurationSec;
  expect(t.scrapes.ok).toBeGreaterThan(0.7 * seconds);
  expect(t.cacheHitRatio).toBeGreaterThan(0.05);
  expect(t.cacheHitRatio).toBeLessThan(1);
  expect(t.queueDepth!.max).toBeGreaterThan(0);
  expect(t.queueDrainTimeSec).not.toBeNull();
  expect(t.queueDrainTimeSec!).toBeLessThan(60);
  // Every accepted order processed (the full sale sells all 5 × 150 units).
  const accepted = result.endpoints.find((e) => e.name === 'checkout')!.statusCodes['202'] ?? 0;
  expect(accepted).toBeGreaterThan(0);
  expect(t.jobs!.completed).toBe(accepted);
  if (seconds >= 50) expect(accepted).toBe(750);
  expect(Object.keys(t.cpu!.workers)).toHaveLength(2);
  for (const w of Object.values(t.cpu!.workers)) expect(w.meanPercent).toBeGreaterThan(0);
  expect(result.timeseries.filter((p) => typeof p.cacheHitRatio === 'number').length).toBeGreaterThan(0.7 * seconds);
  expect(result.timeseries.filter((p) => typeof p.cpuPercent === 'number').length).toBeGreaterThan(0.7 * seconds);
}

describe('telemetry against the reference stack (the flash-sale example)', () => {
  it('embedded backends: a real hit ratio, queue depth, drain time and per-worker CPU', async () => {
    const { result } = await flashSale({});
    expectFlashSaleTelemetry(result);
  }, 150_000);

  it('external backends (PostgreSQL + Redis + BullMQ on this machine)', async () => {
    const name = uniqueName();
    try {
      // The same sale in 40% of the time: the embedded case above runs the README's example whole.
      const { result } = await flashSale({ SHOP_BACKENDS: 'external', DATABASE_URL: PG_URL, REDIS_URL, SHOP_DB_SCHEMA: name, SHOP_KEY_PREFIX: name }, 0.4);
      expectFlashSaleTelemetry(result);
      // The environment chose the backends (a scenario's stack: block leaves them unset).
      expect(result.stack).toMatchObject({ backends: 'external', dbSchema: name, keyPrefix: name });
    } finally {
      await dropRunData(name);
    }
  }, 150_000);

  it('the same sale with every scaling lever of the shop on: a read replica, 3 shards, RabbitMQ events, OTLP traces', async () => {
    // The example unchanged: the levers come from the environment (SHOP_* variables), as a user would set them.
    const prefix = uniqueName();
    const amqpUrl = process.env.TEST_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
    const receiver = await startOtlpReceiver();
    const broker = await connect(amqpUrl);
    try {
      // A tap on the run's exchange: every event published, by type.
      const ch = await broker.createChannel();
      await ch.assertExchange(eventExchange(prefix), 'topic', { durable: true });
      const tap = await ch.assertQueue('', { exclusive: true, autoDelete: true });
      await ch.bindQueue(tap.queue, eventExchange(prefix), '#');
      const created = new Set<string>();
      await ch.consume(tap.queue, (m) => { if (m && m.properties.type === 'OrderCreated') created.add(String(m.properties.messageId)); }, { noAck: true });

      const { result } = await flashSale({
        SHOP_READ_REPLICAS: '1', SHOP_SHARDS: '3', SHOP_BROKER: 'rabbitmq', AMQP_URL: amqpUrl, SHOP_KEY_PREFIX: prefix,
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      }, 0.4, true);
      expectFlashSaleTelemetry(result);
      expect(result.stack).toMatchObject({ readReplicas: 1, shards: 3, broker: 'rabbitmq' });
      const t = result.telemetry as TelemetrySummary;
      // Catalog reads reached the replica; orders spread over the three shards.
      expect(t.readShare?.replicas).toBeGreaterThan(0);
      expect(Object.keys(t.shards?.byShard ?? {})).toHaveLength(3);
      // One OrderCreated per accepted checkout, each once.
      const accepted = result.endpoints.find((e) => e.name === 'checkout')!.statusCodes['202'] ?? 0;
      await eventually(async () => created.size >= accepted, 15_000, 'an OrderCreated per accepted order');
      expect(created.size).toBe(accepted);
      // The slowest checkouts' trace ids, sent by scalectl, are traces the shop exported.
      const kept = (result.exemplars?.checkout ?? []).map((e) => e.traceId);
      expect(kept.length).toBeGreaterThan(0);
      await eventually(async () => kept.every((id) => receiver.trace(id).some((sp) => sp.kind === 'server')), 15_000, 'the exemplars in the receiver');
    } finally {
      const ch = await broker.createChannel();
      for (const consumer of EVENT_CONSUMERS) await ch.deleteQueue(eventQueue(prefix, consumer)).catch(() => undefined);
      await ch.deleteExchange(eventExchange(prefix)).catch(() => undefined);
      await broker.close();
      await receiver.close();
    }
  }, 150_000);

  it('shows a hit ratio of 0 when the stack runs with its cache off', async () => {
    const r = await runScenario(`
name: no-cache
target: reference
stack: { workers: 1, products: 100, cache: off }
phases: [{ duration: 3s, arrivalRate: 20 }]
flows: [{ name: read, steps: [{ get: "/api/products/{{ randomInt(1, 5) }}" }] }]
thresholds: [cache_hit_ratio < 0.01]
`);
    expect(r.code).toBe(0);
    expect((r.result.telemetry as TelemetrySummary).cacheHitRatio).toBe(0);
    // Afterwards, the result says the cache was off.
    expect(r.result.stack?.cache).toBe(false);
    expect(r.stdout).toContain('cache off');
  }, 60_000);
});

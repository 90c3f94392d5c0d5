import { describe, expect, it } from 'vitest';
import type { TelemetrySummary } from '../../src/analyzers/telemetry.js';
import type { RunResult } from '../../src/analyzers/run-result.js';
import { runCli, runScenario } from '../helpers/cli.js';
import { dropRunData, PG_URL, REDIS_URL, uniqueName } from '../helpers/shop.js';
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

/** Runs the flash sale (55 s of load, or `scale` of it) with extra environment, and returns its result. */
async function flashSale(env: Record<string, string>, scale = 1): Promise<{ code: number; result: RunResult }> {
  const out = join(await mkdtemp(join(tmpdir(), 'scalectl-flash-')), 'r.json');
  const r = await runCli(['run', await flashSaleScenario(scale), '--out', out, '--no-progress'], { env });
  if (r.code !== 0) throw new Error(`flash-sale exited ${r.code}:\n${r.stderr}\n${r.stdout}`);
  return { code: r.code, result: JSON.parse(await readFile(out, 'utf8')) as RunResult };
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

import { describe, expect, it } from 'vitest';
import type { TelemetrySummary } from '../../src/analyzers/telemetry.js';
import type { RunResult } from '../../src/analyzers/run-result.js';
import { runCli, runScenario } from '../helpers/cli.js';
import { dropRunData, PG_URL, REDIS_URL, uniqueName } from '../helpers/shop.js';
import { readFile } from 'node:fs/promises';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const EXAMPLE = new URL('../../scenarios/examples/flash-sale.yaml', import.meta.url).pathname;

/** Runs the README's flash sale (55 s of load) with extra environment, and returns its result. */
async function flashSale(env: Record<string, string>): Promise<{ code: number; result: RunResult }> {
  const out = join(await mkdtemp(join(tmpdir(), 'scalectl-flash-')), 'r.json');
  const r = await runCli(['run', EXAMPLE, '--out', out, '--no-progress'], { env });
  if (r.code !== 0) throw new Error(`flash-sale exited ${r.code}:\n${r.stderr}\n${r.stdout}`);
  return { code: r.code, result: JSON.parse(await readFile(out, 'utf8')) as RunResult };
}

function expectFlashSaleTelemetry(result: RunResult): void {
  const t = result.telemetry as TelemetrySummary;
  expect(t.scrapes.ok).toBeGreaterThan(40);
  expect(t.cacheHitRatio).toBeGreaterThan(0.05);
  expect(t.cacheHitRatio).toBeLessThan(1);
  expect(t.queueDepth!.max).toBeGreaterThan(0);
  expect(t.queueDrainTimeSec).not.toBeNull();
  expect(t.queueDrainTimeSec!).toBeLessThan(60);
  expect(t.jobs!.completed).toBe(750); // 5 flash-sale products × 150 units, every order processed
  expect(Object.keys(t.cpu!.workers)).toHaveLength(2);
  for (const w of Object.values(t.cpu!.workers)) expect(w.meanPercent).toBeGreaterThan(0);
  expect(result.timeseries.filter((p) => typeof p.cacheHitRatio === 'number').length).toBeGreaterThan(40);
  expect(result.timeseries.filter((p) => typeof p.cpuPercent === 'number').length).toBeGreaterThan(40);
}

describe('telemetry against the reference stack (the flash-sale example)', () => {
  it('embedded backends: a real hit ratio, queue depth, drain time and per-worker CPU', async () => {
    const { result } = await flashSale({});
    expectFlashSaleTelemetry(result);
  }, 150_000);

  it('external backends (PostgreSQL + Redis + BullMQ on this machine)', async () => {
    const name = uniqueName();
    try {
      const { result } = await flashSale({ SHOP_BACKENDS: 'external', DATABASE_URL: PG_URL, REDIS_URL, SHOP_DB_SCHEMA: name, SHOP_KEY_PREFIX: name });
      expectFlashSaleTelemetry(result);
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

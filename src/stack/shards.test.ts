import { describe, expect, it } from 'vitest';
import { embeddedConnectionWarning, getShard, mintId, shardOfId, shardSchema } from './shards.js';
import { resolveStackConfig, type StackConfig } from './stack-config.js';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('shards', () => {
  it('mints ids that say their shard, for every shard count, and stay v4 UUIDs', () => {
    for (let n = 1; n <= 16; n++) {
      for (let shard = 0; shard < n; shard++) {
        for (let i = 0; i < 10; i++) {
          const id = mintId(shard, n);
          expect(id).toMatch(UUID_V4);
          expect(shardOfId(id, n)).toBe(shard);
        }
      }
    }
  });

  it('hashes a customer to the same shard every time, and spreads customers over all shards', () => {
    for (const n of [3, 16]) {
      const counts = new Array<number>(n).fill(0);
      for (let i = 0; i < 1200; i++) {
        const s = getShard(`customer-${i}`, n);
        expect(getShard(`customer-${i}`, n)).toBe(s);
        counts[s]!++;
      }
      // Uniform enough: every shard within half and double of its fair share.
      for (const c of counts) expect(c).toBeGreaterThan(1200 / n / 2);
      for (const c of counts) expect(c).toBeLessThan((1200 / n) * 2);
    }
    expect(getShard('anyone', 1)).toBe(0);
  });

  it('names shard schemas after the shop schema', () => {
    expect(shardSchema('shop', 2)).toBe('shop_shard_2');
  });

  it('warns when the embedded PostgreSQL may get more connections than it allows, shards counted', () => {
    const config = (flags: Record<string, unknown>): StackConfig => {
      const r = resolveStackConfig({ flags, env: {} });
      if (!r.ok) throw new Error(r.problems.join('; '));
      return r.config;
    };
    // 3 processes × 10 × (1 + 9) = 300: fits; with 10 shards, 330 does not.
    expect(embeddedConnectionWarning(config({ workers: '2', consumers: '1', dbPool: '10', shards: '9' }))).toBeUndefined();
    expect(embeddedConnectionWarning(config({ workers: '2', consumers: '1', dbPool: '10', shards: '10' }))).toContain('may open 330');
    expect(embeddedConnectionWarning(config({ workers: '2', consumers: '1', dbPool: '10', shards: '10', backends: 'external', databaseUrl: 'postgres://p/db' }))).toBeUndefined();
    // Autoscaling: the most processes count, not the start counts.
    expect(embeddedConnectionWarning(config({ autoscale: 'on', maxWorkers: '16', maxConsumers: '16', dbPool: '10' }))).toContain('32 processes × dbPool 10 × 1 pools (primary + shards) may open 320');
  });
});

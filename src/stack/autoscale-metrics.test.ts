import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createAutoscaleMetrics } from './autoscale-metrics.js';

const values = async (registry: Registry, name: string) =>
  (await registry.getSingleMetric(name)!.get()).values.map((v) => ({ labels: v.labels, value: v.value }));

describe('createAutoscaleMetrics', () => {
  it('exports replicas by role and state at each scrape, desired counts from the start, and every event series at 0', async () => {
    const registry = new Registry();
    const now = { web: { ready: 2, starting: 1 }, consumer: { ready: 1, starting: 0 } };
    createAutoscaleMetrics(registry, { web: () => now.web, consumer: () => now.consumer });
    now.web = { ready: 3, starting: 0 };
    expect(await values(registry, 'shop_replicas')).toEqual([
      { labels: { role: 'web', state: 'ready' }, value: 3 },
      { labels: { role: 'web', state: 'starting' }, value: 0 },
      { labels: { role: 'consumer', state: 'ready' }, value: 1 },
      { labels: { role: 'consumer', state: 'starting' }, value: 0 },
    ]);
    // desired: the count at creation (2 ready + 1 starting)
    expect(await values(registry, 'shop_replicas_desired')).toEqual([
      { labels: { role: 'web' }, value: 3 },
      { labels: { role: 'consumer' }, value: 1 },
    ]);
    expect((await values(registry, 'shop_scaling_events_total')).map((v) => v.value)).toEqual([0, 0, 0, 0]);
  });

  it('records decisions, events and what they were made on', async () => {
    const registry = new Registry();
    const m = createAutoscaleMetrics(registry, { web: () => ({ ready: 1, starting: 0 }), consumer: () => ({ ready: 1, starting: 0 }) });
    m.desired('consumer', 3);
    m.scaled('consumer', 'up');
    m.observed('consumer', 12);
    m.observed('web', 92);
    const text = await registry.metrics();
    expect(text).toContain('shop_replicas_desired{role="consumer"} 3');
    expect(text).toContain('shop_scaling_events_total{role="consumer",direction="up"} 1');
    expect(text).toContain('shop_scaling_events_total{role="consumer",direction="down"} 0');
    expect(text).toContain('shop_autoscaler_observed{role="consumer"} 12');
    expect(text).toContain('shop_autoscaler_observed{role="web"} 92');
  });
});

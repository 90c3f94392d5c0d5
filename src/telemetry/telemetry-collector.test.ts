import { describe, expect, it } from 'vitest';
import { TelemetryCollector } from './telemetry-collector.js';
import { queueEmpty } from './telemetry-plan.js';
import type { TelemetrySource } from './telemetry-source.js';

describe('TelemetryCollector', () => {
  it('records in each scrape which signals\' queries failed, and a drain does not take a failed queue query for an empty queue', async () => {
    let n = 0;
    // Scrape 0: waiting 0 but active failed; scrape 1 and on: both 0.
    const source: TelemetrySource = {
      describe: 'fake',
      scrape: () => Promise.resolve(n++ === 0
        ? { values: { queueWaiting: [{ key: 'w', group: '', value: 0 }] }, failed: { queueActive: 'query failed: boom' } }
        : { values: { queueWaiting: [{ key: 'w', group: '', value: 0 }], queueActive: [{ key: 'a', group: '', value: 0 }] } }),
    };
    const c = new TelemetryCollector(source, { intervalMs: 20, timeoutMs: 100 });
    c.start();
    // Waits from the first scrape on: the first reads waiting 0, but active is unknown.
    await c.drain(queueEmpty, 5_000);
    const rec = await c.stop();
    expect(rec.scrapes[0]!.failed).toEqual(['queueActive']);
    expect(rec.scrapes.slice(1).every((s) => s.failed === undefined)).toBe(true);
    expect(rec.signalFailures).toEqual({ queueActive: { failed: 1, firstError: 'query failed: boom' } });
    expect(rec.drain?.endedAt).toBe(rec.scrapes[1]!.at);
    expect(rec.scrapes[1]!.at).toBeGreaterThan(rec.scrapes[0]!.at);
  });
});

import { describe, expect, it } from 'vitest';
import type { TelemetryRecording } from '../telemetry/telemetry-collector.js';
import type { SeriesValue } from '../telemetry/telemetry-source.js';
import { analyzeTelemetry, liveTelemetry } from './telemetry.js';
import { ALL_REPLICAS, replicaCounts } from './telemetry-replicas.js';

const T0 = 5_000_000;
const opts = { startedAt: T0, loadDurationSec: 10, signals: ['replicas'], custom: {} };

/** `{ web: 2, consumer: 1 }` as the series of a `replicas` signal with `by: role`. */
const roles = (counts: Record<string, number>): SeriesValue[] => Object.entries(counts).map(([role, value]) => ({ key: `shop_replicas|role=${role}`, group: role, value }));

/** One scrape per entry, `at` seconds after the load's start. */
function recording(scrapes: [at: number, values: TelemetryRecording['scrapes'][number]['values']][], extra: Partial<TelemetryRecording> = {}): TelemetryRecording {
  return { source: 'fake', intervalMs: 1000, failures: 0, scrapes: scrapes.map(([at, values]) => ({ at: T0 + at * 1000, values })), ...extra };
}

describe('replicas telemetry', () => {
  it('gives each scrape its ready count per role, and the run each role\'s min, max and final with every change', () => {
    const web = [1, 1, 2, 2, 3, 3, 2, 2, 1, 1, 1];
    const consumer = [1, 1, 1, 4, 4, 4, 4, 4, 4, 2, 2];
    const { points, summary } = analyzeTelemetry(recording(web.map((w, i) => [i, { replicas: roles({ web: w, consumer: consumer[i]! }) }])), opts);
    expect(points.map((p) => p.replicas)).toEqual(web.map((w, i) => ({ web: w, consumer: consumer[i] })));
    expect(summary.replicas).toEqual({
      roles: { web: { min: 1, max: 3, final: 1 }, consumer: { min: 1, max: 4, final: 2 } },
      events: [
        { t: 2, role: 'web', from: 1, to: 2 },
        { t: 3, role: 'consumer', from: 1, to: 4 },
        { t: 4, role: 'web', from: 2, to: 3 },
        { t: 6, role: 'web', from: 3, to: 2 },
        { t: 8, role: 'web', from: 2, to: 1 },
        { t: 9, role: 'consumer', from: 4, to: 2 },
      ],
    });
    expect(summary.warnings).toEqual([]);
  });

  it('sums the series within a role (several pods or URLs reporting the same role)', () => {
    const series: SeriesValue[] = [{ key: 'a', group: 'web', value: 2 }, { key: 'b', group: 'web', value: 1 }, { key: 'c', group: 'consumer', value: 1 }];
    expect(replicaCounts(series)).toEqual({ web: 3, consumer: 1 });
    expect(replicaCounts(undefined)).toBeUndefined();
  });

  it('names the one role of a signal without `by` "all", never an empty name', () => {
    const { points, summary } = analyzeTelemetry(recording([[0, { replicas: [{ key: 'k', group: '', value: 2 }] }], [1, { replicas: [{ key: 'k', group: '', value: 3 }] }]]), opts);
    expect(points[1]!.replicas).toEqual({ [ALL_REPLICAS]: 3 });
    expect(summary.replicas?.events).toEqual([{ t: 1, role: ALL_REPLICAS, from: 2, to: 3 }]);
  });

  it('starts a role that appears later where it is first seen, and compares a role back from a gap with its last reading', () => {
    const { points, summary } = analyzeTelemetry(recording([
      [0, { replicas: roles({ web: 1 }) }],
      [1, { replicas: roles({ web: 1, consumer: 2 }) }],
      [2, { replicas: roles({ web: 2 }) }], // the consumer series missing from this scrape
      [3, {}], // no replicas series at all
      [4, { replicas: roles({ web: 2, consumer: 3 }) }],
    ]), opts);
    expect(points.map((p) => p.replicas)).toEqual([{ web: 1 }, { web: 1, consumer: 2 }, { web: 2 }, undefined, { web: 2, consumer: 3 }]);
    expect(summary.replicas).toEqual({
      roles: { web: { min: 1, max: 2, final: 2 }, consumer: { min: 2, max: 3, final: 3 } },
      events: [{ t: 2, role: 'web', from: 1, to: 2 }, { t: 4, role: 'consumer', from: 2, to: 3 }],
    });
  });

  it('counts changes during the drain too, timed from the load\'s start to 0.01 s', () => {
    const rec = recording([
      [0, { replicas: roles({ web: 1 }), queueWaiting: [{ key: 'q', group: '', value: 0 }] }],
      [5, { replicas: roles({ web: 3 }), queueWaiting: [{ key: 'q', group: '', value: 9 }] }],
      [10, { replicas: roles({ web: 3 }), queueWaiting: [{ key: 'q', group: '', value: 4 }] }],
      [12.3456, { replicas: roles({ web: 2 }), queueWaiting: [{ key: 'q', group: '', value: 0 }] }],
    ], { drain: { startedAt: T0 + 10_000, endedAt: T0 + 12_346, timeoutMs: 60_000, interrupted: false } });
    const { summary } = analyzeTelemetry(rec, opts);
    expect(summary.replicas?.events).toEqual([{ t: 5, role: 'web', from: 1, to: 3 }, { t: 12.35, role: 'web', from: 3, to: 2 }]);
    expect(summary.replicas?.roles.web).toEqual({ min: 1, max: 3, final: 2 });
  });

  it('is null, with a warning naming the signal, when no scrape had it', () => {
    const { points, summary } = analyzeTelemetry(recording([[0, {}], [1, {}]]), opts);
    expect(summary.replicas).toBeNull();
    expect(points.every((p) => p.replicas === undefined)).toBe(true);
    expect(summary.warnings).toEqual(['no series found for replicas at fake; its figures are missing']);
  });

  it('shows the newest counts live', () => {
    const live = liveTelemetry([{ at: T0, values: { replicas: roles({ web: 1 }) } }, { at: T0 + 1000, values: { replicas: roles({ web: 2, consumer: 1 }) } }]);
    expect(live?.replicas).toEqual({ web: 2, consumer: 1 });
  });
});

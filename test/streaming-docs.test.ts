import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { newHistogram, recordMs } from '../src/engine/latency-histogram.js';
import { emptyCounts } from '../src/engine/recorder.js';
import type { TimeseriesPoint } from '../src/engine/aggregator.js';
import { REMOTE_WRITE_NAMES } from '../src/streams/remote-write-series.js';
import { REMOTE_WRITE_DEFAULTS } from '../src/streams/remote-write-stream.js';
import { streamSecond } from '../src/streams/stream-second.js';
import { STREAM_KINDS } from '../src/streams/stream-spec.js';

const doc = await readFile(new URL('../docs/streaming.md', import.meta.url), 'utf8');
const section = (from: string, to: string): string => doc.slice(doc.indexOf(from), doc.indexOf(to, doc.indexOf(from)));

describe('docs/streaming.md', () => {
  it('lists every kind, every ndjson field and every remote-write series, and no other', () => {
    const kinds = [...section('The kinds:', '\n\nA kind').matchAll(/^\| `([a-z-]+)` \|/gm)].map((m) => m[1]);
    expect(kinds).toEqual([...STREAM_KINDS]);

    const h = newHistogram();
    recordMs(h, 5);
    const counts = { ...emptyCounts(), requests: 1 };
    const point = { t: 0, offeredRps: 1, achievedRps: 1, rps: 1, errors: 0, dropped: 0, inFlight: 0, checks: { c: { passes: 1, fails: 0 } } } as unknown as TimeseriesPoint;
    const { sample } = streamSecond({ runId: 'r', scenario: 's', endpoints: [{ name: 'e', method: 'GET' }] }, point, h, { startAtEpochMs: 0, endpoints: new Map([[0, { counts, hist: h }]]) }, 1);
    const fields = [...section('| field | meaning |', '\nThe run\'s figures').matchAll(/^\| `(\w+)` \|/gm)].map((m) => m[1]);
    expect(fields.sort()).toEqual(Object.keys(sample).sort());

    const series = [...section('| series | type |', '\nThe buckets').matchAll(/^\| `(\w+)` \|/gm)].map((m) => m[1]);
    expect(series.sort()).toEqual([...REMOTE_WRITE_NAMES].sort());
  });

  it('states the remote write defaults the code has', () => {
    const d = REMOTE_WRITE_DEFAULTS;
    const away = section('### When the endpoint is away', '## Grafana dashboards').replace(/\s+/g, ' ');
    expect(away).toContain(`a timeout of ${d.requestTimeoutMs / 1000} s`);
    expect(away).toContain(`backoff (${d.backoffMs / 1000} s, doubling up to ${d.maxBackoffMs / 1000} s)`);
    expect(away).toContain(`at most ${d.maxBatchSeconds} s of samples per`);
    expect(away).toContain(`The queue holds ${d.maxQueuedSeconds} seconds of samples`);
    expect(away).toContain(`what is queued is sent, for at most ${d.closeTimeoutMs / 1000} s`);
  });
});

import { describe, expect, it } from 'vitest';
import { isIdleTail, Recorder } from './recorder.js';
import { Aggregator, type PointDetail } from './aggregator.js';
import type { MonitorSample } from './self-monitor.js';

const monitor: MonitorSample = { elu: 0, loopLagP99Ms: 0, loopLagMaxMs: 0, scheduleLagP99Ms: 0, cpuPercent: 0, windowMs: 1000, connectionQueue: 0 };

describe('per-endpoint windows', () => {
  it('are left out unless asked for', () => {
    const r = new Recorder(2, 1);
    r.request(1, 5, 200);
    expect(r.flushWindow(0).endpoints).toBeUndefined();
  });

  it('hold each endpoint with requests in the second, and the aggregator adds the shards up', () => {
    const shards = [new Recorder(3, 1, [], { endpointWindows: true }), new Recorder(3, 1, [], { endpointWindows: true })];
    shards[0]!.request(0, 5, 200);
    shards[0]!.request(2, 7, 503, 'http_5xx');
    shards[1]!.request(2, 9, undefined, 'reset');
    const details: PointDetail[] = [];
    const agg = new Aggregator(2, (_p, _l, _h, d) => details.push(d));
    const reports = shards.map((s) => s.flushWindow(0));
    expect(Object.keys(reports[0]!.endpoints!)).toEqual(['0', '2']);
    for (const rep of reports) agg.window(rep, monitor);
    const e = details[0]!.endpoints!;
    expect([...e.keys()].sort()).toEqual([0, 2]);
    expect(e.get(2)!.counts).toEqual({ requests: 2, errors: 2, statusCodes: { 503: 1 }, errorsByKind: { http_5xx: 1, reset: 1 } });
    expect(e.get(2)!.hist.totalCount).toBe(2);
    // The next second starts empty.
    expect(shards[0]!.flushWindow(1).endpoints).toEqual({});
  });
});

describe('isIdleTail', () => {
  /** A recorder's window `second`, after `act` recorded into it (seconds before it flushed empty). */
  function windowAt(second: number, act: (r: Recorder) => void = () => {}): ReturnType<Recorder['flushWindow']> {
    const r = new Recorder(1, 1, ['ok']);
    for (let s = 0; s < second; s++) r.flushWindow(s);
    act(r);
    return r.flushWindow(second);
  }

  it('is an empty last second that opened at or after the schedule end (4 s): left out, whichever way the window timer fell', () => {
    expect(isIdleTail(windowAt(4), 4000)).toBe(true);
    expect(isIdleTail(windowAt(5), 4000)).toBe(true);
    expect(isIdleTail(windowAt(4), 3500)).toBe(true);
  });

  it('is not a second inside the schedule, the first second, or one where anything happened', () => {
    expect(isIdleTail(windowAt(3), 4000)).toBe(false);
    expect(isIdleTail(windowAt(3), 3500)).toBe(false);
    expect(isIdleTail(windowAt(0), 0)).toBe(false);
    const busy: [string, (r: Recorder) => void][] = [
      ['a request', (r) => r.request(0, 5, 200)],
      ['an iteration in flight', (r) => r.started(0)],
      ['an iteration that ended', (r) => r.finished(0, 5, true)],
      ['an arrival dropped', (r) => r.dropped(0)],
      ['a check', (r) => r.check(0, false)],
    ];
    for (const [what, act] of busy) expect(isIdleTail(windowAt(4, act), 4000), what).toBe(false);
  });
});

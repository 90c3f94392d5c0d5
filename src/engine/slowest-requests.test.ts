import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mergeFinals } from './aggregator.js';
import { EXEMPLARS_PER_ENDPOINT, SlowestRequests, type Exemplar } from './slowest-requests.js';
import { Recorder } from './recorder.js';

const round3 = (v: number): number => Math.round(v * 1000) / 1000;
/** The K largest, largest first: what a full sort says the keeper must hold. */
const topK = (xs: readonly number[], k = EXEMPLARS_PER_ENDPOINT): number[] => [...xs].sort((a, b) => b - a).slice(0, k);
const latency = fc.double({ min: 0, max: 600_000, noNaN: true });

function keep(latencies: readonly number[], idOf = (i: number): string => `t${i}`): Exemplar[] {
  const s = new SlowestRequests();
  latencies.forEach((ms, i) => s.offer(ms, idOf(i), i / 10, 200, undefined));
  return s.list();
}

describe('SlowestRequests', () => {
  it('property: keeps exactly the K slowest of any sequence, slowest first, each with its own trace id and time', () => {
    fc.assert(fc.property(fc.array(latency, { maxLength: 300 }), (xs) => {
      const kept = keep(xs);
      expect(kept.map((e) => e.latencyMs)).toEqual(topK(xs.map(round3)));
      for (const e of kept) {
        const i = Number(e.traceId.slice(1));
        expect(round3(xs[i]!)).toBe(e.latencyMs);
        expect(e.atS).toBe(round3(i / 10));
      }
      expect(new Set(kept.map((e) => e.traceId)).size).toBe(kept.length);
    }));
  });

  it('keeps the first of equal latencies, and the status or error kind of each', () => {
    const s = new SlowestRequests(2);
    s.offer(5, 'a', 0, 200, undefined);
    s.offer(5, 'b', 0, 503, 'http_5xx');
    s.offer(5, 'c', 0, undefined, 'timeout');
    s.offer(7, 'd', 1, undefined, 'timeout');
    expect(s.list()).toEqual([
      { traceId: 'd', latencyMs: 7, atS: 1, error: 'timeout' },
      { traceId: 'a', latencyMs: 5, atS: 0, status: 200 },
    ]);
    expect(s.beats(5)).toBe(false);
    expect(s.beats(5.001)).toBe(true);
  });

  it('property: merging lists (engine threads, shards) keeps the K slowest of them all', () => {
    fc.assert(fc.property(fc.array(fc.array(latency, { maxLength: 40 }), { maxLength: 6 }), (parts) => {
      const lists = parts.map((xs, p) => keep(xs, (i) => `p${p}-${i}`));
      const merged = SlowestRequests.merge([...lists, undefined]);
      expect(merged.map((e) => e.latencyMs)).toEqual(topK(lists.flat().map((e) => e.latencyMs)));
      const all = new Map(lists.flat().map((e) => [e.traceId, e]));
      for (const e of merged) expect(all.get(e.traceId)).toEqual(e);
    }));
  });
});

describe('Recorder and mergeFinals: exemplars of engine threads', () => {
  it('each thread keeps its endpoints\' slowest traced requests, times from the run start; the run keeps the K slowest of all threads', () => {
    const runStart = 10_000;
    const threads = [0, 1].map((t) => {
      const rec = new Recorder(2, 1, [], { runStart });
      for (let i = 0; i < 20; i++) {
        const ms = (i * 7 + t * 3) % 23;
        rec.request(i % 2, ms, 200);
        if (rec.slowEnough(i % 2, ms)) rec.traced(i % 2, ms, runStart + 500 * i, `w${t}-${i}`, 200, undefined);
      }
      return rec.final();
    });
    for (const f of threads) expect(f.exemplars!.map((l) => l.length)).toEqual([EXEMPLARS_PER_ENDPOINT, EXEMPLARS_PER_ENDPOINT]);
    expect(threads[0]!.exemplars![0]![0]!.atS).toBe(Number(threads[0]!.exemplars![0]![0]!.traceId.split('-')[1]) / 2);
    const merged = mergeFinals(threads);
    for (const endpoint of [0, 1]) {
      const all = threads.flatMap((f) => f.exemplars![endpoint]!);
      expect(merged.exemplars[endpoint]!.map((e) => e.latencyMs)).toEqual(topK(all.map((e) => e.latencyMs)));
      expect(merged.exemplars[endpoint]!.every((e) => all.some((x) => x.traceId === e.traceId && x.latencyMs === e.latencyMs))).toBe(true);
    }
    // A thread's final from before exemplars were kept has none: the others' still count.
    const { exemplars: _none, ...old } = threads[1]!;
    expect(mergeFinals([threads[0]!, old]).exemplars).toEqual(threads[0]!.exemplars);
  });
});

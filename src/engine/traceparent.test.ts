import { describe, expect, it, vi } from 'vitest';
import { newTraceparent, TRACEPARENT_LINE_BYTES, traceIdOf } from './traceparent.js';

const FORMAT = /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/;

describe('newTraceparent', () => {
  it('is a sampled W3C traceparent, version 00, lower-case hex, whose ids read back', () => {
    const trace = newTraceparent();
    const tp = trace.value();
    expect(tp).toMatch(FORMAT);
    expect(traceIdOf(tp)).toBe(tp.slice(3, 35));
    expect(trace.traceId()).toBe(traceIdOf(tp));
  });

  it('writes the same value as a header line into bytes, where it is told, touching nothing else', () => {
    const trace = newTraceparent();
    const out = Buffer.alloc(TRACEPARENT_LINE_BYTES + 10, '#');
    trace.writeLine(out, 5);
    expect(out.toString('latin1')).toBe(`#####traceparent: ${trace.value()}\r\n#####`);
  });

  it('gives a new trace id and span id every time, never all zeros', () => {
    const n = 20_000;
    const traces = new Set<string>();
    const spans = new Set<string>();
    const bad: string[] = [];
    for (let i = 0; i < n; i++) {
      const tp = newTraceparent().value();
      const [, trace, span] = tp.split('-');
      // Checked without expect() in the loop (20,000 of them took seconds); the first bad ones are shown.
      if (!FORMAT.test(tp) || /^0+$/.test(trace!) || /^0+$/.test(span!)) bad.push(tp);
      traces.add(trace!);
      spans.add(span!);
    }
    expect(bad.slice(0, 5)).toEqual([]);
    expect(traces.size).toBe(n);
    expect(spans.size).toBe(n);
  });

  it("varies the trace id's rightmost 7 bytes from request to request (backends sample by them), each hex digit about evenly", () => {
    const n = 16_000;
    // Per position of the last 14 hex digits, how often each digit came: near n/16 each, not a counter's few values.
    const tally = Array.from({ length: 14 }, () => new Array<number>(16).fill(0));
    for (let i = 0; i < n; i++) {
      const tail = newTraceparent().traceId().slice(18);
      for (let p = 0; p < 14; p++) tally[p]![parseInt(tail[p]!, 16)]!++;
    }
    // All 14: none may hold the counter's bits as they are (its high bits stay 0 for 2^32 requests).
    for (const counts of tally) {
      expect(Math.min(...counts)).toBeGreaterThan(n / 16 / 2);
      expect(Math.max(...counts)).toBeLessThan((n / 16) * 2);
    }
  });

  it('draws its random part once per module instance (a worker thread, a shard): two instances share no id', async () => {
    vi.resetModules();
    const other = await import('./traceparent.js');
    vi.resetModules();
    expect(other.newTraceparent).not.toBe(newTraceparent);
    const mine = new Set(Array.from({ length: 1000 }, () => newTraceparent().traceId()));
    const theirs = Array.from({ length: 1000 }, () => other.newTraceparent().traceId());
    expect(theirs.filter((t) => mine.has(t))).toEqual([]);
    // The random 64 bits differ (odds of a clash: 2^-64), not only the counters.
    expect(theirs[0]!.slice(0, 16)).not.toBe([...mine][0]!.slice(0, 16));
  });
});

describe('traceIdOf', () => {
  const trace = '4bf92f3577b34da6a3ce929d0e0e4736';
  it('reads the trace id of a valid traceparent, spaces around it allowed', () => {
    expect(traceIdOf(`00-${trace}-00f067aa0ba902b7-01`)).toBe(trace);
    expect(traceIdOf(` 00-${trace}-00f067aa0ba902b7-00 `)).toBe(trace);
  });

  it.each([
    ['missing', undefined],
    ['an all-zero trace id', `00-${'0'.repeat(32)}-00f067aa0ba902b7-01`],
    ['an all-zero span id', `00-${trace}-${'0'.repeat(16)}-01`],
    ['version ff', `ff-${trace}-00f067aa0ba902b7-01`],
    ['upper-case hex', `00-${trace.toUpperCase()}-00f067aa0ba902b7-01`],
    ['a short trace id', `00-${trace.slice(1)}-00f067aa0ba902b7-01`],
    ['text', 'not-a-traceparent'],
  ])('refuses %s', (_what, value) => {
    expect(traceIdOf(value)).toBeUndefined();
  });
});

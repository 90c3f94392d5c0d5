import { describe, expect, it } from 'vitest';
import { FrameError, readFrames } from './result-frame-read.js';
import { frame, kubectlLogs } from '../../test/helpers/result-frame.js';

/** A result large enough that its frame has many lines (gzip must not shrink it to one). */
function resultJson(i: number): string {
  const noise = Array.from({ length: 300 }, (_, k) => ((k * 7919 + i * 104729) % 1000003).toString(36));
  return JSON.stringify({ shard: { index: i, count: 3 }, noise });
}

const summary = (i: number): string => `\nflash-sale → http://shop  (3.0 s of load)\nshard ${i}/3: the verdict comes from scalectl merge\n`;

describe('readFrames', () => {
  const pods = [1, 2, 3].map((i) => ({ name: `load-${i - 1}-x7k${i}p`, text: summary(i) + frame(resultJson(i), `${i}/3`), json: resultJson(i) }));

  it('reads a frame printed on its own, after other lines', () => {
    const r = readFrames('a summary line\n' + frame(resultJson(1), '-'), { source: 'r.log' });
    expect(r).toEqual([{ source: 'r.log', label: '-', json: resultJson(1) }]);
  });

  it('reads 3 pods interleaved by kubectl logs --prefix, each from its own lines', () => {
    expect(frame(resultJson(1), '1/3').split('\n').length).toBeGreaterThan(4);
    const r = readFrames(kubectlLogs(pods));
    expect(r.map((f) => f.source).sort()).toEqual(pods.map((p) => `pod/${p.name}/scalectl`));
    for (const p of pods) expect(r.find((f) => f.source === `pod/${p.name}/scalectl`)).toMatchObject({ json: p.json, label: expect.stringMatching(/^\d\/3$/) });
  });

  it('skips the unprefixed error line kubectl logs --ignore-errors prints for a pod it cannot read', () => {
    // Without -f, kubectl reads the pods one after the other; with --ignore-errors it prints, between two pods' output:
    const text = kubectlLogs([pods[0]!]) + 'error: container "scalectl" in pod "load-3-x7k4p" is waiting to start: ContainerCreating\n' + kubectlLogs(pods.slice(1));
    expect(readFrames(text).map((f) => f.json).sort()).toEqual(pods.map((p) => p.json).sort());
  });

  it('reads them with CRLF line ends too', () => {
    const r = readFrames(kubectlLogs(pods, '\r\n'));
    expect(r.map((f) => f.json).sort()).toEqual(pods.map((p) => p.json).sort());
  });

  it('skips a log line (stderr) that lands inside a frame: the checksum still holds', () => {
    const [head, ...rest] = frame(resultJson(2), '2/3').split('\n');
    const text = [head, rest[0], 'results written to standard output', ...rest.slice(1)].join('\n');
    expect(readFrames(text)[0]!.json).toBe(resultJson(2));
  });

  it('refuses a truncated frame, naming its pod', () => {
    const cut = pods.map((p, i) => (i === 1 ? { ...p, text: p.text.split('\n').slice(0, -4).join('\n') + '\n' } : p));
    const err = captureError(() => readFrames(kubectlLogs(cut)));
    expect(err).toBeInstanceOf(FrameError);
    expect(err.message).toMatch(new RegExp(`result frame 2/3 from pod/${pods[1]!.name}/scalectl has no END line`));
    expect((err as FrameError).source).toBe(`pod/${pods[1]!.name}/scalectl`);
  });

  it('refuses the end of a frame without its beginning (kubectl logs without --tail=-1 keeps 10 lines), naming the pod', () => {
    const tail10 = pods.map((p, i) => (i === 2 ? { ...p, text: p.text.split('\n').slice(-11).join('\n') } : p));
    expect(tail10[2]!.text).not.toMatch(/BEGIN/);
    const err = captureError(() => readFrames(kubectlLogs(tail10)));
    expect(err).toBeInstanceOf(FrameError);
    expect(err.message).toBe(`the end of a framed result from pod/${pods[2]!.name}/scalectl without its beginning: collect the whole log (kubectl logs --tail=-1)`);
    expect(() => readFrames(frame(resultJson(1), '-').split('\n').slice(3).join('\n'), { source: 'r.log' })).toThrow(/^the end of a framed result from r.log without its beginning/);
  });

  it('refuses a frame whose data lost a line, or whose checksum does not match, naming its pod', () => {
    const lines = frame(resultJson(3), '3/3').split('\n');
    const lost = [...lines.slice(0, 2), ...lines.slice(3)].join('\n');
    expect(() => readFrames(kubectlLogs([{ name: 'p-2', text: lost }]))).toThrow(/result frame 3\/3 from pod\/p-2\/scalectl: (not gzip|checksum mismatch)/);
    const wrongSum = frame(resultJson(3), '3/3').replace(/ [0-9a-f]{64}-----/, ` ${'0'.repeat(64)}-----`);
    expect(() => readFrames(kubectlLogs([{ name: 'p-2', text: wrongSum }]))).toThrow(/result frame 3\/3 from pod\/p-2\/scalectl: checksum mismatch/);
  });

  it('refuses a frame that begins again before it ends', () => {
    const f = frame(resultJson(1), '1/3');
    expect(() => readFrames(f.split('\n').slice(0, 3).join('\n') + '\n' + f, { source: 'x.log' })).toThrow(/result frame 1\/3 from x.log has no END line: another frame begins/);
  });

  it('refuses a frame whose result is over the limit', () => {
    expect(() => readFrames(frame(resultJson(1), '-'), { maxJsonBytes: 100 })).toThrow(/over the limit/);
  });

  it('finds nothing in a log without frames', () => {
    expect(readFrames('[pod/a/b] hello\nworld\n')).toEqual([]);
  });
});

function captureError(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected an error');
}

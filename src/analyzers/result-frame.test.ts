import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { FRAME_LINE_LENGTH, frameResult } from './result-frame.js';
import { readFrames } from './result-frame-read.js';

/** This test's own reading of a frame (the reader proper is scalectl merge's). */
function unframe(text: string): { source: string; sha: string; json: string } {
  const lines = text.split('\n');
  const m = /^-----BEGIN SCALECTL RESULT (\S+) ([0-9a-f]{64})-----$/.exec(lines[0]!)!;
  const end = lines.indexOf('-----END SCALECTL RESULT-----');
  const json = gunzipSync(Buffer.from(lines.slice(1, end).join(''), 'base64')).toString('utf8');
  return { source: m[1]!, sha: m[2]!, json };
}

describe('frameResult', () => {
  const json = JSON.stringify({ schemaVersion: 1, name: 'héllo ✓', data: Array.from({ length: 300 }, (_, i) => i * 7) }, null, 2) + '\n';

  it('round-trips the JSON bytes, with their SHA-256 and the shard in the header', () => {
    const framed = frameResult(json, { index: 2, count: 4 });
    const f = unframe(framed);
    expect(f.json).toBe(json);
    expect(f.source).toBe('2/4');
    expect(f.sha).toBe(createHash('sha256').update(json, 'utf8').digest('hex'));
    expect(framed.endsWith('-----END SCALECTL RESULT-----\n')).toBe(true);
  });

  it('writes base64 lines of 76 characters (the last may be shorter), and - for a run that is not a shard', () => {
    const framed = frameResult(json);
    expect(framed.startsWith('-----BEGIN SCALECTL RESULT - ')).toBe(true);
    const body = framed.split('\n').slice(1, -2);
    expect(body.length).toBeGreaterThan(1);
    for (const line of body.slice(0, -1)) expect(line).toMatch(new RegExp(`^[A-Za-z0-9+/]{${FRAME_LINE_LENGTH}}$`));
    expect(body.at(-1)!.length).toBeLessThanOrEqual(FRAME_LINE_LENGTH);
  });

  it('is read back by merge\'s reader, byte for byte', () => {
    const frames = readFrames('a summary line\n' + frameResult(json, { index: 3, count: 5 }), { source: 'pod.log' });
    expect(frames).toHaveLength(1);
    expect(frames[0]!.json).toBe(json);
    expect(frames[0]!.label).toBe('3/5');
  });
});

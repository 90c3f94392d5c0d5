import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadScenario } from './load-scenario.js';

const folders: string[] = [];
afterAll(async () => {
  for (const f of folders) await rm(f, { recursive: true, force: true });
});

async function hashOf(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'scalectl-hash-'));
  folders.push(dir);
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
  const loaded = await loadScenario(join(dir, 's.yaml'));
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.issues));
  return loaded.loaded.hash;
}

const yaml = `name: h
target: http://127.0.0.1:1
phases: [{ duration: 1s, arrivalRate: 1 }]
data:
  b: { file: b.csv }
  a: { file: a.json }
flows: [{ name: f, steps: [{ get: "/{{ a.x }}/{{ b.y }}" }] }]
`;

describe('scenarioHash', () => {
  it('is the SHA-256 of the scenario bytes, then each data file in the order data: declares them', async () => {
    const files = { 's.yaml': yaml, 'b.csv': 'y\n1\n', 'a.json': '[{"x": 2}]' };
    const expected = createHash('sha256').update(yaml).update('y\n1\n').update('[{"x": 2}]').digest('hex');
    expect(await hashOf(files)).toBe(expected);
  });

  it('changes with a data file, not only with the scenario', async () => {
    const base = { 's.yaml': yaml, 'b.csv': 'y\n1\n', 'a.json': '[{"x": 2}]' };
    const one = await hashOf(base);
    expect(await hashOf({ ...base, 'b.csv': 'y\n3\n' })).not.toBe(one);
    expect(await hashOf({ ...base, 's.yaml': yaml + '# a comment\n' })).not.toBe(one);
    expect(await hashOf(base)).toBe(one);
  });
});

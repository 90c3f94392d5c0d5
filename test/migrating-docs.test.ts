import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importArtillery } from '../src/scenarios/artillery/import-artillery.js';
import { loadScenario } from '../src/scenarios/load-scenario.js';
import { formatIssue } from '../src/scenarios/scenario-issue.js';
import { tempFiles } from './helpers/cli.js';

const doc = readFileSync(new URL('../docs/migrating.md', import.meta.url), 'utf8');

/** The YAML blocks of docs/migrating.md that follow a `<!-- test: kind -->` marker. */
function blocks(kind: string): string[] {
  return [...doc.matchAll(new RegExp(`<!-- test: ${kind}[^>]*-->\\n\`\`\`yaml\\n([\\s\\S]*?)\`\`\`\\n`, 'g'))].map((m) => m[1]!);
}

describe('docs/migrating.md', () => {
  it('shows what scalectl import artillery writes for its Artillery example, exactly', async () => {
    const [input] = blocks('artillery-input');
    const [output] = blocks('artillery-output');
    const dir = await tempFiles({ 'shop.yml': input!, 'users.csv': 'a@x.test,pw\nb@x.test,pw2\n' });
    const r = importArtillery('shop.yml', input!, { scriptDir: dir, outDir: dir, canWrite: true });
    expect(r.yaml).toBe(output);
    expect(r.notes.filter((n) => n.kind === 'untranslated')).toEqual([]);
    expect(r.copies[join(dir, 'users.scalectl.csv')]).toBe('email,password\na@x.test,pw\nb@x.test,pw2\n');
  });

  it('every scalectl scenario in it validates, the importer\'s output included', async () => {
    const scenarios = [...blocks('scenario'), ...blocks('artillery-output')];
    expect(scenarios.length).toBe(3);
    const dir = await tempFiles({ 'users.scalectl.csv': 'email,password\na@x.test,pw\n' });
    for (const [i, text] of scenarios.entries()) {
      await writeFile(join(dir, `s${i}.yaml`), text);
      const r = await loadScenario(join(dir, `s${i}.yaml`));
      expect(r.ok ? [] : r.issues.map(formatIssue)).toEqual([]);
    }
  });
});

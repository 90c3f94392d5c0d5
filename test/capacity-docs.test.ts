import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';

describe('docs/capacity.md', () => {
  it('documents every flag of scalectl capacity, and no flag it does not have', async () => {
    const help = (await runCli(['capacity', '--help'])).stdout;
    const flags = new Set([...help.matchAll(/(?:^|\s)(--[a-z][a-z0-9-]*)/g)].map((m) => m[1]!).filter((f) => f !== '--help'));
    const doc = await readFile(new URL('../docs/capacity.md', import.meta.url), 'utf8');
    const table = doc.slice(doc.indexOf('## Flags'), doc.indexOf('## The method'));
    const documented = new Set([...table.matchAll(/^\| `(?:-\w, )?(--[a-z][a-z0-9-]*)/gm)].map((m) => m[1]!));
    expect([...documented].sort()).toEqual([...flags].sort());
  });
});

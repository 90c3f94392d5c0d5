import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { KUSTOMIZE_FILE } from '../src/reporters/k8s.js';
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

  it('--emit-k8s says, in the help and the flags table, every file it writes', async () => {
    const help = (await runCli(['capacity', '--help'])).stdout.replace(/\s+/g, ' ');
    const doc = await readFile(new URL('../docs/capacity.md', import.meta.url), 'utf8');
    const row = doc.split('\n').find((l) => l.startsWith('| `--emit-k8s'))!;
    const option = help.slice(help.indexOf('--emit-k8s'), help.indexOf('--html'));
    for (const file of ['hpa.yaml', 'keda-scaledobject.yaml', KUSTOMIZE_FILE]) {
      expect(option, `help: ${file}`).toContain(file);
      expect(row, `docs: ${file}`).toContain(`\`${file}\``);
    }
  });
});

import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { knobEnvName, SHOP_SERIES, stackConfigSchema, stackKnobs } from '../../src/stack/contract.js';

const doc = readFileSync(new URL('../../docs/reference-stack.md', import.meta.url), 'utf8');
const kebab = (k: string) => k.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());

describe('docs/reference-stack.md agrees with the code', () => {
  it('lists every knob with its flag and environment variable, and no others', () => {
    const rows = [...doc.matchAll(/^\| `(\w+)` \| `(--[\w-]+)` \| `(\w+)` \|/gm)].map((m) => [m[1], m[2], m[3]]);
    expect(rows).toEqual(Object.keys(stackKnobs).map((k) => [k, `--${kebab(k)}`, knobEnvName(k)]));
    const listenRows = [...doc.matchAll(/^\| `(--[\w-]+)` \| `(\w+)` \|/gm)].map((m) => [m[1], m[2]]);
    const others = Object.keys(stackConfigSchema.shape).filter((k) => !(k in stackKnobs));
    expect(listenRows).toEqual(others.map((k) => [`--${kebab(k)}`, knobEnvName(k)]));
  });

  it('lists every Prometheus series the stack exports, and no others', () => {
    const dir = new URL('../../src/stack/', import.meta.url);
    const inCode = readdirSync(dir).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
      .flatMap((f) => [...readFileSync(new URL(f, dir), 'utf8').matchAll(/name: (?:'(shop_\w+)'|SHOP_SERIES\.(\w+))/g)]
        .map((m) => m[1] ?? SHOP_SERIES[m[2] as keyof typeof SHOP_SERIES]));
    const inDoc = [...doc.matchAll(/^\| `(shop_\w+)` \|/gm)].map((m) => m[1]!);
    expect(new Set(inDoc)).toEqual(new Set(inCode));
    expect(inCode.length).toBeGreaterThanOrEqual(13);
  });
});

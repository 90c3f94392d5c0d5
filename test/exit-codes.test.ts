import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ExitCode } from '../src/exit-codes.js';
import type { RunResult } from '../src/analyzers/run-result.js';
import { runBin, tempFiles } from './helpers/cli.js';
import { closedPort, useTestServer } from './helpers/test-server.js';

describe('docs/exit-codes.md and src/exit-codes.ts agree both ways', () => {
  const doc = readFileSync(new URL('../docs/exit-codes.md', import.meta.url), 'utf8');
  const rows = [...doc.matchAll(/^\| (\d+) \| (\w+) \|/gm)].map((m) => [Number(m[1]), m[2]] as const);

  it('every code in the code is documented under its name', () => {
    for (const [name, code] of Object.entries(ExitCode)) expect(rows).toContainEqual([code, name]);
  });
  it('every documented code exists in the code', () => {
    expect(rows.length).toBeGreaterThan(0);
    for (const [code, name] of rows) expect(ExitCode[name as keyof typeof ExitCode]).toBe(code);
  });
});

/** Sends one SIGINT when the plain progress line for second 1 shows load is flowing. */
function sigintAfterFirstSecond(): (stderr: string, child: ChildProcess) => void {
  let sent = false;
  return (stderr, child) => {
    if (!sent && /\[1\/60s\]/.test(stderr)) {
      sent = true;
      child.kill('SIGINT');
    }
  };
}

describe('exit codes of the built bin/scalectl.js', () => {
  const server = useTestServer();

  const scenario = (target: string, thresholds: string, phase = '{ duration: 1s, arrivalRate: 10 }') => `
name: codes
target: ${target}
phases: [${phase}]
flows: [{ name: f, steps: [{ get: /delay/1 }] }]
thresholds: [${thresholds}]
`;

  it('0 when thresholds pass', async () => {
    const dir = await tempFiles({ 's.yaml': scenario(server.url, '"p99 < 5s", "error_rate < 1%"') });
    const r = await runBin(['run', 's.yaml', '--no-progress'], { cwd: dir });
    expect(r.stdout).toMatch(/PASSED/);
    expect(r.code).toBe(ExitCode.ok);
  });

  it('4 when a threshold fails', async () => {
    const dir = await tempFiles({ 's.yaml': scenario(server.url, '"p50 < 1us"') });
    const r = await runBin(['run', 's.yaml', '--no-progress'], { cwd: dir });
    // The scenario's threshold and the default one on dropped arrivals (which passed).
    expect(r.stdout).toMatch(/FAILED: 1 of 2 thresholds/);
    expect(r.code).toBe(ExitCode.thresholdsFailed);
  });

  it('2 on a bad flag, a bad flag value, or an unwritable --out', async () => {
    const dir = await tempFiles({ 's.yaml': scenario(server.url, '') });
    // Each is refused before any load, so the six processes start side by side.
    const [unknown, bad, noOut, target, out, none] = await Promise.all([
      ['run', 's.yaml', '--no-such-flag'],
      ['run', 's.yaml', '--workers', 'two'],
      ['run', 's.yaml', '--out', ''],
      ['run', 's.yaml', '--target', 'http://a b'],
      ['run', 's.yaml', '--out', '/no/such/dir/r.json'],
      [],
    ].map((argv) => runBin(argv, { cwd: dir })));
    expect(unknown!.code).toBe(ExitCode.usage);
    expect(bad!.code).toBe(ExitCode.usage);
    expect(bad!.stderr).toMatch(/--workers takes a whole number/);
    expect(noOut!.stderr).toMatch(/--out needs a file name/);
    expect(target).toMatchObject({ code: ExitCode.usage });
    expect(target!.stderr).toMatch(/--target http:\/\/a b: not a valid URL/);
    expect(out!.code).toBe(ExitCode.usage);
    expect(out!.stderr).toMatch(/--out \/no\/such\/dir\/r.json: not writable/);
    expect(none!.code).toBe(ExitCode.usage);
    // Nothing was sent to the target.
    expect((await server.stats()).count).toBe(0);
  });

  it('3 on an invalid scenario, with no stack trace', async () => {
    const dir = await tempFiles({ 's.yaml': 'name: x\nphases: nope\n' });
    const r = await runBin(['run', 's.yaml'], { cwd: dir });
    expect(r.code).toBe(ExitCode.invalidInput);
    expect(r.stderr).toMatch(/^s\.yaml:2:9 phases: expected a list, got "nope"$/m);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('6 when the target refuses connections, before any load', async () => {
    const port = await closedPort();
    const dir = await tempFiles({ 's.yaml': scenario(`http://127.0.0.1:${port}`, '') });
    const r = await runBin(['run', 's.yaml'], { cwd: dir });
    expect(r.code).toBe(ExitCode.unreachable);
    expect(r.stderr).toMatch(/unreachable: ECONNREFUSED connecting to 127\.0\.0\.1:\d+/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('7 when target: reference cannot start its stack (its database is unreachable), before any load', async () => {
    const port = await closedPort();
    const dir = await tempFiles({ 's.yaml': scenario('reference', '').replace('target: reference', `target: reference\nstack: { backends: external, databaseUrl: "postgres://postgres@127.0.0.1:${port}/test", workers: 1 }`) });
    const r = await runBin(['run', 's.yaml'], { cwd: dir });
    expect(r.code).toBe(ExitCode.stackFailed);
    expect(r.stderr).toMatch(/the reference stack could not start: cannot prepare the database at .*ECONNREFUSED.*\(its log: .*stack\.log\)/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('5 on SIGINT mid-run, with a valid partial result written', async () => {
    const dir = await tempFiles({ 's.yaml': scenario(server.url, '"p99 < 5s"', '{ duration: 60s, arrivalRate: 20 }') });
    const r = await runBin(['run', 's.yaml', '--out', 'r.json'], { cwd: dir, onStderr: sigintAfterFirstSecond() });
    expect(r.code).toBe(ExitCode.aborted);
    expect(r.stdout).toMatch(/ABORTED/);
    const result = JSON.parse(await readFile(join(dir, 'r.json'), 'utf8')) as RunResult;
    expect(result.aborted).toBe(true);
    expect(result.passed).toBe(false);
    expect(result.totals.requests).toBeGreaterThan(0);
    expect(result.durationSec).toBeLessThan(30);
  });

  it('5 on SIGINT while requests hang: they end interrupted, and the teardown adds no errors', async () => {
    const dir = await tempFiles({
      's.yaml': `
name: hang-stop
target: ${server.url}
phases: [{ duration: 60s, arrivalRate: 5 }]
flows: [{ name: f, steps: [{ get: /hang }] }]
`,
    });
    const r = await runBin(['run', 's.yaml', '--out', 'r.json', '--workers', '2'], { cwd: dir, onStderr: sigintAfterFirstSecond() });
    expect(r.code).toBe(ExitCode.aborted);
    const result = JSON.parse(await readFile(join(dir, 'r.json'), 'utf8')) as RunResult;
    expect(result.totals.requests).toBe(0);
    expect(result.totals.errorsByKind).toEqual({});
    expect(result.errorSamples).toEqual({});
    expect(result.totals.iterations.interrupted).toBe(result.totals.iterations.started);
    expect(result.totals.iterations.started).toBeGreaterThan(0);
  });

  it('130 on a second SIGINT while stopping', async () => {
    // Requests that hang keep the first stop waiting (2 s grace), so the second signal lands during it.
    const dir = await tempFiles({
      's.yaml': `
name: hang
target: ${server.url}
phases: [{ duration: 60s, arrivalRate: 20 }]
flows: [{ name: f, steps: [{ get: /hang }] }]
`,
    });
    let stage = 0;
    const r = await runBin(['run', 's.yaml', '--out', 'r.json'], {
      cwd: dir,
      onStderr: (all, child) => {
        if (stage === 0 && /\[1\/60s\]/.test(all)) {
          stage = 1;
          child.kill('SIGINT');
        } else if (stage === 1 && /SIGINT received, stopping/.test(all)) {
          stage = 2;
          child.kill('SIGINT');
        }
      },
    });
    expect(r.code).toBe(ExitCode.forcedExit);
    expect(r.stderr).toMatch(/second SIGINT/);
  });
});

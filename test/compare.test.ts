import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { beforeAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../src/exit-codes.js';
import { runCli, runScenario, tempFiles } from './helpers/cli.js';
import { useTestServer } from './helpers/test-server.js';

const server = useTestServer();

const scenario = (delayMs: number): string => `
name: compare-me
target: ${server.url}
phases: [{ duration: 2s, arrivalRate: 60 }]
flows:
  - name: f
    steps:
      - { name: work, get: /delay/${delayMs} }
`;

describe('scalectl compare', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await tempFiles({});
    // A baseline at 5 ms and a current run at 300 ms: p99 regresses by far more than 10%, stalls or not.
    await writeFile(join(dir, 'base.json'), JSON.stringify((await runScenario(scenario(5))).result));
    await writeFile(join(dir, 'slow.json'), JSON.stringify((await runScenario(scenario(300))).result));
  });

  it('exit 4 when a limit is crossed, with the arithmetic; a side-by-side table per endpoint', async () => {
    const r = await runCli(['compare', 'base.json', 'slow.json', '--max-regression', 'p99=10%,error_rate=0.5pp', '--junit', 'j.xml'], { cwd: dir });
    expect(r.code).toBe(ExitCode.thresholdsFailed);
    expect(r.stdout).toMatch(/│ work +│ 120 → 120 /);
    expect(r.stdout).toMatch(/FAIL {2}p99 \(total\): [\d.]+ms → [\d.]+ms \(\+\d+(\.\d)?%\), allowed up to [\d.]+ms \(p99=10%\)/);
    expect(r.stdout).toMatch(/pass {2}error_rate \(work\): 0\.00% → 0\.00%/);
    expect(r.stdout).toMatch(/REGRESSED: 2 of 4 checks failed/);
    const junit = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(await readFile(join(dir, 'j.xml'), 'utf8')) as {
      testsuites: { testsuite: { tests: string; failures: string; testcase: { name: string; classname: string; failure?: { message: string } }[] } };
    };
    expect(junit.testsuites.testsuite).toMatchObject({ tests: '5', failures: '2' });
    const cases = junit.testsuites.testsuite.testcase;
    expect(cases.map((c) => c.name)).toEqual(['runs compared', 'p99=10% (work)', 'error_rate=0.5pp (work)', 'p99=10% (total)', 'error_rate=0.5pp (total)']);
    expect(cases[1]!.classname).toBe('scalectl.regression');
    expect(cases[1]!.failure!.message).toMatch(/^p99 \(work\): .* allowed up to /);
  });

  it('exit 0 within the limits, and when no limit is given', async () => {
    expect((await runCli(['compare', 'slow.json', 'base.json', '--max-regression', 'p99=10%,rps=-10%'], { cwd: dir })).code).toBe(ExitCode.ok);
    const r = await runCli(['compare', 'base.json', 'slow.json'], { cwd: dir });
    expect(r.code).toBe(ExitCode.ok);
    expect(r.stdout).toMatch(/compared, not gated/);
  });

  it('exit 3 for a file that is not a run result, exit 2 for bad limits', async () => {
    await writeFile(join(dir, 'nope.json'), '{"hello": 1}');
    const bad = await runCli(['compare', 'base.json', 'nope.json'], { cwd: dir });
    expect(bad.code).toBe(ExitCode.invalidInput);
    expect(bad.stderr).toMatch(/nope\.json: not a scalectl run result/);
    expect((await runCli(['compare', 'base.json', 'missing.json'], { cwd: dir })).stderr).toMatch(/missing\.json: cannot read: no such file/);
    const aborted = { ...JSON.parse(await readFile(join(dir, 'base.json'), 'utf8')), aborted: true };
    await writeFile(join(dir, 'aborted.json'), JSON.stringify(aborted));
    const stopped = await runCli(['compare', 'base.json', 'aborted.json'], { cwd: dir });
    expect(stopped.code).toBe(ExitCode.invalidInput);
    expect(stopped.stderr).toMatch(/aborted\.json: the run was stopped before its end/);
    await writeFile(join(dir, 'broken.json'), JSON.stringify({ ...JSON.parse(await readFile(join(dir, 'base.json'), 'utf8')), histograms: { work: 'not base64!' } }));
    expect((await runCli(['compare', 'base.json', 'broken.json'], { cwd: dir })).stderr).toMatch(/broken\.json: histograms\["work"\] is not an encoded HdrHistogram/);
    const shard = { ...JSON.parse(await readFile(join(dir, 'base.json'), 'utf8')), shard: { index: 2, count: 4, scenarioHash: 'a'.repeat(64), startAt: '2026-12-03T10:00:00.000Z', startLateMs: 0, workers: 1 } };
    await writeFile(join(dir, 'shard-2.json'), JSON.stringify(shard));
    for (const args of [['base.json', 'shard-2.json'], ['shard-2.json', 'base.json']]) {
      const r = await runCli(['compare', ...args], { cwd: dir });
      expect([r.code, r.stdout, r.stderr]).toEqual([ExitCode.invalidInput, '', 'scalectl: shard-2.json: this is shard 2 of 4 of a run: merge the shards first (scalectl merge), then compare the merged result\n']);
    }
    const usage = await runCli(['compare', 'base.json', 'slow.json', '--max-regression', 'p99=fast'], { cwd: dir });
    expect(usage.code).toBe(ExitCode.usage);
    expect(usage.stderr).toMatch(/--max-regression "p99=fast": expected/);
  });
});

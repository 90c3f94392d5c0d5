import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli.js';
import { ExitCode } from '../src/exit-codes.js';
import type { RunResult } from '../src/analyzers/run-result.js';
import type { HttpClientUsage } from '../src/engine/http-exchange.js';
import { loadScenario } from '../src/scenarios/load-scenario.js';
import { runCli, tempFiles, type CliRun } from './helpers/cli.js';
import { frame, kubectlLogs } from './helpers/result-frame.js';
import { runShardsInProcess } from './helpers/shard-results.js';
import { useTestServer } from './helpers/test-server.js';

/** The CLI in-process with `stdin` as its standard input. */
async function runCliWithStdin(argv: string[], stdin: string, cwd: string): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, {
    stdout: { write: (s: string) => (stdout += s), isTTY: false },
    stderr: { write: (s: string) => (stderr += s), isTTY: false },
    stdin: () => Readable.from([Buffer.from(stdin, 'utf8')]),
    env: {},
    cwd,
    signal: new AbortController().signal,
  });
  return { code, stdout, stderr };
}

const RATE = 20;

describe('scalectl merge', () => {
  const server = useTestServer();
  let dir: string;
  let shards: RunResult[];

  beforeAll(async () => {
    dir = await tempFiles({
      's.yaml': `name: sharded
target: ${server.url}
phases: [{ duration: 1s, arrivalRate: ${RATE} }]
flows:
  - name: f
    steps:
      - get: /delay/5
        check: [{ name: "is 200", status: { equals: 200 } }]
thresholds: ["p99 < 5s", "error_rate < 1%", "checks > 99%"]
`,
    });
    const loaded = await loadScenario(join(dir, 's.yaml'));
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.issues));
    shards = await runShardsInProcess(loaded.loaded, server.url, 2);
    // Shard 1 as a results file; shard 2 as its pod's log: the summary, then the framed result.
    await writeFile(join(dir, 'shard-1.json'), JSON.stringify(shards[0]));
    await writeFile(join(dir, 'pod-2.log'), 'sharded → http://127.0.0.1 (1.0 s of load)\r\n' + frame(JSON.stringify(shards[1]), '2/2').replace(/\n/g, '\r\n'));
  });

  it('merges shard files into one result that every reporter and compare read', async () => {
    const r = await runCli(['merge', 'shard-1.json', 'pod-2.log', '--out', 'm.json', '--html', 'm.html', '--junit', 'm.xml', '--summary-md', 'm.md'], { cwd: dir });
    expect(r.stderr).not.toMatch(/internal error/);
    expect(r.code).toBe(ExitCode.ok);
    const hash = shards[0]!.shard!.scenarioHash;
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(r.stdout).toContain(`merged 2 shards (scenario ${hash.slice(0, 12)}…): 1 on shard-1-pod on time; 2 on shard-2-pod on time\n`);
    expect(r.stdout).toMatch(/PASSED: all 4 thresholds/);
    const m = JSON.parse(await readFile(join(dir, 'm.json'), 'utf8')) as RunResult;
    // Every arrival the schedule holds, once: the shards' slices do not overlap and miss none.
    const arrivals = RATE * 1; // the one phase: 1 s at RATE per second
    expect(m.totals.requests).toBe(arrivals);
    expect(m.totals.requests).toBe(shards[0]!.totals.requests + shards[1]!.totals.requests);
    expect(m.merged).toEqual({ shards: 2, scenarioHash: hash });
    expect(m).not.toHaveProperty('shard');
    expect(m.generator.shards!.map((s) => s.index)).toEqual([1, 2]);
    expect(m.checks).toEqual([{ name: 'is 200', passes: arrivals, fails: 0 }]);
    // Each shard's requests by HTTP client path, added up.
    const [one, two] = shards.map((s) => s.generator.httpClient!) as [HttpClientUsage, HttpClientUsage];
    expect(m.generator.httpClient).toMatchObject({ lean: one.lean + two.lean, undici: one.undici + two.undici });
    expect(m.generator.httpClient!.lean + m.generator.httpClient!.undici).toBe(arrivals);
    expect(m.generator.httpClient!.undiciReasons).toEqual([...new Set([...one.undiciReasons, ...two.undiciReasons])]);
    expect(await readFile(join(dir, 'm.html'), 'utf8')).toMatch(/merged 2 shards[\s\S]*HTTP client[\s\S]*lean \d+ · undici \d+/);
    expect(r.stdout).toMatch(/\nhttp client: lean \d+ · undici \d+/);
    expect(await readFile(join(dir, 'm.xml'), 'utf8')).toMatch(/<testsuite [^>]*tests="6"/);
    expect(await readFile(join(dir, 'm.md'), 'utf8')).toMatch(/PASSED[\s\S]*merged 2 shards/);
    expect((await runCli(['compare', 'm.json', 'm.json'], { cwd: dir })).code).toBe(ExitCode.ok);
    expect((await runCli(['report', 'm.json', '--html', 'r.html'], { cwd: dir })).code).toBe(ExitCode.ok);
  });

  it('merges, reports and compares results written before generator.httpClient was recorded', async () => {
    const old = shards.map(({ generator: { httpClient: _h, ...generator }, ...r }) => ({ ...r, generator }));
    await writeFile(join(dir, 'old-1.json'), JSON.stringify(old[0]));
    await writeFile(join(dir, 'old-2.json'), JSON.stringify(old[1]));
    const r = await runCli(['merge', 'old-1.json', 'old-2.json', '--out', 'old.json', '--html', 'old.html'], { cwd: dir });
    expect(r.stderr).not.toMatch(/internal error/);
    expect(r.code).toBe(ExitCode.ok);
    expect(r.stdout).toMatch(/PASSED/);
    expect(r.stdout).not.toContain('http client:');
    const m = JSON.parse(await readFile(join(dir, 'old.json'), 'utf8')) as RunResult;
    expect(m.totals.requests).toBe(RATE);
    expect(m.generator).not.toHaveProperty('httpClient');
    expect(await readFile(join(dir, 'old.html'), 'utf8')).not.toContain('HTTP client');
    // Next to a result that has it: one shard without makes the merged count unknown, not a part of it.
    const mixed = await runCli(['merge', 'shard-1.json', 'old-2.json', '--out', 'mixed.json'], { cwd: dir });
    expect(mixed.code).toBe(ExitCode.ok);
    expect(JSON.parse(await readFile(join(dir, 'mixed.json'), 'utf8'))).not.toHaveProperty('generator.httpClient');
    expect((await runCli(['compare', 'old.json', 'm.json'], { cwd: dir })).code).toBe(ExitCode.ok);
    const report = await runCli(['report', 'old-1.json', '--html', 'old-1.html'], { cwd: dir });
    expect(report.stderr).not.toMatch(/internal error/);
    expect(report.code).toBe(ExitCode.ok);
  });

  it('merge - reads the interleaved output of kubectl logs --prefix, and names the pod whose frame was cut', async () => {
    const pods = shards.map((s, i) => ({ name: `sharded-${i}-abcde`, text: `summary of shard ${i + 1}\n` + frame(JSON.stringify(s), `${i + 1}/2`) }));
    const r = await runCliWithStdin(['merge', '-', '--out', 'stdin.json'], kubectlLogs(pods, '\r\n'), dir);
    expect(r.code).toBe(ExitCode.ok);
    const m = JSON.parse(await readFile(join(dir, 'stdin.json'), 'utf8')) as RunResult;
    expect(m.totals.requests).toBe(shards[0]!.totals.requests + shards[1]!.totals.requests);
    const cut = pods.map((p, i) => (i === 1 ? { ...p, text: p.text.split('\n').slice(0, -3).join('\n') } : p));
    const bad = await runCliWithStdin(['merge', '-'], kubectlLogs(cut), dir);
    expect(bad.code).toBe(ExitCode.invalidInput);
    expect(bad.stderr).toBe('scalectl: result frame 2/2 from pod/sharded-1-abcde/scalectl has no END line (the log was cut short; collect it whole, e.g. kubectl logs --tail=-1)\n');
    // Collected without --tail=-1: kubectl keeps each pod's last 10 lines, the END but not the BEGIN.
    const tail = pods.map((p) => ({ ...p, text: p.text.split('\n').slice(-11).join('\n') }));
    const headless = await runCliWithStdin(['merge', '-'], kubectlLogs(tail), dir);
    expect([headless.code, headless.stdout]).toEqual([ExitCode.invalidInput, '']);
    expect(headless.stderr).toMatch(/^scalectl: the end of a framed result from pod\/sharded-\d-abcde\/scalectl without its beginning: collect the whole log \(kubectl logs --tail=-1\)\n$/);
  });

  it('exits 3 for a missing shard, 4 when the merged data fail a threshold, 5 when a shard was stopped', async () => {
    const missing = await runCli(['merge', 'shard-1.json'], { cwd: dir });
    expect([missing.code, missing.stderr]).toEqual([ExitCode.invalidInput, 'scalectl: missing shard 2 of 2\n']);
    const strict = shards.map((s) => ({ ...s, thresholds: s.thresholds.map((t) => (t.expression === 'p99 < 5s' ? { ...t, expression: 'p50 < 1us' } : t)) }));
    await writeFile(join(dir, 'strict-1.json'), JSON.stringify(strict[0]));
    await writeFile(join(dir, 'strict-2.json'), JSON.stringify(strict[1]));
    const failed = await runCli(['merge', 'strict-1.json', 'strict-2.json'], { cwd: dir });
    expect(failed.code).toBe(ExitCode.thresholdsFailed);
    expect(failed.stdout).toMatch(/FAILED: 1 of 4 thresholds/);
    await writeFile(join(dir, 'stopped-2.json'), JSON.stringify({ ...shards[1], aborted: true }));
    expect((await runCli(['merge', 'shard-1.json', 'stopped-2.json'], { cwd: dir })).code).toBe(ExitCode.aborted);
    // A result of the wrong shape, or with a threshold that does not parse: one line naming the file and the field, nothing printed before it.
    const { generator: _g, ...noGenerator } = shards[1]!;
    await writeFile(join(dir, 'nogen-2.json'), JSON.stringify(noGenerator));
    await writeFile(join(dir, 'bogus-2.json'), JSON.stringify({ ...shards[1], thresholds: shards[1]!.thresholds.map((t, i) => (i === 0 ? { ...t, expression: 'bogus' } : t)) }));
    for (const [file, field] of [['nogen-2.json', 'generator: missing (expected a mapping)'], ['bogus-2.json', 'thresholds[0].expression: expected "<metric> <op> <value>"']] as const) {
      const r = await runCli(['merge', 'shard-1.json', file], { cwd: dir });
      expect([r.code, r.stdout], file).toEqual([ExitCode.invalidInput, '']);
      expect(r.stderr).toMatch(new RegExp(`^scalectl: ${file}: ${field.replace(/[()[\]]/g, '\\$&')}[^\n]*\n$`));
    }
    const nothing = await runCli(['merge', 's.yaml'], { cwd: dir });
    expect([nothing.code, nothing.stderr]).toEqual([ExitCode.invalidInput, expect.stringMatching(/^scalectl: s.yaml: no result in it/)]);
  });
});

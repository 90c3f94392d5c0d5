import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import type { RunResult } from '../src/analyzers/run-result.js';
import { ExitCode } from '../src/exit-codes.js';
import { renderSummaryMarkdown } from '../src/reporters/markdown.js';
import { runCli, tempFiles } from './helpers/cli.js';
import { useTestServer } from './helpers/test-server.js';

const server = useTestServer();

const asArray = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

describe('--junit and --summary-md', () => {
  it('one JUnit test case per threshold, failures with actual vs limit, and a Markdown summary', async () => {
    const dir = await tempFiles({
      's.yaml': `
name: ci <gate> & "quotes"
target: ${server.url}
phases: [{ duration: 1s, arrivalRate: 20 }]
flows:
  - name: mixed
    steps:
      - { name: slow, get: /delay/20 }
      - { name: missing, get: /status/404 }
thresholds:
  - p90 < 1s
  - p90 < 1ms
  - error_rate < 1%
  - missing: error_rate <= 100%
`,
    });
    const r = await runCli(['run', 's.yaml', '--no-progress', '--junit', 'out/../junit.xml', '--summary-md', 'summary.md'], { cwd: dir });
    expect(r.code).toBe(ExitCode.thresholdsFailed);
    const xml = await readFile(join(dir, 'junit.xml'), 'utf8');
    expect(XMLValidator.validate(xml)).toBe(true);
    const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(xml) as {
      testsuites: { tests: string; failures: string; errors: string; testsuite: { name: string; tests: string; failures: string; timestamp: string; testcase: { name: string; classname: string; failure?: { message: string; type: string } }[] } };
    };
    // The shape JUnit consumers require: counts that add up, a name and classname on every case.
    const suites = asArray(doc.testsuites.testsuite);
    expect(suites).toHaveLength(1);
    const suite = suites[0]!;
    expect(suite.name).toBe('ci <gate> & "quotes"');
    expect(suite.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/);
    expect(doc.testsuites).toMatchObject({ tests: '4', failures: '2', errors: '0' });
    expect(suite).toMatchObject({ tests: '4', failures: '2' });
    const cases = asArray(suite.testcase);
    expect(cases.map((c) => c.name)).toEqual(['p90 < 1s', 'p90 < 1ms', 'error_rate < 1%', 'missing: error_rate <= 100%']);
    for (const c of cases) expect(c.classname).toBe('scalectl.thresholds');
    expect(cases[0]!.failure).toBeUndefined();
    expect(cases[1]!.failure!.message).toMatch(/^p90 < 1ms: actual \d+(\.\d+)?ms, limit < 1ms$/);
    expect(cases[2]!.failure!.message).toBe('error_rate < 1%: actual 50.00%, limit < 1.00%');
    expect(cases[3]!.failure).toBeUndefined();

    const md = await readFile(join(dir, 'summary.md'), 'utf8');
    expect(md).toContain('❌ **FAILED**: 2 of 4 thresholds');
    expect(md).toMatch(/\| `error_rate < 1%` \| 50\.00% \| \*\*FAIL\*\* \|/);
    expect(md).toMatch(/\| missing \| 20 \| [\d.]+ \| .* \| 100\.00% \|/);
  });

  it('an aborted run is one errored JUnit case, not a pass', async () => {
    const dir = await tempFiles({ 's.yaml': `name: long\ntarget: ${server.url}\nphases: [{ duration: 30s, arrivalRate: 5 }]\nflows: [{ name: f, steps: [{ get: /ok }] }]\nthresholds: [p99 < 10s]\n` });
    const controller = new AbortController();
    controller.abort();
    const r = await runCli(['run', 's.yaml', '--no-progress', '--junit', 'junit.xml'], { cwd: dir, signal: controller.signal });
    expect(r.code).toBe(ExitCode.aborted);
    const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(await readFile(join(dir, 'junit.xml'), 'utf8')) as {
      testsuites: { errors: string; testsuite: { testcase: { name: string; error?: { message: string } }[] } };
    };
    expect(doc.testsuites.errors).toBe('1');
    expect(asArray(doc.testsuites.testsuite.testcase).find((c) => c.name === 'run completed')!.error!.message).toMatch(/stopped by a signal/);
  });

  it('refuses an unwritable --junit or --summary-md before the run (exit 2)', async () => {
    const dir = await tempFiles({ 's.yaml': `name: x\ntarget: ${server.url}\nphases: [{ duration: 1s, arrivalRate: 1 }]\nflows: [{ name: f, steps: [{ get: /ok }] }]\n` });
    for (const flag of ['--junit', '--summary-md']) {
      const r = await runCli(['run', 's.yaml', flag, 'no/such/dir/x'], { cwd: dir });
      expect(r.code).toBe(ExitCode.usage);
      expect(r.stderr).toMatch(new RegExp(`${flag} \\S*no/such/dir/x: not writable`));
      expect((await server.stats()).count).toBe(0);
    }
  });
});

describe('Markdown summary', () => {
  it('matches the snapshot for a fixed result', async () => {
    const fixture = JSON.parse(await readFile(new URL('./fixtures/run-result.json', import.meta.url), 'utf8')) as RunResult;
    await expect(renderSummaryMarkdown(fixture)).toMatchFileSnapshot('./__snapshots__/summary.md');
  });
});

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Chalk } from 'chalk';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import type { RunResult } from '../src/analyzers/run-result.js';
import { ExitCode } from '../src/exit-codes.js';
import { renderRunHtml } from '../src/reporters/html.js';
import { renderJunit, runSuite } from '../src/reporters/junit.js';
import { renderSummaryMarkdown } from '../src/reporters/markdown.js';
import { renderSummary } from '../src/reporters/terminal.js';
import { runCli, tempFiles } from './helpers/cli.js';
import { useTestServer } from './helpers/test-server.js';

const server = useTestServer();

const asArray = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

describe('--junit and --summary-md', () => {
  it('one JUnit test case per threshold, failures with actual vs limit, and a Markdown summary', async () => {
    const dir = await tempFiles({
      's.yaml': `
name: "ci <gate> & \\"quotes\\" \\e"
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
    const r = await runCli(['run', 's.yaml', '--no-progress', '--junit', 'out/../junit.xml', '--summary-md', 'summary.md', '--out', 'r.json', '--html', 'r.html'], { cwd: dir });
    expect(r.code).toBe(ExitCode.thresholdsFailed);
    // Each second carries its errors by kind (the HTML report's errors chart); they add up to the totals.
    const result = JSON.parse(await readFile(join(dir, 'r.json'), 'utf8')) as RunResult;
    const fromSeconds = result.timeseries.reduce((n, p) => n + (p.errorsByKind?.http_4xx ?? 0), 0);
    expect(fromSeconds).toBe(result.totals.errorsByKind.http_4xx);
    expect(fromSeconds).toBe(20);
    // run --html writes the report from the same result.
    expect(await readFile(join(dir, 'r.html'), 'utf8')).toContain('<div class="verdict fail">FAILED: 2 of 5 thresholds</div>');
    // The generator's machine is on record, and in the report's details.
    expect(result.host).toMatchObject({ cores: expect.any(Number) as number, node: process.versions.node });
    expect(result.host!.cores).toBeGreaterThan(0);
    expect(await readFile(join(dir, 'r.html'), 'utf8')).toContain(`Node ${process.versions.node}, scalectl `);
    const xml = await readFile(join(dir, 'junit.xml'), 'utf8');
    expect(XMLValidator.validate(xml)).toBe(true);
    const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(xml) as {
      testsuites: { testsuite: Record<string, unknown> & { name: string; tests: string; failures: string; timestamp: string; testcase: { name: string; classname: string; failure?: { message: string; type: string } }[] } };
    };
    // The shape JUnit consumers require: counts that add up, a name and classname on every case.
    const suites = asArray(doc.testsuites.testsuite);
    expect(suites).toHaveLength(1);
    const suite = suites[0]!;
    // Markup characters escaped, a control character (ESC) written as text: XML 1.0 cannot carry it.
    expect(suite.name).toBe('ci <gate> & "quotes" \\x1b');
    expect(suite.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/);
    // What the common JUnit.xsd requires of a testsuite inside testsuites.
    for (const attr of ['name', 'tests', 'failures', 'errors', 'skipped', 'time', 'timestamp', 'hostname', 'id', 'package']) expect(suite, attr).toHaveProperty(attr);
    for (const el of ['properties', 'system-out', 'system-err']) expect(suite, el).toHaveProperty(el);
    // No attributes on testsuites: the Ant schema allows none (test/junit-xsd.test.ts validates against it).
    expect(Object.keys(doc.testsuites)).toEqual(['testsuite']);
    expect(suite).toMatchObject({ tests: '6', failures: '2', errors: '0', skipped: '0' });
    const cases = asArray(suite.testcase);
    // The default threshold on dropped arrivals comes last, marked (none were dropped here).
    expect(cases.map((c) => c.name)).toEqual(['run completed', 'p90 < 1s', 'p90 < 1ms', 'error_rate < 1%', 'missing: error_rate <= 100%', 'dropped_rate <= 1% (default)']);
    expect(cases.map((c) => c.classname)).toEqual(['scalectl.run', ...Array(5).fill('scalectl.thresholds')]);
    expect(cases[0]!.failure).toBeUndefined();
    expect(cases[1]!.failure).toBeUndefined();
    expect(cases[2]!.failure!.message).toMatch(/^p90 < 1ms: actual \d+(\.\d+)?ms, limit < 1ms$/);
    expect(cases[3]!.failure!.message).toBe('error_rate < 1%: actual 50.00%, limit < 1.00%');
    expect(cases[4]!.failure).toBeUndefined();
    expect(cases[5]!.failure).toBeUndefined();

    const md = await readFile(join(dir, 'summary.md'), 'utf8');
    expect(md).toContain('❌ **FAILED**: 2 of 5 thresholds');
    expect(md).toMatch(/\| ` error_rate < 1% ` \| 50\.00% \| \*\*FAIL\*\* \|/);
    expect(md).toContain('### scalectl: ci \\<gate\\> \\& "quotes"');
    expect(md).toMatch(/\| missing \| 20 \| [\d.]+ \| .* \| 100\.00% \|/);
  });

  it('an aborted run is an errored JUnit case with its thresholds skipped, not a pass', async () => {
    const dir = await tempFiles({ 's.yaml': `name: long\ntarget: ${server.url}\nphases: [{ duration: 30s, arrivalRate: 5 }]\nflows: [{ name: f, steps: [{ get: /ok }] }]\nthresholds: [p99 < 10s]\n` });
    const controller = new AbortController();
    controller.abort();
    const r = await runCli(['run', 's.yaml', '--no-progress', '--junit', 'junit.xml'], { cwd: dir, signal: controller.signal });
    expect(r.code).toBe(ExitCode.aborted);
    const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(await readFile(join(dir, 'junit.xml'), 'utf8')) as {
      testsuites: { testsuite: { errors: string; skipped: string; testcase: { name: string; error?: { message: string }; skipped?: { message: string } }[] } };
    };
    expect(doc.testsuites.testsuite).toMatchObject({ errors: '1', skipped: '2' });
    expect(asArray(doc.testsuites.testsuite.testcase).find((c) => c.name === 'p99 < 10s')!.skipped!.message).toMatch(/not judged/);
    expect(asArray(doc.testsuites.testsuite.testcase).find((c) => c.name === 'run completed')!.error!.message).toMatch(/stopped by a signal/);
  });

  it('refuses two outputs to one file', async () => {
    const dir = await tempFiles({ 's.yaml': `name: x\ntarget: ${server.url}\nphases: [{ duration: 1s, arrivalRate: 1 }]\nflows: [{ name: f, steps: [{ get: /ok }] }]\n` });
    const r = await runCli(['run', 's.yaml', '--out', 'r.json', '--junit', './r.json'], { cwd: dir });
    expect(r.code).toBe(ExitCode.usage);
    expect(r.stderr).toMatch(/--junit \.\/r\.json: the same file as --out/);
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

describe('a run that dropped most of its arrivals', () => {
  const yaml = (thresholds: string): string =>
    `name: drops\ntarget: ${server.url}\nmaxInFlight: 1\nphases: [{ duration: 1s, arrivalRate: 20 }]\nflows: [{ name: f, steps: [{ get: /delay/200 }] }]\nthresholds: [${thresholds}]\n`;

  it('fails by default (dropped_rate <= 1%), with the reason in the terminal, results.json, Markdown, JUnit and HTML', async () => {
    const dir = await tempFiles({ 's.yaml': yaml('"p99 < 10s"') });
    const r = await runCli(['run', 's.yaml', '--no-progress', '--out', 'r.json', '--junit', 'j.xml', '--summary-md', 's.md', '--html', 'r.html'], { cwd: dir });
    expect(r.code).toBe(ExitCode.thresholdsFailed);
    const result = JSON.parse(await readFile(join(dir, 'r.json'), 'utf8')) as RunResult;
    const it = result.totals.iterations;
    // 1 in flight, each 200 ms: about 5 of the 20 arrivals start.
    expect(it.arrivals).toBe(it.offered);
    expect(it.dropped / it.offered).toBeGreaterThan(0.5);
    expect(result.passed).toBe(false);
    expect(result.thresholds.map((t) => t.expression)).toEqual(['p99 < 10s', 'dropped_rate <= 1%']);
    expect(result.thresholds[0]!.ok).toBe(true);
    expect(result.thresholds[1]).toEqual({ metric: 'dropped_rate', expression: 'dropped_rate <= 1%', actual: it.dropped / it.offered, limit: 0.01, ok: false, default: true });
    const shown = `${(100 * it.dropped / it.offered).toFixed(2)}%`;
    expect(r.stdout).toMatch(new RegExp(`│ dropped_rate <= 1% \\(default\\) +│ ${shown} +│ FAIL +│`));
    expect(r.stdout.trim().split('\n').pop()).toBe('FAILED: 1 of 2 thresholds');
    const md = await readFile(join(dir, 's.md'), 'utf8');
    expect(md).toContain(`| \` dropped_rate <= 1% (default) \` | ${shown} | **FAIL** |`);
    expect(md).toContain(`- dropped\\_rate \\<= 1% (default): actual ${shown}, limit \\<= 1.00%`);
    const junit = await readFile(join(dir, 'j.xml'), 'utf8');
    expect(junit).toContain(`<testcase classname="scalectl.thresholds" name="dropped_rate &lt;= 1% (default)" time="0">`);
    expect(junit).toContain(`<failure message="dropped_rate &lt;= 1% (default): actual ${shown}, limit &lt;= 1.00%"`);
    const html = await readFile(join(dir, 'r.html'), 'utf8');
    expect(html).toContain('<div class="verdict fail">FAILED: 1 of 2 thresholds</div>');
    expect(html).toMatch(new RegExp(`<code>dropped_rate &lt;= 1% \\(default\\)</code></td><td class="num">${shown}</td><td class="num">&lt;= 1.00%</td><td class="num"><span class="fail">FAIL</span>`));
  });

  it('divides by the arrivals only: many vus iterations before an arrivalRate phase do not water the default down', async () => {
    const dir = await tempFiles({
      's.yaml': `name: dilute\ntarget: ${server.url}\nmaxInFlight: 1\n` +
        'phases: [{ duration: 1s, vus: 200 }, { duration: 1s, arrivalRate: 20 }]\nflows: [{ name: f, steps: [{ get: /delay/50 }] }]\n',
    });
    const r = await runCli(['run', 's.yaml', '--no-progress', '--out', 'r.json'], { cwd: dir });
    expect(r.stdout).toMatch(/dropped_rate <= 1% \(default\) +│ [\d.]+% +│ FAIL/);
    expect(r.code).toBe(ExitCode.thresholdsFailed);
    const result = JSON.parse(await readFile(join(dir, 'r.json'), 'utf8')) as RunResult;
    const it = result.totals.iterations;
    // Thousands of closed-model iterations, 20 arrivals; the first arrival finds the last vus iterations in flight.
    expect(it.arrivals).toBe(20);
    expect(it.offered).toBeGreaterThan(500);
    expect(it.dropped).toBeGreaterThan(0);
    expect(result.flows[0]!.arrivals).toBe(20);
    expect(result.thresholds).toEqual([{ metric: 'dropped_rate', expression: 'dropped_rate <= 1%', actual: it.dropped / 20, limit: 0.01, ok: false, default: true }]);
  });

  it('a dropped_rate threshold of the scenario\'s own replaces the default', async () => {
    const dir = await tempFiles({ 's.yaml': yaml('"dropped_rate <= 100%"') });
    const r = await runCli(['run', 's.yaml', '--no-progress', '--out', 'r.json'], { cwd: dir });
    expect(r.code).toBe(ExitCode.ok);
    const result = JSON.parse(await readFile(join(dir, 'r.json'), 'utf8')) as RunResult;
    expect(result.totals.droppedIterations).toBeGreaterThan(0);
    expect(result.thresholds.map((t) => [t.expression, t.ok, t.default])).toEqual([['dropped_rate <= 100%', true, undefined]]);
  });
});

describe('Markdown summary', () => {
  it('matches the snapshot for a fixed result', async () => {
    const fixture = JSON.parse(await readFile(new URL('./fixtures/run-result.json', import.meta.url), 'utf8')) as RunResult;
    await expect(renderSummaryMarkdown(fixture)).toMatchFileSnapshot('./__snapshots__/summary.md');
  });
});

describe('an aborted run', () => {
  it('reads "not judged" in every output: terminal, Markdown, JUnit and HTML, never pass or FAIL', async () => {
    const fixture = JSON.parse(await readFile(new URL('./fixtures/run-result.json', import.meta.url), 'utf8')) as RunResult;
    // One threshold that held and one that did not: neither is judged once the run was stopped.
    const r: RunResult = { ...fixture, aborted: true, passed: false };
    expect(r.thresholds.map((t) => t.ok)).toEqual([true, false]);
    const verdict = 'ABORTED: stopped before its end; its thresholds were not judged';

    const terminal = renderSummary(r, new Chalk({ level: 0 }));
    const rows = terminal.split('\n').filter((l) => r.thresholds.some((t) => l.includes(t.expression)));
    expect(rows).toHaveLength(2);
    for (const row of rows) expect(row).toMatch(/│ not judged │$/);
    expect(terminal.trim().split('\n').pop()).toBe(verdict);

    const md = renderSummaryMarkdown(r);
    expect(md).toContain(`⚠️ **ABORTED**: stopped before its end; its thresholds were not judged`);
    expect(md.split('\n').filter((l) => l.startsWith('| `'))).toEqual(r.thresholds.map((t) => expect.stringMatching(new RegExp(`^\\| \` ${t.expression.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \` \\| .* \\| not judged \\|$`)) as unknown as string));

    const junit = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(renderJunit([runSuite(r)])) as {
      testsuites: { testsuite: { testcase: { name: string; error?: { message: string }; skipped?: { message: string }; failure?: unknown }[] } };
    };
    const [run, ...thresholds] = junit.testsuites.testsuite.testcase;
    expect(run!.error!.message).toBe('the run was stopped before its end (stopped by a signal): its thresholds were not judged');
    expect(thresholds.map((c) => [c.skipped?.message, c.failure])).toEqual(r.thresholds.map(() => ['not judged: the run was stopped before its end', undefined]));

    const html = renderRunHtml(r);
    expect(html).toContain(`<div class="verdict warn">${verdict}</div>`);
    const section = html.slice(html.indexOf('<section id="thresholds">'), html.indexOf('</section>', html.indexOf('<section id="thresholds">')));
    expect(section.match(/<span class="\w+">[^<]*<\/span>/g)).toEqual(r.thresholds.map(() => '<span class="warn">not judged</span>'));
  });
});

import { execFileSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateXML } from 'xmllint-wasm';
import type { RunResult } from '../src/analyzers/run-result.js';
import { compareResults } from '../src/analyzers/compare.js';
import { renderComparison } from '../src/reporters/compare-terminal.js';
import { renderCapacitySummary } from '../src/reporters/capacity-terminal.js';
import type { CapacityResult } from '../src/capacity/capacity-result.js';
import { renderJunit, runSuite } from '../src/reporters/junit.js';
import { renderSummaryMarkdown } from '../src/reporters/markdown.js';
import { renderSummary } from '../src/reporters/terminal.js';
import { colorsFor } from '../src/reporters/colors.js';
import { runCli, tempFiles } from './helpers/cli.js';
import { useTestServer } from './helpers/test-server.js';

const server = useTestServer();

/** What must never reach a terminal or a text report raw: C0 (but line feed), DEL, C1, bidi controls. */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const RAW = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]/;
const NASTY = '\x1b[2J\x07\u202e';
const SHOWN = '\\x1b[2J\\x07\\u202e';

const schema = async (name: string): Promise<string> => readFile(new URL(`./fixtures/junit-xsd/${name}`, import.meta.url), 'utf8');
async function xsdProblems(xml: string): Promise<string[]> {
  const out: string[] = [];
  for (const xsd of ['junit-10.xsd', 'JUnit.xsd']) {
    const r = await validateXML({ xml: [{ fileName: 'junit.xml', contents: xml }], schema: [await schema(xsd)] });
    out.push(...r.errors.map((e) => `${xsd}: ${e.rawMessage}`));
  }
  return out;
}

describe('user-provided names with terminal escapes are printed escaped', () => {
  it('run and compare: scenario, flow, endpoint and threshold names in stdout, stderr, Markdown and JUnit', async () => {
    // YAML double quotes turn \x1b, \a and \u202e into the raw characters.
    const dir = await tempFiles({
      's.yaml': `
name: "shop\\x1b[2J\\a\\u202e"
target: ${server.url}
phases: [{ duration: 300ms, arrivalRate: 10, name: "warm\\x1b[2J" }]
flows:
  - name: "buy\\x1b[2J\\a\\u202e"
    steps:
      - { name: "items\\x1b[2J\\a\\u202e", get: /items/1 }
thresholds:
  - "items\\x1b[2J\\a\\u202e: p99 < 10s"
  - "buy\\x1b[2J\\a\\u202e: error_rate < 1%"
`,
    });
    const r = await runCli(['run', 's.yaml', '--no-progress', '--out', 'r.json', '--junit', 'j.xml', '--summary-md', 's.md'], { cwd: dir });
    expect(r.stderr).not.toMatch(RAW);
    expect(r.stdout).not.toMatch(RAW);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`running shop${SHOWN} against`);
    expect(r.stdout).toContain(`shop${SHOWN}`);
    expect(r.stdout).toContain(`buy${SHOWN}`);
    expect(r.stdout).toContain(`items${SHOWN}: p99 < 10s`);
    const md = await readFile(join(dir, 's.md'), 'utf8');
    expect(md).not.toMatch(RAW);
    // Markdown escapes the backslash of the escape too, so it shows as typed.
    expect(md).toContain('items\\\\x1b\\[2J');
    const xml = await readFile(join(dir, 'j.xml'), 'utf8');
    expect(xml).not.toMatch(RAW);
    expect(xml).toContain(`name="shop${SHOWN}"`);
    expect(await xsdProblems(xml)).toEqual([]);

    // The saved result still holds the names as given; compare prints them escaped.
    const saved = JSON.parse(await readFile(join(dir, 'r.json'), 'utf8')) as RunResult;
    expect(saved.scenario.name).toBe(`shop${NASTY}`);
    const other = { ...saved, scenario: { ...saved.scenario, name: `other${NASTY}` } };
    await writeFile(join(dir, 'o.json'), JSON.stringify(other));
    const c = await runCli(['compare', 'r.json', 'o.json', '--max-regression', "p99=1000%", '--junit', 'c.xml'], { cwd: dir });
    expect(c.stderr).not.toMatch(RAW);
    expect(c.stdout).not.toMatch(RAW);
    expect(c.stderr).toContain(`different scenarios (shop${SHOWN} and other${SHOWN})`);
    expect(c.stdout).toContain(`items${SHOWN}`);
    const cxml = await readFile(join(dir, 'c.xml'), 'utf8');
    expect(cxml).not.toMatch(RAW);
    expect(await xsdProblems(cxml)).toEqual([]);
  });

  it('the reporters escape error samples, warnings, the target and every name of a result', async () => {
    const base = JSON.parse(await readFile(new URL('./fixtures/run-result.json', import.meta.url), 'utf8')) as RunResult;
    const r: RunResult = {
      ...base,
      scenario: { name: `gate${NASTY}`, file: `load/${NASTY}.yaml` },
      target: `http://127.0.0.1:8080/${NASTY}`,
      endpoints: base.endpoints.map((e) => ({ ...e, name: `${e.name}${NASTY}` })),
      flows: base.flows.map((f) => ({ ...f, name: `${f.name}${NASTY}` })),
      thresholds: base.thresholds.map((t) => ({ ...t, expression: `${t.expression}${NASTY}` })),
      generator: { ...base.generator, warnings: [`late${NASTY}`], httpClient: { lean: 1, undici: 2, undiciReasons: [`odd${NASTY}`] } },
      errorSamples: { http_4xx: `status 404 ${NASTY}\r\nSet-Cookie: x` },
    };
    const terminal = renderSummary(r, colorsFor({ isTTY: false }, {}));
    expect(terminal).not.toMatch(RAW);
    expect(terminal).toContain(`errors seen: http_4xx: status 404 ${SHOWN}\\r\\nSet-Cookie: x`);
    expect(terminal).toContain(`warning: late${SHOWN}`);
    expect(terminal).toContain(`http client: lean 1 · undici 2 (odd${SHOWN})`);
    expect(terminal).toContain(`→ http://127.0.0.1:8080/${SHOWN}`);
    expect(renderSummaryMarkdown(r)).not.toMatch(RAW);
    const xml = renderJunit([runSuite(r)]);
    expect(xml).not.toMatch(RAW);
    expect(xml).toContain(`value="load/${SHOWN}.yaml"`);
    expect(await xsdProblems(xml)).toEqual([]);
    const cmp = renderComparison(compareResults(r, r, []), { baseline: `a${NASTY}.json`, current: 'b.json' }, colorsFor({ isTTY: false }, {}));
    expect(cmp).not.toMatch(RAW);
    expect(cmp).toContain(`baseline a${SHOWN}.json`);

    const cap = JSON.parse(await readFile(new URL('./fixtures/capacity-result.json', import.meta.url), 'utf8')) as CapacityResult;
    const capText = renderCapacitySummary({
      ...cap, scenario: { ...cap.scenario, name: `sale${NASTY}` }, warnings: [`shared${NASTY}`],
      settings: { ...cap.settings, listName: `bull:${NASTY}:wait` },
    }, colorsFor({ isTTY: false }, {}));
    expect(capText).not.toMatch(RAW);
    expect(capText).toContain(`sale${SHOWN}: capacity`);
    expect(capText).toContain(`- shared${SHOWN}`);
  });

  it('error messages quoting a file name or a flag as given', async () => {
    const dir = await tempFiles({});
    const r = await runCli(['compare', `a${NASTY}.json`, 'b.json'], { cwd: dir });
    expect([r.code, r.stderr]).toEqual([3, `scalectl: a${SHOWN}.json: cannot read: no such file\n`]);
  });
});

describe('result and CSV inputs are read as bounded regular files', () => {
  it('a FIFO given to report, compare or plan usl --input is refused at once with exit 3', async () => {
    const dir = await tempFiles({});
    execFileSync('mkfifo', [join(dir, 'pipe')]);
    const base = new URL('./fixtures/run-result.json', import.meta.url).pathname;
    const runs = [
      ['report', 'pipe', '--html', 'x.html'],
      ['compare', base, 'pipe'],
      ['plan', 'usl', '--input', 'pipe'],
    ];
    for (const argv of runs) {
      const r = await runCli(argv, { cwd: dir });
      expect({ argv, code: r.code, stderr: r.stderr }).toEqual({ argv, code: 3, stderr: 'scalectl: pipe: cannot read: is a pipe (FIFO), not a regular file\n' });
    }
    const dev = await runCli(['report', '/dev/zero', '--html', 'x.html'], { cwd: dir });
    expect([dev.code, dev.stderr]).toEqual([3, 'scalectl: /dev/zero: cannot read: is a device, not a regular file\n']);
  }, 5000);
});

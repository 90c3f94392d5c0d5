import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { validateXML } from 'xmllint-wasm';
import type { RunResult } from '../src/analyzers/run-result.js';
import { renderJunit, runSuite, type JunitSuite } from '../src/reporters/junit.js';

/** The schemas CI servers hold JUnit reports to (test/fixtures/junit-xsd/README.md says where they come from). */
const SCHEMAS = ['junit-10.xsd', 'JUnit.xsd'] as const;
const schema = async (name: string): Promise<string> => readFile(new URL(`./fixtures/junit-xsd/${name}`, import.meta.url), 'utf8');
const fixture = async (): Promise<RunResult> => JSON.parse(await readFile(new URL('./fixtures/run-result.json', import.meta.url), 'utf8')) as RunResult;

async function problems(xml: string, xsd: string): Promise<string[]> {
  const r = await validateXML({ xml: [{ fileName: 'junit.xml', contents: xml }], schema: [await schema(xsd)] });
  return r.errors.map((e) => e.rawMessage);
}

describe('JUnit XML validates against Jenkins junit-10.xsd and the Ant JUnit.xsd', () => {
  const runs: Record<string, (r: RunResult) => RunResult> = {
    passing: (r) => ({ ...r, passed: true, thresholds: r.thresholds.map((t) => ({ ...t, ok: true })) }),
    failing: (r) => r,
    aborted: (r) => ({ ...r, aborted: true, passed: false }),
    // Thresholds passed, one check failed: its case fails, the other passes.
    checked: (r) => ({ ...r, passed: true, thresholds: r.thresholds.map((t) => ({ ...t, ok: true })), checks: [{ name: 'ok', passes: 3, fails: 0 }, { name: 'has <id>', passes: 1, fails: 2 }] }),
  };
  for (const [kind, make] of Object.entries(runs)) {
    it(`a ${kind} run`, async () => {
      const xml = renderJunit([runSuite(make(await fixture()))]);
      // The case that makes each kind what it is, so the schemas see failure, error and skipped elements.
      const children = [...xml.matchAll(/<(failure|error|skipped) /g)].map((m) => m[1]);
      expect(children).toEqual(kind === 'failing' || kind === 'checked' ? ['failure'] : kind === 'aborted' ? ['error', 'skipped', 'skipped'] : []);
      for (const xsd of SCHEMAS) expect(await problems(xml, xsd), xsd).toEqual([]);
    });
  }

  it('compare --junit: several suites, skipped cases and names with markup', async () => {
    const suite = (name: string): JunitSuite => ({
      name, timestamp: '2026-12-02T06:00:00', timeSec: 0, properties: { baseline: 'a <b>.json' },
      cases: [{ classname: 'run', name: 'runs compared' }, { classname: 'regression', name: 'p99=25% (total)', failure: 'p99 +40% > 25%' },
        { classname: 'regression', name: 'GET /x & "y"', skipped: 'not gated: too few requests' }],
    });
    const xml = renderJunit([suite('one'), suite('two: <regression>')]);
    for (const xsd of SCHEMAS) expect(await problems(xml, xsd), xsd).toEqual([]);
  });

  it('names with control characters, terminal escapes and bidi overrides: written as text, still valid XML', async () => {
    const nasty = '\x00\x1b[2J\x07\u009b\u202e\ud800';
    const xml = renderJunit([{
      name: `shop${nasty}`, timestamp: '2026-12-02T06:00:00', timeSec: 0, properties: { target: `http://127.0.0.1/${nasty}` },
      cases: [{ classname: 'thresholds', name: `buy${nasty}: p99 < 1s`, failure: `buy${nasty}: p99 < 1s: actual 2s, limit < 1s` }],
    }]);
    // eslint-disable-next-line no-control-regex -- finding control characters is the point
    expect(xml).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f-\x9f\u202e]/);
    expect(xml).toContain('name="buy\\x00\\x1b[2J\\x07\\x9b\\u202e\ufffd: p99 &lt; 1s"');
    for (const xsd of SCHEMAS) expect(await problems(xml, xsd), xsd).toEqual([]);
  });
});

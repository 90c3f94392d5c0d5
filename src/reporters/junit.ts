import { hostname } from 'node:os';
import { XMLBuilder } from 'fast-xml-parser';
import type { CheckResult, RunResult } from '../analyzers/run-result.js';
import { thresholdLabel } from '../analyzers/thresholds.js';
import { NOT_JUDGED, SHARD_NOT_JUDGED, STOPPED, thresholdFailure } from './run-verdict.js';
import { printable } from '../shared/printable.js';
import { passRate } from './pass-rate.js';

/** One JUnit test case: a threshold, a check on responses, a regression check, or the run itself. */
export interface JunitCase {
  /** Groups cases in CI views: `thresholds`, `checks`, `regression`, `run`. */
  classname: string;
  name: string;
  /** The failure message (actual vs limit); undefined when it passed. */
  failure?: string;
  /** Why it was not judged. */
  skipped?: string;
  /** Why it could not run (a run stopped by a signal). */
  error?: string;
}

export interface JunitSuite {
  name: string;
  timestamp: string;
  timeSec: number;
  properties: Record<string, string>;
  cases: JunitCase[];
}

/**
 * A check on responses as a JUnit case: failed when it failed at least once,
 * as an assertion in a test suite fails (the run's exit code is still decided
 * by thresholds only: `checks > 99%` makes failed checks fail the run). Judged
 * on a stopped run too: what failed, failed.
 */
function checkCase(c: CheckResult): JunitCase {
  const n = c.passes + c.fails;
  return { classname: 'checks', name: c.name, failure: c.fails ? `failed ${c.fails} of ${n} times (${passRate(c.passes, c.fails, 2)} passed)` : undefined };
}

/**
 * The thresholds of a run as JUnit cases (`--junit`), plus a `run completed`
 * case: it passes, or errors when a signal stopped the run, and then the
 * thresholds are skipped (partial numbers are not judged; a shard's are
 * judged by `scalectl merge`); then one case per
 * check on responses (checkCase). The suite is never empty, so CI reporters
 * that fail on empty reports do not.
 */
export function runSuite(r: RunResult): JunitSuite {
  return {
    name: r.scenario.name,
    timestamp: r.startedAt.replace(/\.\d+Z$/, ''),
    timeSec: r.durationSec,
    properties: { target: r.target, file: r.scenario.file, requests: String(r.totals.requests), 'error.rate': String(r.totals.errorRate) },
    cases: [
      { classname: 'run', name: 'run completed', error: r.aborted ? `${STOPPED} (stopped by a signal): its thresholds were ${NOT_JUDGED}` : undefined },
      ...r.thresholds.map((t) => (r.aborted || r.shard
        ? { classname: 'thresholds', name: thresholdLabel(t), skipped: `${NOT_JUDGED}: ${r.aborted ? STOPPED : SHARD_NOT_JUDGED}` }
        : { classname: 'thresholds', name: thresholdLabel(t), failure: t.ok ? undefined : thresholdFailure(t) })),
      ...(r.checks ?? []).map(checkCase),
    ],
  };
}

/**
 * Text for an XML attribute or element. XML 1.0 cannot carry most control characters, escaped or not, and
 * a CI log may print a name raw: control characters, C1 codes and bidi overrides are written as text
 * (`\x1b`, `\u202e`, as in the terminal), and what is still no XML (lone surrogates, U+FFFE/U+FFFF) becomes U+FFFD.
 */
function xmlSafe(s: string): string {
  return printable(s).replace(/[\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
}

const countOf = (s: JunitSuite, k: 'failure' | 'error' | 'skipped'): number => s.cases.filter((c) => c[k] !== undefined).length;

function testcase(c: JunitCase): Record<string, unknown> {
  const detail = (type: string, text: string): Record<string, string> => ({ '@_message': xmlSafe(text), '@_type': type, '#text': xmlSafe(text) });
  return {
    '@_classname': `scalectl.${c.classname}`,
    '@_name': xmlSafe(c.name),
    '@_time': '0',
    ...(c.failure !== undefined ? { failure: detail(c.classname, c.failure) } : {}),
    ...(c.error !== undefined ? { error: detail('aborted', c.error) } : {}),
    ...(c.skipped !== undefined ? { skipped: { '@_message': xmlSafe(c.skipped) } } : {}),
  };
}

/**
 * JUnit XML in the shape CI systems read (Jenkins, GitLab, GitHub test
 * reporters), valid against both Jenkins' junit-10.xsd and Ant's JUnit.xsd
 * (test/junit-xsd.test.ts): testsuites > testsuite (name, tests, failures,
 * errors, skipped, time, timestamp, hostname, id, package; properties,
 * testcases, system-out, system-err in that order) > testcase (classname,
 * name, time) with a `failure`, `error` or `skipped` child when it did not pass.
 */
export function renderJunit(suites: readonly JunitSuite[]): string {
  const host = xmlSafe(hostname() || 'localhost');
  const doc = {
    '?xml': { '@_version': '1.0', '@_encoding': 'UTF-8' },
    // No attributes: the Ant schema allows none on testsuites, and Jenkins' junit-10.xsd no `skipped`.
    // Consumers count from the suites.
    testsuites: {
      testsuite: suites.map((s, i) => ({
        '@_name': xmlSafe(s.name),
        '@_package': 'scalectl',
        '@_id': i,
        '@_hostname': host,
        '@_tests': s.cases.length,
        '@_failures': countOf(s, 'failure'),
        '@_errors': countOf(s, 'error'),
        '@_skipped': countOf(s, 'skipped'),
        '@_time': s.timeSec.toFixed(3),
        '@_timestamp': s.timestamp,
        properties: { property: Object.entries(s.properties).map(([name, value]) => ({ '@_name': xmlSafe(name), '@_value': xmlSafe(value) })) },
        testcase: s.cases.map(testcase),
        'system-out': '',
        'system-err': '',
      })),
    },
  };
  return new XMLBuilder({ ignoreAttributes: false, format: true }).build(doc) as string;
}

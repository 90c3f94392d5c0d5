import { hostname } from 'node:os';
import { XMLBuilder } from 'fast-xml-parser';
import type { RunResult } from '../analyzers/run-result.js';
import { formatActual, type ThresholdResult } from '../analyzers/thresholds.js';
import { formatMetricValue, parseThreshold } from '../scenarios/threshold-expression.js';

/** One JUnit test case: a threshold, a regression check, or the run itself. */
export interface JunitCase {
  /** Groups cases in CI views: `thresholds`, `regression`, `run`. */
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

/** "p99 < 500ms: actual 612ms, limit < 500ms". */
export function thresholdFailure(t: ThresholdResult): string {
  const parsed = parseThreshold(t.expression);
  const op = typeof parsed === 'string' ? '' : `${parsed.op} `;
  return `${t.expression}: actual ${formatActual(t)}, limit ${op}${formatMetricValue(t.metric, t.limit)}`;
}

/**
 * The thresholds of a run as JUnit cases (`--junit`), plus a `run completed`
 * case: it passes, or errors when a signal stopped the run, and then the
 * thresholds are skipped (partial numbers are not judged). The suite is never
 * empty, so CI reporters that fail on empty reports do not.
 */
export function runSuite(r: RunResult): JunitSuite {
  const stopped = 'the run was stopped by a signal before its end: its numbers were not judged';
  return {
    name: r.scenario.name,
    timestamp: r.startedAt.replace(/\.\d+Z$/, ''),
    timeSec: r.durationSec,
    properties: { target: r.target, file: r.scenario.file, requests: String(r.totals.requests), 'error.rate': String(r.totals.errorRate) },
    cases: [
      { classname: 'run', name: 'run completed', error: r.aborted ? stopped : undefined },
      ...r.thresholds.map((t) => (r.aborted
        ? { classname: 'thresholds', name: t.expression, skipped: 'not judged: the run was stopped before its end' }
        : { classname: 'thresholds', name: t.expression, failure: t.ok ? undefined : thresholdFailure(t) })),
    ],
  };
}

/** XML 1.0 cannot carry most control characters or lone surrogates, escaped or not: they become U+FFFD. */
function xmlSafe(s: string): string {
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  return s.replace(/[\x00-\x08\x0B\x0C\x0E-\x1F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
}

const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);
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
 * reporters, the common JUnit.xsd): testsuites > testsuite (name, tests,
 * failures, errors, skipped, time, timestamp, hostname, id, package,
 * properties, system-out, system-err) > testcase (classname, name, time) with
 * a `failure`, `error` or `skipped` child when it did not pass.
 */
export function renderJunit(suites: readonly JunitSuite[]): string {
  const host = xmlSafe(hostname() || 'localhost');
  const doc = {
    '?xml': { '@_version': '1.0', '@_encoding': 'UTF-8' },
    testsuites: {
      '@_name': 'scalectl',
      '@_tests': sum(suites.map((s) => s.cases.length)),
      '@_failures': sum(suites.map((s) => countOf(s, 'failure'))),
      '@_errors': sum(suites.map((s) => countOf(s, 'error'))),
      '@_skipped': sum(suites.map((s) => countOf(s, 'skipped'))),
      '@_time': sum(suites.map((s) => s.timeSec)).toFixed(3),
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

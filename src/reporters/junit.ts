import { XMLBuilder } from 'fast-xml-parser';
import type { RunResult } from '../analyzers/run-result.js';
import type { ThresholdResult } from '../analyzers/thresholds.js';
import { formatMetricValue, parseThreshold } from '../scenarios/threshold-expression.js';

/** One JUnit test case: a threshold, or a regression check of `scalectl compare`. */
export interface JunitCase {
  /** Groups cases in CI views: `thresholds`, `regression`. */
  classname: string;
  name: string;
  /** The failure message (actual vs limit); undefined when it passed. */
  failure?: string;
}

export interface JunitSuite {
  name: string;
  timestamp: string;
  timeSec: number;
  properties: Record<string, string>;
  cases: JunitCase[];
  /** A run that did not finish: one errored case says so. */
  error?: string;
}

/** "p99 < 500ms: actual 612ms, limit < 500ms". */
export function thresholdFailure(t: ThresholdResult): string {
  const parsed = parseThreshold(t.expression);
  const op = typeof parsed === 'string' ? '' : `${parsed.op} `;
  return `${t.expression}: actual ${formatMetricValue(t.metric, t.actual)}, limit ${op}${formatMetricValue(t.metric, t.limit)}`;
}

/** The thresholds of a run as JUnit cases (`--junit`). */
export function runSuite(r: RunResult): JunitSuite {
  return {
    name: r.scenario.name,
    timestamp: r.startedAt.replace(/\.\d+Z$/, ''),
    timeSec: r.durationSec,
    properties: { target: r.target, file: r.scenario.file, requests: String(r.totals.requests), 'error.rate': String(r.totals.errorRate) },
    cases: r.thresholds.map((t) => ({ classname: 'thresholds', name: t.expression, failure: t.ok ? undefined : thresholdFailure(t) })),
    error: r.aborted ? 'the run was stopped by a signal before its end: its numbers were not judged' : undefined,
  };
}

/**
 * JUnit XML in the shape CI systems read (Jenkins, GitLab, GitHub test
 * reporters): testsuites > testsuite > testcase, a `failure` element with a
 * message per failed case, and an `error` case for a run that did not finish.
 */
export function renderJunit(suites: readonly JunitSuite[]): string {
  const doc = {
    '?xml': { '@_version': '1.0', '@_encoding': 'UTF-8' },
    testsuites: {
      '@_name': 'scalectl',
      '@_tests': sum(suites.map(count)),
      '@_failures': sum(suites.map(failures)),
      '@_errors': sum(suites.map((s) => (s.error ? 1 : 0))),
      '@_time': sum(suites.map((s) => s.timeSec)).toFixed(3),
      testsuite: suites.map((s) => ({
        '@_name': s.name,
        '@_tests': count(s),
        '@_failures': failures(s),
        '@_errors': s.error ? 1 : 0,
        '@_skipped': 0,
        '@_time': s.timeSec.toFixed(3),
        '@_timestamp': s.timestamp,
        properties: { property: Object.entries(s.properties).map(([name, value]) => ({ '@_name': name, '@_value': value })) },
        testcase: [
          ...s.cases.map((c) => ({
            '@_classname': `scalectl.${c.classname}`,
            '@_name': c.name,
            '@_time': '0',
            ...(c.failure !== undefined ? { failure: { '@_message': c.failure, '@_type': c.classname, '#text': c.failure } } : {}),
          })),
          ...(s.error ? [{ '@_classname': 'scalectl.run', '@_name': 'run completed', '@_time': '0', error: { '@_message': s.error, '@_type': 'aborted', '#text': s.error } }] : []),
        ],
      })),
    },
  };
  return new XMLBuilder({ ignoreAttributes: false, format: true, suppressEmptyNode: true }).build(doc) as string;
}

const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);
const count = (s: JunitSuite): number => s.cases.length + (s.error ? 1 : 0);
const failures = (s: JunitSuite): number => s.cases.filter((c) => c.failure !== undefined).length;

import Table from 'cli-table3';
import type { ChalkInstance } from 'chalk';
import type { CheckResult, CheckTotals, RequestStats, RunResult } from '../analyzers/run-result.js';
import { formatActual, thresholdLabel } from '../analyzers/thresholds.js';
import { formatDuration } from '../shared/duration.js';
import type { TelemetrySummary } from '../analyzers/telemetry.js';
import { describeStack } from './describe-stack.js';
import { describeReplicas } from './describe-replicas.js';
import { databaseRows } from './describe-databases.js';
import { describeShards } from './describe-shards.js';
import { describeHttpClient } from './describe-http-client.js';
import { runVerdict, thresholdOutcome } from './run-verdict.js';
import { printable } from '../shared/printable.js';
import { passRate } from './pass-rate.js';
import { describeExemplars, exemplarAt, exemplarOutcome } from './describe-exemplars.js';
import { EXEMPLARS_PER_ENDPOINT } from '../engine/slowest-requests.js';

const pct = (v: number): string => `${(v * 100).toFixed(1)}%`;

/** What the target's metrics showed: one row per figure. */
function renderTelemetry(t: TelemetrySummary, c: ChalkInstance): string {
  const rows: [string, string][] = [];
  if (t.cacheHitRatio !== null) rows.push(['cache hit ratio', `${pct(t.cacheHitRatio)} of ${t.cacheLookups} lookups`]);
  else if (t.cacheLookups === 0) rows.push(['cache hit ratio', 'none: no cache lookups during the run']);
  if (t.queueDepth) rows.push(['queue depth', `max ${t.queueDepth.max}, mean ${t.queueDepth.mean}, at the end of the load ${t.queueDepth.final}`]);
  if (t.drain) {
    rows.push(['queue drain time', t.queueDrainTimeSec !== null ? `${t.queueDrainTimeSec.toFixed(1)} s after the load`
      : c.yellow(t.drain.interrupted ? 'interrupted' : `not empty after ${t.drain.timeoutSec} s`)]);
  }
  if (t.jobs) rows.push(['jobs completed', `${t.jobs.completed} (${t.jobs.perSec}/s)`]);
  if (t.cpu) {
    rows.push(['CPU, all workers', `mean ${t.cpu.totalPercent.mean}%, max ${t.cpu.totalPercent.max}% of one core`]);
    for (const [w, v] of Object.entries(t.cpu.workers)) rows.push([`CPU, worker ${w}`, `mean ${v.meanPercent}%, max ${v.maxPercent}%`]);
  }
  if (t.eventLoopLagMs) rows.push(['event-loop lag', `max ${fmtMs(t.eventLoopLagMs.max)}, mean ${fmtMs(t.eventLoopLagMs.mean)}`]);
  // Absent in results written before replicas were recorded (`report` reads old files).
  if (t.replicas) rows.push(['replicas', describeReplicas(t.replicas, printable)]);
  rows.push(...databaseRows(t, printable));
  for (const [name, s] of Object.entries(t.custom)) {
    rows.push([printable(name), s.type === 'counter' ? `+${s.increase} (${s.rate}/s)` : `min ${s.min}, mean ${s.mean}, max ${s.max}, final ${s.final}`]);
  }
  const tt = table(['target telemetry', `${t.scrapes.ok} scrapes${t.scrapes.failed ? `, ${t.scrapes.failed} failed` : ''}`]);
  for (const r of rows) tt.push(r);
  return tt.toString();
}

const LATENCY_COLUMNS = ['min', 'mean', 'p50', 'p90', 'p95', 'p99', 'p999', 'max'] as const;

function table(head: string[]): Table.Table {
  // cli-table3 colours its borders and heads by default; colour is ours to decide.
  return new Table({ head, style: { head: [], border: [], compact: true } });
}

function fmtMs(ms: number): string {
  return formatDuration(ms);
}

function kv(record: Record<string, number | undefined>): string {
  const entries = Object.entries(record).filter(([, v]) => v);
  return entries.length ? entries.map(([k, v]) => `${k}:${v}`).join(' ') : '-';
}

/** Longest endpoint or flow name shown before it is cut with an ellipsis (keeps tables in 120 columns). */
const NAME_WIDTH = 36;

/** A user-provided name for a table cell: escaped (a name cannot drive the terminal), then cut. */
function cut(name: string): string {
  name = printable(name);
  return name.length > NAME_WIDTH ? `${name.slice(0, NAME_WIDTH - 1)}…` : name;
}

function statsRow(name: string, s: RequestStats): string[] {
  return [name, String(s.requests), s.rps.toFixed(1), ...LATENCY_COLUMNS.map((k) => fmtMs(s.latencyMs[k])), kv(s.statusCodes), kv(s.errorsByKind)];
}

/** Checks on responses: passes, fails and pass rate of each, then all together. */
function renderChecks(checks: readonly CheckResult[], c: ChalkInstance): string {
  const t = table(['check', 'passes', 'fails', 'pass rate']);
  const row = (name: string, x: CheckTotals): string[] =>
    [name, String(x.passes), x.fails ? c.red(String(x.fails)) : '0', passRate(x.passes, x.fails, 1)];
  const all: CheckTotals = { passes: 0, fails: 0 };
  for (const x of checks) {
    t.push(row(cut(x.name), x));
    all.passes += x.passes;
    all.fails += x.fails;
  }
  t.push(row(c.bold('all checks'), all));
  return t.toString();
}

/**
 * Each endpoint's slowest request with its trace id: the one to look up in a
 * tracing backend first (the others kept are in the JSON and HTML reports).
 */
function renderSlowest(r: RunResult, c: ChalkInstance): string | undefined {
  const slowest = describeExemplars(r);
  if (!slowest.length) return undefined;
  const t = table(['slowest request', 'latency', 'outcome', 'at', 'trace id']);
  for (const [name, list] of slowest) {
    const e = list[0]!;
    t.push([cut(name), fmtMs(e.latencyMs), printable(exemplarOutcome(e)), exemplarAt(e), printable(e.traceId)]);
  }
  return t.toString() + '\n' + c.dim(`slowest request per endpoint by trace id; up to ${EXEMPLARS_PER_ENDPOINT} per endpoint in the JSON result (exemplars) and the HTML report`);
}

/** The end-of-run summary: per-endpoint and total tables, flows, thresholds, warnings, verdict. */
export function renderSummary(r: RunResult, c: ChalkInstance): string {
  const out: string[] = [];
  const drain = r.durationSec - r.loadDurationSec >= 0.5 ? `, ${r.durationSec.toFixed(1)} s with the drain` : '';
  out.push(c.bold(`\n${printable(r.scenario.name)}`) + ` → ${printable(r.target)}  (${r.loadDurationSec.toFixed(1)} s of load${drain}${r.aborted ? ', ' + c.yellow('aborted') : ''})`);
  if (r.stack) out.push(c.dim(`reference stack: ${describeStack(r.stack)}`));
  const shards = describeShards(r);
  if (shards) out.push(c.dim(printable(shards)));

  const t = table(['endpoint', 'reqs', 'rps', ...LATENCY_COLUMNS, 'status', 'errors']);
  for (const e of r.endpoints) t.push(statsRow(cut(e.name), e));
  t.push(statsRow(c.bold('total'), r.totals));
  out.push(t.toString());
  const slowest = renderSlowest(r, c);
  if (slowest) out.push(slowest);

  const f = table(['flow', 'offered', 'completed', 'failed', 'dropped', 'interrupted', 'p50', 'p95', 'p99']);
  for (const fl of r.flows) {
    f.push([cut(fl.name), fl.offered, fl.completed, fl.failed, fl.dropped, fl.interrupted, fmtMs(fl.durationMs.p50), fmtMs(fl.durationMs.p95), fmtMs(fl.durationMs.p99)].map(String));
  }
  out.push(f.toString());
  const thinking = r.flows.filter((fl) => fl.thinkMs);
  out.push(c.dim(`flow durations are whole iterations, including think time${thinking.length ? ` (${thinking.map((fl) => `${cut(fl.name)}: ${fmtMs(fl.thinkMs!)}`).join(', ')})` : ''}`));

  if (r.checks?.length) out.push(renderChecks(r.checks, c));

  const telemetry = 'source' in r.telemetry ? (r.telemetry as TelemetrySummary) : undefined;
  if (telemetry) out.push(renderTelemetry(telemetry, c));

  const samples = Object.entries(r.errorSamples);
  if (samples.length) out.push(c.dim('errors seen: ' + samples.map(([k, m]) => `${printable(k)}: ${printable(m)}`).join('; ')));

  if (r.thresholds.length) {
    const th = table(['threshold', 'actual', 'result']);
    const paint = { 'not judged': c.yellow, pass: c.green, FAIL: c.red };
    for (const x of r.thresholds) {
      const outcome = thresholdOutcome(r, x);
      th.push([printable(thresholdLabel(x)), formatActual(x), paint[outcome](outcome)]);
    }
    out.push(th.toString());
  }
  const g = r.generator;
  const openModel = r.phases.some((p) => p.kind === 'arrivalRate');
  out.push(c.dim(`generator: ${g.workers} worker${g.workers > 1 ? 's' : ''}, CPU ${g.cpuPercent.mean}% mean / ${g.cpuPercent.max}% max of one core, ` +
    `event-loop lag p99 ${g.eventLoopLagP99Ms} ms${openModel ? `, arrivals late by up to ${g.scheduleLagP99Ms} ms (p99)` : ''}`));
  // Absent in results written before it was recorded (`report` reads old files).
  if (g.httpClient) out.push(c.dim(`http client: ${printable(describeHttpClient(g.httpClient))}`));
  for (const w of g.warnings) out.push(c.yellow(`warning: ${printable(w)}`));
  for (const w of telemetry?.warnings ?? []) out.push(c.yellow(`warning: telemetry: ${printable(w)}`));

  const v = runVerdict(r);
  out.push({ warn: c.yellow, fail: c.red.bold, pass: c.green.bold }[v.cls](`${v.word}: ${v.detail}`));
  return out.join('\n') + '\n';
}

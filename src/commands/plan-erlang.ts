import {
  formatPercentile, MAX_OFFERED_LOAD, serversForLatency, serversForServiceLevel, type ErlangPlan,
} from '../analyzers/erlang.js';
import { ExitCode, usageError } from '../exit-codes.js';
import { formatDuration, parseDuration } from '../shared/duration.js';
import type { CommandIO } from './io.js';

/** The raw flags of `scalectl plan erlang`, as commander hands them over. */
export interface PlanErlangOptions {
  arrivalRate?: string;
  serviceTime?: string;
  targetWait?: string;
  serviceLevel?: string;
  latencySlo?: string;
  percentile?: string;
  json?: boolean;
}

/**
 * `scalectl plan erlang`: how many servers (workers, connections, agents) an
 * M/M/c queue needs for a target, by the Erlang C formula.
 *
 * - `--arrival-rate R`: arrivals per second, a plain number (`0.0556`, `250`).
 * - `--service-time S`, `--target-wait W`, `--latency-slo L`: a duration as
 *   parseDuration reads it (`180s`, `20ms`, `1.5s`, `2m`, `250us`), or a bare
 *   number of seconds (`180`).
 * - `--service-level P`: a fraction (`0.8`) or a percentage (`80%`), strictly
 *   between 0 and 1: no finite number of servers guarantees 100%.
 * - `--percentile Q`: `0.99`, `99%`, `p99` or `p99.9`. A bare number between
 *   1 and 100 (`99`, `80`) is refused as ambiguous, for both flags: write
 *   `99%`, `p99` or `0.99`.
 *
 * Exactly one mode: `--target-wait` with `--service-level` (at least P of
 * requests wait at most W before service starts), or `--latency-slo` with
 * `--percentile` (percentile Q of response time, wait plus service, is at
 * most L). Bad or missing flags throw a usage error (exit 2). A target no
 * number of servers can meet exits 4 with the reason on stderr (and, with
 * `--json`, `{"feasible": false, "reason": ...}` on stdout).
 */
export async function planErlangCommand(opts: PlanErlangOptions, io: CommandIO): Promise<number> {
  const request = parseRequest(opts);
  const plan = request.mode === 'serviceLevel' ? serversForServiceLevel(request.inputs) : serversForLatency(request.inputs);
  const inputs = request.inputs;
  if (!plan.ok) {
    const message = `no number of servers can meet ${describeTarget(request)}: ${plan.reason}`;
    io.stderr.write(`scalectl: ${message}\n`);
    if (opts.json) io.stdout.write(JSON.stringify({ feasible: false, reason: message, mode: request.mode, offeredLoad: plan.offeredLoad, inputs }, null, 2) + '\n');
    return ExitCode.thresholdsFailed;
  }
  if (opts.json) {
    const { ok: _ok, ...numbers } = plan;
    io.stdout.write(JSON.stringify({ feasible: true, mode: request.mode, ...numbers, inputs }, null, 2) + '\n');
  } else {
    io.stdout.write(renderSummary(request, plan));
  }
  return ExitCode.ok;
}

type PlanRequest =
  | { mode: 'serviceLevel'; inputs: { arrivalRate: number; serviceTimeSec: number; targetWaitSec: number; serviceLevel: number } }
  | { mode: 'latency'; inputs: { arrivalRate: number; serviceTimeSec: number; latencySloSec: number; percentile: number } };

function parseRequest(opts: PlanErlangOptions): PlanRequest {
  const waitMode = opts.targetWait !== undefined || opts.serviceLevel !== undefined;
  const latencyMode = opts.latencySlo !== undefined || opts.percentile !== undefined;
  if (waitMode && latencyMode) {
    throw usageError('give either --target-wait with --service-level, or --latency-slo with --percentile, not both');
  }
  if (!waitMode && !latencyMode) {
    throw usageError('give a target: --target-wait W --service-level P (e.g. 20s 80%), or --latency-slo L --percentile Q (e.g. 2s p99)');
  }
  const arrivalRate = parseRate(opts.arrivalRate);
  const serviceTimeSec = parseSeconds('--service-time', opts.serviceTime, '180s', false);
  if (arrivalRate * serviceTimeSec > MAX_OFFERED_LOAD) {
    throw usageError(`--arrival-rate × --service-time is ${arrivalRate * serviceTimeSec} Erlangs; at most ${MAX_OFFERED_LOAD} are supported`);
  }
  if (waitMode) {
    if (opts.targetWait === undefined) throw usageError('--service-level needs --target-wait (the longest acceptable wait, e.g. 20s)');
    if (opts.serviceLevel === undefined) throw usageError('--target-wait needs --service-level (the fraction that must meet it, e.g. 80%)');
    return {
      mode: 'serviceLevel',
      inputs: {
        arrivalRate, serviceTimeSec,
        targetWaitSec: parseSeconds('--target-wait', opts.targetWait, '20s', true),
        serviceLevel: parseFraction('--service-level', opts.serviceLevel, false),
      },
    };
  }
  if (opts.latencySlo === undefined) throw usageError('--percentile needs --latency-slo (the response-time objective, e.g. 2s)');
  if (opts.percentile === undefined) throw usageError('--latency-slo needs --percentile (e.g. p99, 99% or 0.99)');
  return {
    mode: 'latency',
    inputs: {
      arrivalRate, serviceTimeSec,
      latencySloSec: parseSeconds('--latency-slo', opts.latencySlo, '2s', false),
      percentile: parseFraction('--percentile', opts.percentile, true),
    },
  };
}

const NUMBER_RE = /^\s*(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?\s*$/i;

function parseRate(raw: string | undefined): number {
  if (raw === undefined) throw usageError('--arrival-rate is required (arrivals per second, e.g. 0.0556 or 250)');
  const n = NUMBER_RE.test(raw) ? Number(raw) : NaN;
  if (!(n > 0) || !Number.isFinite(n)) throw usageError(`--arrival-rate: expected arrivals per second, a number > 0 such as 0.0556 or 250, got "${raw}"`);
  return n;
}

function parseSeconds(flag: string, raw: string | undefined, example: string, zeroAllowed: boolean): number {
  if (raw === undefined) throw usageError(`${flag} is required (a duration such as ${example})`);
  const ms = parseDuration(raw);
  if (ms === undefined || (!zeroAllowed && ms <= 0)) {
    throw usageError(`${flag}: expected a duration${zeroAllowed ? '' : ' > 0'} such as ${example}, 20ms, 1.5s or 2m (a bare number is seconds), got "${raw}"`);
  }
  return ms / 1000;
}

const FRACTION_RE = /^\s*(?:(p)\s*(\d+(?:\.\d+)?)|(\d+(?:\.\d+)?)\s*(%)?|(\.\d+))\s*$/i;

/** `0.8`, `80%`, and for percentiles also `p99`, `p99.9`; a fraction strictly between 0 and 1. */
function parseFraction(flag: string, raw: string, percentile: boolean): number {
  const examples = percentile ? 'p99, 99% or 0.99' : '80% or 0.8';
  const m = FRACTION_RE.exec(raw);
  let value = NaN;
  if (m && m[1] !== undefined && percentile) value = Number(m[2]) / 100;
  else if (m && m[3] !== undefined) value = m[4] !== undefined ? Number(m[3]) / 100 : Number(m[3]);
  else if (m && m[5] !== undefined) value = Number(m[5]);
  if (m && m[3] !== undefined && m[4] === undefined && value > 1 && value < 100) {
    throw usageError(`${flag}: "${raw}" is ambiguous; write ${percentile ? `p${raw.trim()} or ` : ''}${raw.trim()}% (or ${Number(raw) / 100})`);
  }
  if (!(value > 0 && value < 1)) {
    throw usageError(`${flag}: expected a ${percentile ? 'percentile' : 'fraction'} strictly between 0 and 100% such as ${examples}, got "${raw}"`);
  }
  return value;
}

function describeTarget(request: PlanRequest): string {
  if (request.mode === 'latency') return `${formatPercentile(request.inputs.percentile)} <= ${seconds(request.inputs.latencySloSec)}`;
  return `${percent(request.inputs.serviceLevel)} within ${seconds(request.inputs.targetWaitSec)}`;
}

function renderSummary(request: PlanRequest, plan: Extract<ErlangPlan, { ok: true }>): string {
  const { arrivalRate, serviceTimeSec } = request.inputs;
  const achieved = request.mode === 'serviceLevel'
    ? `${percent(plan.serviceLevel)} wait at most ${seconds(request.inputs.targetWaitSec)} (target ${percent(request.inputs.serviceLevel)})`
    : `${percent(plan.serviceLevel)} respond within ${seconds(request.inputs.latencySloSec)} (target ${formatPercentile(request.inputs.percentile)} <= ${seconds(request.inputs.latencySloSec)})`;
  return [
    `M/M/c (Erlang C): Poisson arrivals at ${arrivalRate}/s, exponential service times averaging ${seconds(serviceTimeSec)}`,
    `servers needed:       ${plan.servers}`,
    `offered load:         ${round(plan.offeredLoad, 3)} Erlangs`,
    `utilization:          ${percent(plan.utilization)}`,
    `probability of wait:  ${percent(plan.probabilityOfWaiting)}`,
    `service level:        ${achieved}`,
    `mean wait:            ${seconds(plan.meanWaitSec)}`,
    '',
  ].join('\n');
}

/** Percentages with one decimal, more near 100% so 99.9% and 99.99% stay apart. */
function percent(fraction: number): string {
  if (fraction > 0 && fraction < 0.001) return '< 0.1%';
  const digits = fraction >= 0.999 ? 3 : fraction >= 0.99 ? 2 : 1;
  return `${round(fraction * 100, digits)}%`;
}

function round(n: number, digits: number): number {
  return Number(n.toFixed(digits));
}

function seconds(sec: number): string {
  return formatDuration(sec * 1000);
}

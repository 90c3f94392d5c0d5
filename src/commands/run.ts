import { availableParallelism } from 'node:os';
import { OutputFiles } from './output-files.js';
import { writeRunOutputs } from './run-outputs.js';
import { loadCommandScenario } from './command-scenario.js';
import { hostInfo } from './host-info.js';
import { buildRunResult } from '../analyzers/run-result.js';
import { defaultThresholdsFor } from '../analyzers/thresholds.js';
import { probeTarget } from '../engine/probe-target.js';
import { ExitCode, usageError, UserError } from '../exit-codes.js';
import { colorsFor } from '../reporters/colors.js';
import { renderJson } from '../reporters/json.js';
import { Progress, progressMode } from '../reporters/progress.js';
import { renderSummary } from '../reporters/terminal.js';
import { schedulePhases } from '../scenarios/schedule.js';
import { targetUrlProblem } from '../scenarios/target-url.js';
import { formatDuration } from '../shared/duration.js';
import { maskCredentials } from '../shared/mask-credentials.js';
import { startReferenceTarget, type ReferenceTarget } from '../stack/contract.js';
import { liveTelemetry } from '../analyzers/telemetry.js';
import { TelemetryCollector } from '../telemetry/telemetry-collector.js';
import { planTelemetry } from '../telemetry/telemetry-plan.js';
import { loadWithTelemetry } from '../telemetry/load-with-telemetry.js';
import type { CommandIO } from './io.js';
import { printable } from '../shared/printable.js';
import { startStreams, streamOutputFlags } from '../streams/run-streams.js';
import type { StreamSpec } from '../streams/stream-spec.js';
import { agreeOnStart, checkShardFlags, lateStartWarning, shardInfoOf, type ShardFlags } from './run-shard.js';
import { frameResult } from '../analyzers/result-frame.js';
import { encodeHistogram } from '../engine/latency-histogram.js';

export interface RunOptions extends ShardFlags {
  /** Write the RunResult JSON here; `-`: to standard output, framed (frameResult), after the summary. */
  out?: string;
  /** Engine threads. Default 1. */
  workers?: number;
  /** Overrides the scenario's maxInFlight. */
  maxInFlight?: number;
  /** Overrides the scenario's defaults.connections. */
  connections?: number;
  /** Overrides the scenario's target. */
  target?: string;
  /** Live progress (default on). */
  progress?: boolean;
  /** Write the thresholds as JUnit XML here. */
  junit?: string;
  /** Write a Markdown summary here (for a CI job summary page). */
  summaryMd?: string;
  /** Write the self-contained HTML report here. */
  html?: string;
  /** Skip verifying TLS certificates (overrides defaults.tls.insecure). */
  insecure?: boolean;
  /** Live destinations for each second (`--stream kind=destination`, docs/streaming.md). */
  stream?: StreamSpec[];
}

/** `scalectl run <scenario.yaml>`: runs the load, prints the summary, writes results, exits by thresholds. */
export async function runCommand(file: string, opts: RunOptions, io: CommandIO): Promise<number> {
  checkShardFlags(opts);
  const outToStdout = opts.out === '-';
  const outputs = await OutputFiles.check({ '--out': outToStdout ? undefined : opts.out, '--junit': opts.junit, '--summary-md': opts.summaryMd, '--html': opts.html, ...streamOutputFlags(opts.stream) }, io, [file]);
  const targetProblem = opts.target === undefined ? undefined : targetUrlProblem(opts.target);
  if (targetProblem) throw usageError(`--target ${maskCredentials(opts.target!)}: ${targetProblem}`);

  const scenario = await loadCommandScenario(file, io, outputs);
  if (!scenario) return ExitCode.invalidInput;
  const loaded = opts.insecure ? { ...scenario, tls: { ...scenario.tls, rejectUnauthorized: false } } : scenario;
  const err = colorsFor(io.stderr, io.env);
  let stack: ReferenceTarget | undefined;
  let streamFailed = false;
  let target = opts.target ?? loaded.scenario.target;
  const { shard } = opts;
  if (shard && target === 'reference') throw usageError('--shard needs a target every shard shares (--target URL): target: reference starts a stack in each process');
  try {
    if (target === 'reference') {
      io.stderr.write(err.dim('starting the reference stack (docs/reference-stack.md)...\n'));
      stack = await startReferenceTarget(loaded.scenario.stack, io.env).catch((e: unknown) => {
        throw new UserError(`the reference stack could not start: ${e instanceof Error ? e.message : String(e)}`, ExitCode.stackFailed);
      });
      target = stack.url;
      io.stderr.write(err.dim(`reference stack ready at ${target} (logs: ${stack.logFile})\n`));
    }
    const unreachable = await probeTarget(target, loaded.tls);
    if (unreachable) throw new UserError(`target ${maskCredentials(target)} unreachable: ${unreachable} (checked before the run; no load was sent)`, ExitCode.unreachable);
    const startAtEpochMs = await agreeOnStart(opts, loaded, io, (line) => io.stderr.write(err.dim(line) + '\n'));

    const phases = schedulePhases(loaded.scenario.phases);
    const totalMs = phases[phases.length - 1]!.endMs;
    const workers = opts.workers ?? 1;
    io.stderr.write(`running ${printable(loaded.scenario.name)} against ${printable(maskCredentials(target))}: ${phases.length} phase${phases.length > 1 ? 's' : ''}, ` +
      `${formatDuration(totalMs)}, ${workers} worker${workers > 1 ? 's' : ''}${shard ? `, shard ${shard.index + 1} of ${shard.count}` : ''}\n`);
    let progress: Progress | undefined = undefined;
    // A stream's line goes below the live block, which is then drawn afresh under it.
    const streams = await startStreams(opts.stream, loaded, outputs, (line) => {
      io.stderr.write(line + '\n');
      progress?.lineWritten();
    });
    // The reference stack's metrics, also when --target points the scenario at a stack started by hand.
    // Of a distributed run, only shard 1 watches the target: one collector, one telemetry.
    const plan = shard && shard.index > 0 ? undefined : planTelemetry(loaded.scenario.telemetry, target, loaded.scenario.target === 'reference', io.env);
    const collector = plan ? new TelemetryCollector(plan.source, { intervalMs: plan.intervalMs, timeoutMs: plan.timeoutMs }) : undefined;
    if (plan) io.stderr.write(err.dim(`watching the target's metrics at ${printable(plan.source.describe)} every ${formatDuration(plan.intervalMs)}\n`));
    collector?.start();
    progress = opts.progress === false ? undefined : new Progress({
      write: (t) => io.stderr.write(t), ...progressMode(io.stderr, io.env), colors: err, phases, signal: io.signal,
      telemetry: collector ? () => liveTelemetry(collector.recent()) : undefined,
    });
    // A shard keeps each second's latencies, for a merge to compute each second's percentiles exactly.
    const secondHistograms = shard ? new Map<number, string>() : undefined;
    const { data, telemetry } = await loadWithTelemetry(loaded, {
      target,
      workers,
      maxInFlight: opts.maxInFlight,
      connections: opts.connections,
      signal: io.signal,
      shard,
      startAtEpochMs,
      endpointWindows: streams !== undefined,
      onPoint: progress || streams || secondHistograms ? (p, live, hist, detail) => {
        secondHistograms?.set(p.t, encodeHistogram(hist));
        progress?.update(p, live);
        streams?.onPoint(p, live, hist, detail);
      } : undefined,
    }, plan && collector ? { plan, collector } : undefined, (line) => io.stderr.write(printable(line) + '\n')).finally(async () => {
      const closed = await streams?.close();
      for (const line of closed?.summaries ?? []) io.stderr.write(err.dim(line) + '\n');
      if (closed?.failed) streamFailed = true;
    });
    const late = lateStartWarning(data, startAtEpochMs);
    if (late) io.stderr.write(err.yellow(`warning: ${late}`) + '\n');
    const result = buildRunResult(loaded, data, {
      target, cores: availableParallelism(), telemetry, host: hostInfo(), defaultThresholds: defaultThresholdsFor(loaded.scenario), stack: stack?.settings,
      shard: shard && secondHistograms && { info: shardInfoOf(shard, loaded, data, startAtEpochMs), histograms: secondHistograms },
    });
    io.stdout.write(renderSummary(result, colorsFor(io.stdout, io.env)));
    if (outToStdout) io.stdout.write(frameResult(renderJson(result), result.shard));
    await writeRunOutputs(outputs, result);
    // A file that could not be written does not hide the verdict: it turns only a success into exit 8.
    // A shard's `passed` only says it ran to its end: its thresholds are judged by `scalectl merge`.
    const code = outputs.exitCode(result.aborted ? ExitCode.aborted : result.passed ? ExitCode.ok : ExitCode.thresholdsFailed);
    // A stream's file that could not be written counts as an output file that could not.
    return code === ExitCode.ok && streamFailed ? ExitCode.outputFailed : code;
  } finally {
    if (stack) {
      io.stderr.write(err.dim('stopping the reference stack...\n'));
      await stack.stop();
    }
  }
}

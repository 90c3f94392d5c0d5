import { mkdir, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import type { ReplicaCountResult } from '../analyzers/capacity-plan.js';
import { baseRateOf, buildCapacityResult, rampSecOf, type CapacityResult } from '../analyzers/capacity-result.js';
import { KneeSearch } from '../analyzers/knee-search.js';
import { judgeStep, type StepVerdict } from '../analyzers/step-verdict.js';
import { probeTarget } from '../engine/probe-target.js';
import { ExitCode, usageError, UserError } from '../exit-codes.js';
import { checkWritable } from './check-writable.js';
import { hostInfo } from './host-info.js';
import { colorsFor } from '../reporters/colors.js';
import { renderCapacitySummary } from '../reporters/capacity-terminal.js';
import { renderK8s } from '../reporters/k8s.js';
import { renderCapacityHtml } from '../reporters/html-capacity.js';
import { formatDuration } from '../scenarios/duration.js';
import { loadScenario, type LoadedScenario } from '../scenarios/load-scenario.js';
import { formatIssue } from '../scenarios/scenario-issue.js';
import { planTelemetry } from '../telemetry/telemetry-plan.js';
import { parseCapacityOptions, type CapacityFlags, type CapacitySettings } from './capacity-options.js';

export type { CapacityResult } from '../analyzers/capacity-result.js';
import type { CommandIO } from './io.js';
import { measureRate } from './measure-rate.js';
import { scaleExternal, scaleReference, type ScaledTarget } from './scale-target.js';

const round = (v: number, d = 2): number => Math.round(v * 10 ** d) / 10 ** d;

interface Context {
  io: CommandIO;
  loaded: LoadedScenario;
  s: CapacitySettings;
  reference: boolean;
  /** The target runs on this host (the reference stack, or a loopback URL). */
  local: boolean;
  cores: number;
  say: (line: string) => void;
}

/** Brings the target to `replicas`: the reference stack restarted with that many workers, or the --scale-cmd. */
async function scaleTo(ctx: Context, replicas: number, url: string): Promise<ScaledTarget> {
  if (ctx.reference) return scaleReference(ctx.loaded.scenario.stack, replicas, ctx.io.env);
  if (ctx.s.scaleCmd === undefined) return { url, stop: () => Promise.resolve() };
  return scaleExternal({
    url, command: ctx.s.scaleCmd, readyUrl: ctx.s.readyUrl!, readyTimeoutMs: ctx.s.readyTimeoutMs, replicas,
    env: ctx.io.env, cwd: ctx.io.cwd, signal: ctx.io.signal,
  });
}

function describeStep(v: StepVerdict): string {
  const lat = `p95 ${formatDuration(v.latencyMs.p95)}, p99 ${formatDuration(v.latencyMs.p99)}`;
  const drain = v.telemetry.drainTimeSec !== null && v.telemetry.drainTimeSec > 0 ? `, queue drained in ${round(v.telemetry.drainTimeSec, 1)} s` : '';
  return v.passed ? `pass (${v.rps} req/s, ${lat}${drain})` : `fail: ${v.reasons.join('; ')}${v.generatorSaturated ? ' [generator saturated]' : ''}`;
}

/** The knee search at one replica count, against a target already at that size. */
async function searchCount(ctx: Context, replicas: number, target: string, startRate: number): Promise<ReplicaCountResult> {
  const { s, io } = ctx;
  const warnings: string[] = [];
  if (ctx.local && replicas + s.workers > ctx.cores) {
    warnings.push(`${replicas} replicas + ${s.workers} generator thread(s) share this host's ${ctx.cores} cores: the knee says more about the host than the service`);
    ctx.say(`warning: ${warnings[warnings.length - 1]}`);
  }
  const plan = planTelemetry(ctx.loaded.scenario.telemetry, target, ctx.reference || ctx.loaded.scenario.target === 'reference');
  const search = new KneeSearch({ startRate, maxRate: s.maxRate, precision: s.precision });
  const steps: StepVerdict[] = [];
  let kneeStep: number | null = null;
  const saturatedAt = new Set<number>();
  for (let rate = search.next(); rate !== undefined && !io.signal.aborted; rate = search.next()) {
    const { low, high } = search.bracket;
    ctx.say(`  step ${steps.length + 1} (${search.phase}, bracket ${low === undefined ? '–' : round(low)} .. ${high === undefined ? '–' : round(high)} it/s): ` +
      `${round(rate)} it/s for ${formatDuration(s.warmupMs)} + ${formatDuration(s.steadyMs)}`);
    const result = await measureRate({
      loaded: ctx.loaded, target, slos: s.slos, scenarioThresholds: s.scenarioThresholds, warmupMs: s.warmupMs, steadyMs: s.steadyMs, workers: s.workers,
      plan, cores: ctx.cores, signal: io.signal, say: () => undefined,
    }, rate);
    if (!result || io.signal.aborted) break;
    const verdict = judgeStep(result, rate, replicas);
    steps.push(verdict);
    ctx.say(`    ${describeStep(verdict)}`);
    // A failure of the generator's own making bounds what it can measure: the search goes on below it.
    if (!verdict.passed && verdict.generatorSaturated) saturatedAt.add(rate);
    search.record(rate, verdict.passed);
    if (search.bracket.low === rate) kneeStep = steps.length - 1;
    else if (search.bracket.low === undefined) kneeStep = null;
  }
  const r = search.result();
  const knee = kneeStep === null ? undefined : steps[kneeStep];
  // The lowest failure was the generator's: above the knee, the target was never really tried.
  const generatorLimited = r.high !== undefined && saturatedAt.has(r.high);
  if (generatorLimited) {
    warnings.push(`the generator, not the target, was the limit at ${round(r.high!)} it/s: the knee is a lower bound (run the generator on another machine or with more --workers)`);
    ctx.say(`  warning: ${warnings[warnings.length - 1]}`);
  }
  return {
    replicas,
    knee: r.knee === undefined ? null : round(r.knee),
    kneeStep,
    kneeRps: knee?.rps ?? null,
    firstFailure: r.high === undefined ? null : round(r.high),
    outcome: io.signal.aborted ? 'interrupted' : generatorLimited ? 'generatorLimited' : r.outcome ?? 'interrupted',
    generatorLimited,
    atKnee: knee?.telemetry ?? null,
    steps,
    warnings,
  };
}

/** The BullMQ prefix of the waiting list: the flag, else the reference stack's `<keyPrefix>:bull`, else BullMQ's default. */
function queuePrefixOf(s: CapacitySettings, loaded: LoadedScenario, reference: boolean, env: Readonly<Record<string, string | undefined>>): string {
  if (s.queuePrefix !== undefined) return s.queuePrefix;
  if (!reference) return 'bull';
  const configured = (loaded.scenario.stack as { keyPrefix?: unknown } | undefined)?.keyPrefix;
  return `${typeof configured === 'string' ? configured : env.SHOP_KEY_PREFIX ?? 'shop'}:bull`;
}

const LOOPBACK = /^https?:\/\/(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?(\/|$)/i;

/** Checks what needs the scenario: the rates and how the target is resized. Returns the base rate (undefined with --peak-rps alone). */
function checkPlanInputs(s: CapacitySettings, loaded: LoadedScenario, reference: boolean, url: string): number | undefined {
  if (reference && s.scaleCmd !== undefined) throw usageError('--scale-cmd is for other services: with target: reference scalectl restarts the stack itself (or give --target)');
  if (!reference && s.replicas.length > 1 && s.scaleCmd === undefined) {
    throw usageError(`--replicas ${s.replicas.join(',')} needs --scale-cmd to resize ${url} (only target: reference is resized by scalectl)`);
  }
  const baseRate = s.baseRate ?? baseRateOf(loaded);
  if (baseRate === undefined && s.peakRps === undefined) {
    throw usageError('the scenario has no arrivalRate phase to take the base and peak rates from; give --base-rate with --surge, or --peak-rps');
  }
  if (baseRate === 0) throw usageError("the scenario's first arrivalRate is 0: give --base-rate, the rate before the surge");
  const start = s.startRate ?? baseRate ?? 10;
  if (start > s.maxRate) throw usageError(`the first rate tried (${start}/s${s.startRate === undefined ? ', the base rate' : ''}) is above --max-rate ${s.maxRate}`);
  return baseRate;
}

interface Outcome {
  counts: ReplicaCountResult[];
  error?: { message: string; exitCode: number };
}

/** Measures each replica count in turn; an error stops the loop but keeps what was measured. */
async function measureCounts(ctx: Context, url: string, firstRate: number, save: (counts: ReplicaCountResult[]) => Promise<unknown>): Promise<Outcome> {
  const { io, s, say } = ctx;
  const err = colorsFor(io.stderr, io.env);
  const counts: ReplicaCountResult[] = [];
  let startRate = firstRate;
  try {
    for (const replicas of s.replicas) {
      if (io.signal.aborted) break;
      say(err.bold(`replicas ${replicas}: `) + (ctx.reference ? `starting the reference stack with ${replicas} worker${replicas > 1 ? 's' : ''}...` : s.scaleCmd ? 'scaling...' : 'measuring as it is'));
      const scaled = await scaleTo(ctx, replicas, url);
      try {
        if (io.signal.aborted) break;
        if (scaled.logFile) say(err.dim(`  ready at ${scaled.url} (logs: ${scaled.logFile})`));
        const unreachable = await probeTarget(scaled.url);
        if (unreachable) throw new UserError(`target ${scaled.url} unreachable: ${unreachable}`, ExitCode.unreachable);
        const count = await searchCount(ctx, replicas, scaled.url, startRate);
        counts.push(count);
        say(`  knee with ${replicas} replica${replicas > 1 ? 's' : ''}: ${count.knee === null ? 'none (no rate passed)' : `${count.knee} it/s (${count.kneeRps ?? '?'} req/s)`}${count.generatorLimited ? ' (lower bound)' : ''}`);
        // The next count starts where this one's knee was: it should pass there.
        if (count.knee !== null) startRate = Math.min(count.knee, s.maxRate);
        await save(counts);
      } finally {
        await scaled.stop();
      }
    }
  } catch (e) {
    if (!(e instanceof UserError)) throw e;
    return { counts, error: { message: e.message, exitCode: e.exitCode } };
  }
  return { counts };
}

/** `scalectl capacity <scenario.yaml> --replicas 1,2,4`: knees, a scalability model and autoscaler settings (docs/capacity.md). */
export async function capacityCommand(file: string, flags: CapacityFlags, io: CommandIO): Promise<number> {
  const s = parseCapacityOptions(flags);
  const outPath = s.out !== undefined ? resolve(io.cwd, s.out) : undefined;
  if (s.out !== undefined && s.out.trim() === '') throw usageError('--out needs a file name');
  if (outPath) await checkWritable(outPath, '--out');
  if (s.html !== undefined && s.html.trim() === '') throw usageError('--html needs a file name');
  const htmlPath = s.html !== undefined ? resolve(io.cwd, s.html) : undefined;
  if (htmlPath && htmlPath === outPath) throw usageError(`--html ${s.html}: the same file as --out`);
  if (htmlPath) await checkWritable(htmlPath, '--html');
  const loadedResult = await loadScenario(resolve(io.cwd, file), io.env);
  if (!loadedResult.ok) {
    for (const issue of loadedResult.issues) io.stderr.write(formatIssue({ ...issue, file }) + '\n');
    return ExitCode.invalidInput;
  }
  const loaded = { ...loadedResult.loaded, file };
  const reference = s.target === undefined && loaded.scenario.target === 'reference';
  const url = s.target ?? loaded.scenario.target;
  const baseRate = checkPlanInputs(s, loaded, reference, url);

  const say = (line: string): void => void io.stderr.write(line + '\n');
  const ctx: Context = { io, loaded, s, reference, local: reference || LOOPBACK.test(url), cores: availableParallelism(), say };
  const startedAt = new Date();
  const host = hostInfo();
  const rampSec = s.rampSec ?? rampSecOf(loaded) ?? 60;
  const listName = `${queuePrefixOf(s, loaded, reference, io.env)}:${s.queue}:wait`;
  const build = (counts: ReplicaCountResult[], error?: Outcome['error']): CapacityResult =>
    buildCapacityResult({ s, loaded, file, reference, url, baseRate, listName, rampSec, host, startedAt, aborted: io.signal.aborted, counts, error });
  const save = async (counts: ReplicaCountResult[], error?: Outcome['error']): Promise<CapacityResult> => {
    const result = build(counts, error);
    if (outPath) await writeFile(outPath, JSON.stringify(result, null, 2) + '\n');
    return result;
  };

  say(`capacity of ${loaded.scenario.name}: replicas ${s.replicas.join(', ')}; each step ${formatDuration(s.warmupMs)} warm-up + ${formatDuration(s.steadyMs)} measured; ` +
    `precision ${round(s.precision * 100)}%; judged by ${[...(s.scenarioThresholds ? ["the scenario's thresholds"] : []), ...s.slos].join(', ') || 'throughput alone'}`);
  const outcome = await measureCounts(ctx, url, s.startRate ?? baseRate ?? 10, save);
  const result = await save(outcome.counts, outcome.error);
  io.stdout.write(renderCapacitySummary(result, colorsFor(io.stdout, io.env)));
  if (outPath) say(`capacity results written to ${s.out}`);
  if (s.emitK8s !== undefined) await emitK8s(result, resolve(io.cwd, s.emitK8s), s.emitK8s, say);
  if (htmlPath) {
    await writeFile(htmlPath, renderCapacityHtml(result));
    say(`HTML report written to ${s.html}`);
  }
  if (outcome.error) {
    say(`scalectl: ${outcome.error.message}`);
    return outcome.error.exitCode;
  }
  if (result.aborted) return ExitCode.aborted;
  return result.plan.replicas?.feasible ? ExitCode.ok : ExitCode.thresholdsFailed;
}

/** --emit-k8s: the manifests, only from a complete and feasible plan. */
async function emitK8s(result: CapacityResult, dir: string, given: string, say: (line: string) => void): Promise<void> {
  const { hpa, keda } = result.plan;
  if (result.aborted || result.error) return say('no Kubernetes manifests written: the measurement did not finish');
  if (!hpa) return say('no Kubernetes manifests written: no feasible replica recommendation');
  const { deployment, consumerDeployment, listName } = result.settings;
  const files = renderK8s(hpa, keda ?? { listLengthPerReplica: null, replicas: null, warnings: [], arithmetic: [] }, { deployment, consumerDeployment, listName });
  if (Object.keys(files).length === 0) return say('no Kubernetes manifests written: no CPU was measured at the knee (HPA) and the queue was not sized (KEDA)');
  await mkdir(dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
  say(`Kubernetes manifests written to ${given}: ${Object.keys(files).join(', ')}`);
}

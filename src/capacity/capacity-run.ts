import { percent as pct, round } from '../analyzers/numbers.js';
import { probeTarget } from '../engine/probe-target.js';
import { ExitCode, UserError } from '../exit-codes.js';
import { formatDuration } from '../shared/duration.js';
import type { LoadedScenario } from '../scenarios/load-scenario.js';
import { targetQueues } from './target-queues.js';
import { planTelemetry } from '../telemetry/telemetry-plan.js';
import type { CapacitySettings } from './capacity-result.js';
import { CountSearch, type ReplicaCountResult } from './count-search.js';
import { crossCheck } from './cross-check.js';
import { kneeConfidenceText } from '../reporters/capacity-verdict.js';
import type { StepPurpose } from './knee-search.js';
import { measureStep } from './measure-rate.js';
import { scaleExternal, scaleReference, type ScaledTarget } from './scale-target.js';
import { tailCriteria, type StepVerdict } from './step-verdict.js';
import { maskCredentials } from '../shared/mask-credentials.js';
import { printable } from '../shared/printable.js';

/** What a capacity measurement needs from the outside world. */
export interface CapacityRunContext {
  loaded: LoadedScenario;
  s: CapacitySettings;
  reference: boolean;
  /** The target runs on this host (the reference stack, or a loopback URL). */
  local: boolean;
  cores: number;
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
  signal: AbortSignal;
  /** Progress lines (stderr). */
  say: (line: string) => void;
  /** Headings in progress, made bold where the stream has colour. */
  bold: (text: string) => string;
}

export interface CapacityRunOutcome {
  counts: ReplicaCountResult[];
  /** The waiting list the target said its queue uses (its metrics' queue info series), when it said. */
  listFromTarget?: string;
  /** The RabbitMQ queues the target said its event consumers read (its events info series), when it runs the broker. */
  eventQueues?: string[];
  /** The BullMQ waiting lists of the target's event queues (its events info series), when it runs no broker. */
  eventWaitLists?: string[];
  /** Disagreements between counts found, with whether re-measuring settled them. */
  crossChecks: { text: string; settled: boolean }[];
  error?: { message: string; exitCode: number };
}

/** The target is the reference shop (started by scalectl, or a --target for a scenario written for it): its metrics mapping applies. */
const isShop = (ctx: CapacityRunContext): boolean => ctx.reference || ctx.loaded.scenario.target === 'reference';

/** Brings the target to `replicas`: the reference stack restarted with that many workers, or the --scale-cmd. */
async function scaleTo(ctx: CapacityRunContext, replicas: number, url: string): Promise<ScaledTarget> {
  if (ctx.reference) {
    // --consumers sets the stack's consumer processes; without it the scenario's (or SHOP_CONSUMERS) apply.
    const stack = ctx.s.consumers === undefined ? ctx.loaded.scenario.stack : { ...ctx.loaded.scenario.stack, consumers: ctx.s.consumers };
    return scaleReference(stack, replicas, ctx.env);
  }
  if (ctx.s.scaleCmd === undefined) return { url, stop: () => Promise.resolve() };
  return scaleExternal({
    url, command: ctx.s.scaleCmd, readyUrl: ctx.s.readyUrl!, readyTimeoutMs: ctx.s.readyTimeoutMs, replicas,
    env: ctx.env, cwd: ctx.cwd, signal: ctx.signal,
  });
}

/** The step's verdict in one line: the decision, its confidence, the samples and the tail evidence. */
export function describeStep(v: StepVerdict): string {
  const samples = v.evidence.length ? Math.min(...v.evidence.map((e) => e.samples)) : Math.round(v.rps * v.measuredSec);
  const tails = v.evidence.map((e) => `${e.expression.replace(/\s+/g, '')} ${pct(e.observed)} past (CI ${pct(e.low)}–${pct(e.high)})`).join(', ');
  const how = `${samples} samples in ${v.measuredSec} s${tails ? `; ${tails}` : ''}`;
  if (v.verdict === 'pass') return `pass${v.evidence.length ? ' at 95% confidence' : ''} (${v.rps} req/s, p99 ${formatDuration(v.latencyMs.p99)}; ${how})`;
  if (v.verdict === 'undecided') return `undecided, leaning ${v.passed ? 'pass' : 'fail'} (${how})`;
  return `fail: ${v.reasons.join('; ')}${v.generatorSaturated ? ' [generator saturated]' : ''}`;
}

/** Drives one count's search through its steps, with progress lines. */
async function searchOnce(ctx: CapacityRunContext, search: CountSearch, url: string): Promise<void> {
  const { s, say } = ctx;
  const plan = planTelemetry(ctx.loaded.scenario.telemetry, url, isShop(ctx), ctx.env);
  const criteria = tailCriteria([...(s.scenarioThresholds ? ctx.loaded.scenario.thresholds.map((t) => t.text) : []), ...s.slos]);
  const setup = {
    loaded: ctx.loaded, target: url, slos: s.slos, scenarioThresholds: s.scenarioThresholds, warmupMs: s.warmupMs, steadyMs: s.steadyMs, maxSteadyMs: s.maxSteadyMs,
    workers: s.workers, plan, cores: ctx.cores, replicas: search.replicas, criteria, signal: ctx.signal, say,
  };
  await search.run(
    (rate, purpose: StepPurpose, warmup) => measureStep(setup, rate, purpose, warmup),
    (rate, purpose, warmup) => {
      const { low, high, steps } = search.status;
      say(`  step ${steps + 1} (${purpose}, bracket ${low === undefined ? '–' : round(low, 2)} .. ${high === undefined ? '–' : round(high, 2)} it/s): ` +
        `${round(rate, 2)} it/s for ${warmup && s.warmupMs > 0 ? `${formatDuration(s.warmupMs)} + ` : ''}${formatDuration(s.steadyMs)}`);
    },
    (v) => say(`    ${printable(describeStep(v))}`),
  );
}

function kneeLine(c: ReplicaCountResult): string {
  const n = `${c.replicas} replica${c.replicas > 1 ? 's' : ''}`;
  if (c.knee === null) return `  no knee with ${n}: ${c.diagnosis ?? c.outcome}`;
  const bracket = `${c.firstFailure === null ? '' : ` (< ${c.firstFailure})`}, ${kneeConfidenceText(c)}`;
  return `  knee with ${n}: ${c.knee} it/s${bracket}${c.kneeRps !== null ? `, ${c.kneeRps} req/s` : ''}${c.generatorLimited ? ' (lower bound)' : ''}; ` +
    `${c.steps.length} steps in ${formatDuration(c.elapsedSec * 1000)}`;
}

/**
 * Measures each replica count in turn, then measures again the counts whose
 * knees contradict each other (super-linear gains, knees that fall). An error
 * stops the loop but keeps what was measured; `save` is called after each count.
 */
export async function runCapacity(ctx: CapacityRunContext, url: string, firstRate: number, save: (o: CapacityRunOutcome) => Promise<unknown>): Promise<CapacityRunOutcome> {
  const { s, say, signal } = ctx;
  const searches: CountSearch[] = [];
  const outcome: CapacityRunOutcome = { counts: [], crossChecks: [] };
  const snapshot = (): CapacityRunOutcome => ({ ...outcome, counts: searches.map((x) => x.result()) });
  const withTarget = async (replicas: number, run: (target: string) => Promise<void>): Promise<void> => {
    say(ctx.bold(`replicas ${replicas}: `) + (ctx.reference ? `starting the reference stack with ${replicas} worker${replicas > 1 ? 's' : ''}...` : s.scaleCmd ? 'scaling...' : 'measuring as it is'));
    const scaled = await scaleTo(ctx, replicas, url);
    try {
      if (signal.aborted) return;
      if (scaled.logFile) say(`  ready at ${printable(scaled.url)} (logs: ${printable(scaled.logFile)})`);
      const unreachable = await probeTarget(scaled.url, ctx.loaded.tls);
      if (unreachable) throw new UserError(`target ${maskCredentials(scaled.url)} unreachable: ${unreachable}`, ExitCode.unreachable);
      if (outcome.listFromTarget === undefined || outcome.eventQueues === undefined) {
        const named = await targetQueues(planTelemetry(ctx.loaded.scenario.telemetry, scaled.url, isShop(ctx), ctx.env)?.metricsUrls ?? [], s.queue);
        outcome.listFromTarget ??= named.list;
        outcome.eventQueues ??= named.eventQueues;
        outcome.eventWaitLists ??= named.eventWaitLists;
      }
      await run(scaled.url);
    } finally {
      await scaled.stop();
    }
  };
  try {
    let startRate = firstRate;
    for (const replicas of s.replicas) {
      if (signal.aborted) break;
      const local = ctx.local && replicas + s.workers > ctx.cores
        ? [`${replicas} replicas + ${s.workers} generator thread(s) share this host's ${ctx.cores} cores: the knee says more about the host than the service`] : [];
      for (const w of local) say(`warning: ${printable(w)}`);
      const search = new CountSearch(replicas, { startRate, maxRate: s.maxRate, precision: s.precision }, local);
      // A count joins the results once its target is up: a resize that fails leaves nothing measured.
      await withTarget(replicas, (target) => {
        searches.push(search);
        return searchOnce(ctx, search, target);
      });
      if (!searches.includes(search)) break;
      const count = search.result();
      say(kneeLine(count));
      // The next count starts where this one's knee was: it should pass there.
      if (count.knee !== null) startRate = Math.min(count.knee, s.maxRate);
      await save(snapshot());
    }
    // Knees that contradict each other are measured again, once per count, not averaged away.
    const found = signal.aborted ? [] : crossCheck(searches.map((x) => x.result()));
    for (const d of found) say(`counts disagree: ${printable(d.text)}; measuring again`);
    outcome.crossChecks = found.map((d) => ({ text: d.text, settled: false }));
    const again = [...new Set(found.flatMap((d) => d.replicas))];
    for (const replicas of again) {
      const search = searches.find((x) => x.replicas === replicas)!;
      if (signal.aborted || !search.reopen()) continue;
      await withTarget(replicas, (target) => searchOnce(ctx, search, target));
      say(kneeLine(search.result()));
      await save(snapshot());
    }
    const remaining = crossCheck(searches.map((x) => x.result()));
    // Settled only when measured again to the end; a stop during it settles nothing.
    outcome.crossChecks = found.map((d) => ({ text: d.text, settled: !signal.aborted && !remaining.some((r) => r.kind === d.kind && r.replicas.join() === d.replicas.join()) }));
  } catch (e) {
    if (!(e instanceof UserError)) throw e;
    outcome.error = { message: maskCredentials(e.message), exitCode: e.exitCode };
    outcome.crossChecks = outcome.crossChecks.map((c) => ({ ...c, settled: false }));
  }
  return snapshot();
}

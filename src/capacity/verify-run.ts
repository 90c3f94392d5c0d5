import { buildRunResult, type RunResult } from '../analyzers/run-result.js';
import { defaultThresholdsFor } from '../analyzers/thresholds.js';
import { liveTelemetry } from '../analyzers/telemetry.js';
import { round } from '../analyzers/numbers.js';
import { probeTarget } from '../engine/probe-target.js';
import type { LoadOptions } from '../engine/run-load.js';
import { ExitCode, UserError } from '../exit-codes.js';
import { maskCredentials } from '../shared/mask-credentials.js';
import { formatDuration } from '../shared/duration.js';
import type { LoadedScenario } from '../scenarios/load-scenario.js';
import type { Phase } from '../scenarios/schema.js';
import type { SurgePrediction } from './surge-types.js';
import { printable } from '../shared/printable.js';
import { schedulePhases } from '../scenarios/schedule.js';
import { loadWithTelemetry } from '../telemetry/load-with-telemetry.js';
import { TelemetryCollector } from '../telemetry/telemetry-collector.js';
import { planTelemetry } from '../telemetry/telemetry-plan.js';
import type { CapacityPlan } from './capacity-plan.js';
import { applyAndWait, startAutoscaledReference, type ScaledTarget } from './scale-target.js';
import { secondCounts, tailCriteria, type SecondCounts } from './step-verdict.js';
import { verifySurge, type ObservedRun, type PredictionView, type Verification } from './verification.js';

/** What a replay needs from the outside world. */
export interface VerifyContext {
  loaded: LoadedScenario;
  reference: boolean;
  /** The scenario was written for the reference shop (its metrics mapping applies). */
  shop: boolean;
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
  signal: AbortSignal;
  say: (line: string) => void;
  cores: number;
  /** Generator threads. */
  workers: number;
  slos: readonly string[];
  scenarioThresholds: boolean;
  /** Another target: the command that puts the recommended autoscaler in place (`kubectl apply -f k8s/`), and the URL that answers 2xx once it is. */
  applyCmd?: string;
  readyUrl?: string;
  readyTimeoutMs: number;
  /** The Deployments whose replicas are the prediction's `web` and `consumer` (a Kubernetes target's telemetry names deployments). */
  deployments: { web: string; consumer: string };
  /** Consumer processes while measuring: the reference stack keeps them when the plan did not size the queue. */
  consumers: number | undefined;
}

/**
 * The surge the prediction simulated, as phases to replay: the scenario's own
 * phases, or (when flags changed the rates) the surge built from the plan's;
 * judged by the SLOs besides (or instead of) the scenario's thresholds.
 */
function replayed(ctx: VerifyContext, surge: SurgePrediction): LoadedScenario {
  const { scenario } = ctx.loaded;
  const phases: Phase[] = surge.profile === 'scenario' || !surge.phases?.length ? scenario.phases : surge.phases.flatMap((p, i) => (p.kind === 'open'
    ? [{ kind: 'arrivalRate' as const, name: `surge ${i + 1}`, durationMs: Math.round(p.durationSec * 1000), arrivalRate: p.fromRate, rampTo: p.toRate }] : []));
  return {
    ...ctx.loaded,
    scenario: { ...scenario, phases, thresholds: [...(ctx.scenarioThresholds ? scenario.thresholds : []), ...ctx.slos.map((text) => ({ text, at: ['--slo'] }))] },
  };
}

/** The parts of the prediction verification compares with. */
export function predictionView(plan: CapacityPlan): PredictionView {
  const surge = plan.surge!;
  const backlogs = surge.seconds.flatMap((s) => (s.consumer ? [s.consumer.backlog] : []));
  return {
    scaleEvents: surge.scaleEvents,
    breaches: surge.breaches,
    syncSec: surge.settings.autoscaler.syncSec,
    maxBacklog: backlogs.length ? round(Math.max(...backlogs), 1) : null,
    webMinReplicas: surge.settings.web.minReplicas,
  };
}

/** The prediction's role for an observed one: the reference stack's own names, or the Deployments named for web and consumer. */
export function roleNamer(deployments: VerifyContext['deployments']): (role: string) => string {
  return (role) => (role === deployments.web ? 'web' : role === deployments.consumer ? 'consumer' : role);
}

/** What the replay saw, from its RunResult and its seconds, roles named as the prediction names them. */
function observedFrom(result: RunResult, seconds: readonly SecondCounts[], sloExpressions: readonly string[], deployments: VerifyContext['deployments']): ObservedRun {
  const t = result.telemetry;
  const replicas = 'replicas' in t ? t.replicas : null;
  const role = roleNamer(deployments);
  const renamed = (counts: Record<string, number>): Record<string, number> => Object.fromEntries(Object.entries(counts).map(([k, n]) => [role(k), n]));
  return {
    aborted: result.aborted,
    timeline: result.timeseries.map((p) => ({ t: p.t, achievedRps: p.achievedRps, p99: p.p99, ...(p.replicas ? { replicas: renamed(p.replicas) } : {}) })),
    seconds,
    replicaEvents: (replicas?.events ?? []).map((e) => ({ ...e, role: role(e.role) })),
    sawReplicas: replicas !== null && replicas !== undefined,
    // The SLOs, and the default dropped_rate: a surge that drops arrivals did not hold, whatever the latency.
    thresholds: result.thresholds.filter((th) => sloExpressions.includes(th.expression) || th.default),
    queue: 'queueDepth' in t ? { maxDepth: t.queueDepth?.max ?? null, drainSec: t.queueDrainTimeSec ?? null } : null,
  };
}

/** Brings up the target with the recommended autoscaler: the reference stack configured from the plan, or --apply-cmd. */
async function autoscaledTarget(ctx: VerifyContext, plan: CapacityPlan, url: string, warnings: string[]): Promise<ScaledTarget> {
  if (ctx.reference) {
    ctx.say('verify: starting the reference stack with the recommended autoscalers...');
    return startAutoscaledReference(ctx.loaded.scenario.stack, plan.surge!, ctx.consumers, ctx.env);
  }
  if (ctx.applyCmd === undefined) {
    const note = `no --apply-cmd: replayed against ${maskCredentials(url)} as it is (its autoscaler taken to be the recommended one)`;
    ctx.say(`verify: ${printable(note)}`);
    warnings.push(note);
    return { url, stop: () => Promise.resolve() };
  }
  ctx.say(`verify: running --apply-cmd ${printable(maskCredentials(ctx.applyCmd))}`);
  return applyAndWait({ url, command: ctx.applyCmd, readyUrl: ctx.readyUrl ?? url, readyTimeoutMs: ctx.readyTimeoutMs, env: ctx.env, cwd: ctx.cwd, signal: ctx.signal });
}

/** A progress line every 10 s of the replay: rate, p99, errors and the replicas the target reports. */
function progressLine(ctx: VerifyContext, collector: TelemetryCollector | undefined): NonNullable<LoadOptions['onPoint']> {
  return (point) => {
    if ((point.t + 1) % 10 !== 0) return;
    const live = collector ? liveTelemetry(collector.recent()) : undefined;
    const replicas = live?.replicas ? ' · ' + Object.entries(live.replicas).map(([role, n]) => `${printable(role)} ${n}`).join(' · ') : '';
    ctx.say(`  ${point.t + 1} s: ${point.achievedRps} it/s, p99 ${formatDuration(point.p99)}, ${point.errors} errors${replicas}`);
  };
}

/** Nothing replayed (Ctrl-C while the target was being set up): interrupted, not judged. */
const interrupted = (plan: CapacityPlan, warnings: string[]): Verification => {
  const v = verifySurge(predictionView(plan), { aborted: true, timeline: [], seconds: [], replicaEvents: [], sawReplicas: false, thresholds: [], queue: null }, []);
  return { ...v, warnings: [...warnings, ...v.warnings.filter((w) => !/no replica counts/.test(w))] };
};

/**
 * `capacity --verify`: replays the surge the prediction simulated against
 * the target running the recommended autoscaler and compares what happened
 * with the prediction. The plan must be a recommendation with a surge
 * prediction that applies.
 */
export async function replaySurge(ctx: VerifyContext, plan: CapacityPlan, url: string): Promise<Verification> {
  const warnings: string[] = [];
  const target = await autoscaledTarget(ctx, plan, url, warnings);
  try {
    if (ctx.signal.aborted) return interrupted(plan, warnings);
    if (target.logFile) ctx.say(`  ready at ${printable(target.url)} (logs: ${printable(target.logFile)})`);
    const unreachable = await probeTarget(target.url, ctx.loaded.tls);
    if (unreachable) throw new UserError(`target ${maskCredentials(target.url)} unreachable: ${unreachable}`, ExitCode.unreachable);
    const loaded = replayed(ctx, plan.surge!);
    const expressions = loaded.scenario.thresholds.map((th) => th.text);
    const criteria = tailCriteria(expressions);
    const limitsMs = [...new Set(criteria.filter((c) => c.kind === 'latency' && c.scope === undefined).map((c) => c.limitMs))];
    const telemetryPlan = planTelemetry(loaded.scenario.telemetry, target.url, ctx.shop, ctx.env);
    const collector = telemetryPlan ? new TelemetryCollector(telemetryPlan.source, { intervalMs: telemetryPlan.intervalMs, timeoutMs: telemetryPlan.timeoutMs }) : undefined;
    collector?.start();
    const seconds: SecondCounts[] = [];
    const progress = progressLine(ctx, collector);
    const totalMs = schedulePhases(loaded.scenario.phases).at(-1)!.endMs;
    ctx.say(`verify: replaying ${printable(loaded.scenario.name)} (${formatDuration(totalMs)}) and watching the replicas`);
    const { data, telemetry } = await loadWithTelemetry(loaded, {
      target: target.url, workers: ctx.workers, signal: ctx.signal,
      onPoint: (point, live, hist, detail) => {
        seconds.push(secondCounts(point, hist, limitsMs));
        progress(point, live, hist, detail);
      },
    }, telemetryPlan && collector ? { plan: telemetryPlan, collector } : undefined, (line) => ctx.say(`  ${printable(line)}`));
    const result = buildRunResult(loaded, data, { target: target.url, cores: ctx.cores, telemetry, defaultThresholds: defaultThresholdsFor(loaded.scenario) });
    const v = verifySurge(predictionView(plan), observedFrom(result, seconds, expressions, ctx.deployments), criteria);
    return { ...v, warnings: [...warnings, ...v.warnings] };
  } finally {
    await target.stop();
  }
}

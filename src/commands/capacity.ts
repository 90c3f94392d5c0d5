import { readdir, readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { baseRateOf, buildCapacityResult, firstRateOf, rampSecOf, type CapacityResult } from '../capacity/capacity-result.js';
import { runCapacity, type CapacityRunOutcome } from '../capacity/capacity-run.js';
import { round } from '../analyzers/numbers.js';
import { ExitCode, inputError, usageError, UserError, type ExitCodeValue } from '../exit-codes.js';
import { OutputFiles } from './output-files.js';
import { loadCommandScenario } from './command-scenario.js';
import { hostInfo } from './host-info.js';
import { colorsFor } from '../reporters/colors.js';
import { renderCapacitySummary, renderVerification } from '../reporters/capacity-terminal.js';
import { k8sNamesOf, kustomizationClash, KUSTOMIZE_FILE, renderK8s, renderKustomizeComponent } from '../reporters/k8s.js';
import { renderCapacityHtml } from '../reporters/html-capacity.js';
import { formatDuration } from '../shared/duration.js';
import type { LoadedScenario } from '../scenarios/load-scenario.js';
import { parseThreshold } from '../scenarios/threshold-expression.js';
import { listEndpoints } from '../engine/compiled-scenario.js';
import { parseCapacityOptions, type CapacityFlags, type CapacitySettings } from './capacity-options.js';
import { maskCredentials } from '../shared/mask-credentials.js';
import { isLoopbackUrl } from '../scenarios/target-url.js';
import { referenceConsumers, resolveAutoscalerSettings } from '../capacity/autoscaler-settings.js';
import { replaySurge } from '../capacity/verify-run.js';
import type { Verification } from '../capacity/verification.js';
import { readCapacity } from './read-result.js';
import { configuredKeyPrefix } from '../stack/contract.js';

export type { CapacityResult } from '../capacity/capacity-result.js';
import type { CommandIO } from './io.js';
import { nameList, printable } from '../shared/printable.js';



/** Checks what needs the scenario: the rates and how the target is resized. Returns the base rate (undefined with --peak-rps alone). */
function checkPlanInputs(s: CapacitySettings, loaded: LoadedScenario, reference: boolean, url: string): number | undefined {
  const names = [...loaded.scenario.flows.map((f) => f.name), ...listEndpoints(loaded.scenario).map((e) => e.name)];
  for (const slo of s.slos) {
    const t = parseThreshold(slo);
    if (typeof t !== 'string' && t.scope !== undefined && t.scopeKind !== 'check' && !names.includes(t.scope)) {
      throw usageError(`--slo "${slo}": no endpoint or flow named "${t.scope}" in the scenario; names: ${nameList(names)}`);
    }
  }
  if (reference && s.scaleCmd !== undefined) throw usageError('--scale-cmd is for other services: with target: reference scalectl restarts the stack itself (or give --target)');
  if (!reference && s.replicas.length > 1 && s.scaleCmd === undefined) {
    throw usageError(`--replicas ${s.replicas.join(',')} needs --scale-cmd to resize ${maskCredentials(url)} (only target: reference is resized by scalectl)`);
  }
  const baseRate = s.baseRate ?? baseRateOf(loaded);
  if (baseRate === undefined && s.peakRps === undefined) {
    throw usageError('the scenario has no arrivalRate phase to take the base and peak rates from; give --base-rate with --surge, or --peak-rps');
  }
  if (baseRate === 0) throw usageError("the scenario's first arrivalRate is 0: give --base-rate, the rate before the surge");
  const start = firstRateOf(s, baseRate);
  if (start > s.maxRate) throw usageError(`the first rate tried (${start}/s${s.startRate === undefined ? ', the base rate' : ''}) is above --max-rate ${s.maxRate}`);
  return baseRate;
}

/** Where the plan comes from: measured now, or a saved capacity.json (`--verify --plan`). */
interface PlanSource {
  result: CapacityResult;
  /** Rewrites --out with the result as it stands. */
  save: (result: CapacityResult) => Promise<unknown>;
}

/** The plan measured now: the knee search at each count, capacity.json rewritten after every step. */
async function measurePlan(file: string, s: CapacitySettings, loaded: LoadedScenario, io: CommandIO, outputs: OutputFiles, say: (line: string) => void): Promise<PlanSource> {
  const reference = s.target === undefined && loaded.scenario.target === 'reference';
  const url = s.target ?? loaded.scenario.target;
  const baseRate = checkPlanInputs(s, loaded, reference, url);
  const err = colorsFor(io.stderr, io.env);
  const ctx = {
    loaded, s, reference, local: reference || isLoopbackUrl(url), cores: availableParallelism(),
    env: io.env, cwd: io.cwd, signal: io.signal, say, bold: (t: string) => err.bold(t),
  };
  const startedAt = new Date();
  const host = hostInfo();
  const rampSec = s.rampSec ?? rampSecOf(loaded) ?? 60;
  const referencePrefix = reference ? configuredKeyPrefix(loaded.scenario.stack as Record<string, unknown> | undefined, io.env) : undefined;
  const stack = loaded.scenario.stack as Record<string, unknown> | undefined;
  const autoscaler = resolveAutoscalerSettings({ reference, stack, env: io.env, podStartupMs: s.podStartupMs });
  const consumers = s.consumers ?? (reference ? referenceConsumers(stack, io.env) : undefined);
  const write = (result: CapacityResult): Promise<unknown> =>
    // Rewritten after every step, quietly: a failure is said once and the next step tries again.
    outputs.write('--out', () => JSON.stringify(result, null, 2) + '\n', 'capacity results', { quiet: true });
  const save = async (outcome: CapacityRunOutcome): Promise<CapacityResult> => {
    const result = buildCapacityResult({
      s, loaded, file, reference, url, baseRate, referencePrefix, rampSec, autoscaler, consumers, host, startedAt, aborted: io.signal.aborted, outcome,
    });
    await write(result);
    return result;
  };
  say(`capacity of ${printable(loaded.scenario.name)}: replicas ${s.replicas.join(', ')}; each step ${formatDuration(s.warmupMs)} warm-up + ${formatDuration(s.steadyMs)} windows ` +
    `(up to ${formatDuration(s.maxSteadyMs)} while undecided at 95% confidence); precision ${round(s.precision * 100, 2)}%; ` +
    `judged by ${[...(s.scenarioThresholds ? ["the scenario's thresholds"] : []), ...s.slos.map((x) => printable(x))].join(', ') || 'throughput alone'}`);
  const outcome = await runCapacity(ctx, url, firstRateOf(s, baseRate), save);
  return { result: await save(outcome), save: write };
}

/** The scenario's phases in the prediction's terms, to check that a saved plan was made for them. */
const phasesKey = (phases: LoadedScenario['scenario']['phases']): string => JSON.stringify(phases.map((p) => (p.kind === 'vus'
  ? { kind: 'closed', durationSec: p.durationMs / 1000 }
  : { kind: 'open', durationSec: p.durationMs / 1000, fromRate: p.kind === 'pause' ? 0 : p.arrivalRate, toRate: p.kind === 'pause' ? 0 : p.rampTo })));

/** A saved capacity.json to verify (`--verify --plan`): its plan and settings, for the scenario given. */
async function savedPlan(s: CapacitySettings, loaded: LoadedScenario, io: CommandIO, outputs: OutputFiles, say: (line: string) => void): Promise<PlanSource> {
  const saved = await readCapacity(s.planFile!, io.cwd);
  if (!saved) throw inputError(`--plan ${s.planFile}: not a capacity.json (scalectl capacity --out)`);
  if (saved.scenario.name !== loaded.scenario.name) {
    say(`warning: --plan ${printable(s.planFile!)} was measured for the scenario ${printable(saved.scenario.name)}, not ${printable(loaded.scenario.name)}`);
  }
  const surge = saved.plan.surge;
  if (surge?.profile === 'scenario' && Array.isArray(surge.phases) && JSON.stringify(surge.phases) !== phasesKey(loaded.scenario.phases)) {
    say(`warning: the phases of ${printable(loaded.scenario.name)} are not the ones the plan in ${printable(s.planFile!)} predicted: the replay is of the scenario as it is now`);
  }
  say(`verifying the plan in ${printable(s.planFile!)} (${saved.plan.verdict}, measured ${saved.startedAt})`);
  const { verification: _previous, ...result } = saved;
  return { result, save: (r) => outputs.write('--out', () => JSON.stringify(r, null, 2) + '\n', 'capacity results', { quiet: true }) };
}

/** Why a plan cannot be verified, or undefined when it can. */
function notVerifiable(result: CapacityResult, reference: boolean): string | undefined {
  if (result.aborted || result.error) return 'the measurement did not finish';
  if (result.plan.verdict !== 'recommended') return `the plan is ${result.plan.verdict}, not a recommendation`;
  const surge = result.plan.surge;
  if (!surge) return 'the plan has no surge prediction (a capacity.json from before it existed: measure again)';
  if (!surge.settings?.web || !Array.isArray(surge.seconds)) return 'the plan\'s surge prediction is incomplete (settings.web or seconds missing)';
  if (!surge.applies) return 'the surge prediction does not apply to this scenario (a closed-model phase)';
  if (surge.profile === 'plan' && !surge.phases?.length) return 'the prediction simulated a surge built from the plan\'s rates, and the file does not say which (written before plan.surge.phases existed): measure again';
  if (reference && surge.settings.web.cpuRequestMillicores === null) {
    return 'CPU was not measured, so the plan\'s CPU target is a share of the knee\'s CPU, which the reference stack cannot run as simulated (its target is a share of a CPU request)';
  }
  return undefined;
}

/** What --verify came to: the verification, or why there is none (and the exit code that says so). */
interface Verified {
  result: CapacityResult;
  /** Set when nothing was verified: a verify that verifies nothing is not a pass. */
  failure?: { message: string; exitCode: ExitCodeValue };
}

/** --verify: replays the surge against the target running the recommended autoscaler; the result gains `verification`. */
async function verifyPlan(result: CapacityResult, s: CapacitySettings, loaded: LoadedScenario, io: CommandIO, say: (line: string) => void): Promise<Verified> {
  const reference = s.target === undefined && loaded.scenario.target === 'reference';
  const why = notVerifiable(result, reference);
  if (why) return { result, failure: { message: `not verified: ${why}`, exitCode: ExitCode.thresholdsFailed } };
  try {
    const verification = await replaySurge({
      loaded, reference, shop: loaded.scenario.target === 'reference', env: io.env, cwd: io.cwd, signal: io.signal, say, cores: availableParallelism(),
      workers: s.workers, slos: result.settings.slos, scenarioThresholds: result.settings.scenarioThresholds,
      applyCmd: s.applyCmd, readyUrl: s.readyUrl, readyTimeoutMs: s.readyTimeoutMs,
      deployments: { web: result.settings.deployment, consumer: result.settings.consumerDeployment },
      consumers: result.settings.consumers ?? undefined,
    }, result.plan, s.target ?? loaded.scenario.target);
    return { result: { ...result, verification } };
  } catch (err) {
    // The measurement stays (capacity.json and the HTML are still written); the failed replay gives the exit code.
    if (!(err instanceof UserError)) throw err;
    return { result, failure: { message: `not verified: ${maskCredentials(err.message)}`, exitCode: err.exitCode } };
  }
}

const VERIFY_EXIT: Record<Verification['verdict'], ExitCodeValue> = { held: ExitCode.ok, broke: ExitCode.thresholdsFailed, unsure: ExitCode.thresholdsFailed, interrupted: ExitCode.aborted };

/** `scalectl capacity <scenario.yaml> --replicas 1,2,4 [--verify]`: knees, a scalability model and autoscaler settings, verified on request (docs/capacity.md). */
export async function capacityCommand(file: string, flags: CapacityFlags, io: CommandIO): Promise<number> {
  const s = parseCapacityOptions(flags);
  const outputs = await OutputFiles.check({ '--out': s.out, '--html': s.html }, io, [file, ...(s.planFile ? [s.planFile] : [])]);
  if (s.emitK8s !== undefined) await checkEmitDir(resolve(io.cwd, s.emitK8s), printable(s.emitK8s));
  const loaded = await loadCommandScenario(file, io, outputs);
  if (!loaded) return ExitCode.invalidInput;
  const say = (line: string): void => void io.stderr.write(line + '\n');
  const source = s.planFile ? await savedPlan(s, loaded, io, outputs, say) : await measurePlan(file, s, loaded, io, outputs, say);
  let result = source.result;
  io.stdout.write(renderCapacitySummary(result, colorsFor(io.stdout, io.env)));
  if (outputs.written('--out')) say(`capacity results written to ${printable(s.out!)}`);
  // Before the replay: --apply-cmd may apply the manifests just written (kubectl apply -f k8s/).
  if (s.emitK8s !== undefined) await emitK8s(result, outputs, resolve(io.cwd, s.emitK8s), s.emitK8s, say);
  let failure: Verified['failure'];
  if (s.verify && !io.signal.aborted) {
    ({ result, failure } = await verifyPlan(result, s, loaded, io, say));
    if (failure) say(printable(failure.message));
    if (result.verification) {
      io.stdout.write(renderVerification(result.verification, colorsFor(io.stdout, io.env)));
      await source.save(result);
      if (outputs.written('--out')) say(`verification written to ${printable(s.out!)}`);
    }
  }
  await outputs.write('--html', () => renderCapacityHtml(result), 'HTML report');
  if (result.error) {
    say(`scalectl: ${printable(result.error.message)}`);
    return result.error.exitCode;
  }
  if (result.aborted || io.signal.aborted) return outputs.exitCode(ExitCode.aborted);
  if (result.plan.verdict !== 'recommended') return outputs.exitCode(ExitCode.thresholdsFailed);
  // --verify: a replay that broke (or could not settle) the SLOs fails like a threshold; one that could not run gives its own code.
  if (failure) return outputs.exitCode(failure.exitCode);
  return outputs.exitCode(result.verification ? VERIFY_EXIT[result.verification.verdict] : ExitCode.ok);
}

/** --emit-k8s into a directory that holds a kustomization of someone else's: refused (exit 2) before anything is measured. */
async function checkEmitDir(dir: string, given: string): Promise<void> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const candidates = names.filter((n) => /^kustomization(\.ya?ml)?$/i.test(n));
  const entries = await Promise.all(candidates.map(async (name) => ({ name, text: await readFile(resolve(dir, name), 'utf8').catch(() => '') })));
  const clash = kustomizationClash(given, entries);
  if (clash) throw usageError(`--emit-k8s ${clash}`);
}

/** --emit-k8s: the manifests, only from a complete and feasible plan. */
async function emitK8s(result: CapacityResult, outputs: OutputFiles, dir: string, given: string, say: (line: string) => void): Promise<void> {
  const { hpa, keda } = result.plan;
  if (result.aborted || result.error) return say('no Kubernetes manifests written: the measurement did not finish');
  if (result.plan.verdict !== 'recommended' || !hpa) return say(`no Kubernetes manifests written: the plan is ${result.plan.verdict}, not a recommendation`);
  const files = renderK8s(hpa, keda ?? { listLengthPerReplica: null, replicas: null, warnings: [], arithmetic: [] }, k8sNamesOf(result.settings), result.plan.surge?.settings);
  if (Object.keys(files).length === 0) return say('no Kubernetes manifests written: no CPU was measured at the knee (HPA) and the queue was not sized (KEDA)');
  files[KUSTOMIZE_FILE] = renderKustomizeComponent(Object.keys(files), k8sNamesOf(result.settings), hpa);
  await outputs.writeInto(dir, given, files, 'Kubernetes manifests');
}

import { HPA_DEFAULTS, KEDA_DEFAULTS, resolveStackConfig, type StackConfig } from '../stack/contract.js';

/**
 * The autoscalers' timings the plan and the surge simulation use: the
 * reference stack's own settings for `target: reference`, else Kubernetes'
 * and KEDA's defaults. Times in seconds.
 */
export interface AutoscalerSettings {
  /** HPA sync period. */
  syncSec: number;
  /** The HPA acts only when current/target is outside 1 ± this. */
  tolerance: number;
  /** Scale-down stabilisation window. */
  scaleDownWindowSec: number;
  /** Scale-up policies: at most max(pods, percent) added per period. */
  scaleUpPods: number;
  scaleUpPercent: number;
  scaleUpPeriodSec: number;
  /** From a replica's creation until it takes traffic or jobs. */
  podStartupSec: number;
  /** KEDA's pollingInterval. */
  pollingSec: number;
  /** KEDA's cooldownPeriod (scale-down waits this long after the last higher count). */
  cooldownSec: number;
  source: 'reference stack' | 'kubernetes defaults';
}

/** capacity's own --pod-startup default for targets other than the reference stack (a pod's scheduling, image pull and start). */
export const DEFAULT_POD_STARTUP_MS = 30_000;

/** The reference stack's knobs as the scenario's `stack:` and SHOP_* variables resolve them (the stack's defaults when they do not resolve). */
function stackKnobsOf(stack: Record<string, unknown> | undefined, env: Readonly<Record<string, string | undefined>>): StackConfig {
  const resolved = resolveStackConfig({ parsed: stack, env });
  if (resolved.ok) return resolved.config;
  // Settings the stack refuses stop it at start (exit 7, with the problems); until then its defaults stand in.
  const defaults = resolveStackConfig({ env: {} });
  if (!defaults.ok) throw new Error(`the stack's defaults do not resolve: ${defaults.problems.join('; ')}`);
  return defaults.config;
}

export interface AutoscalerSettingsInput {
  reference: boolean;
  /** The scenario's `stack:` block (target: reference). */
  stack: Record<string, unknown> | undefined;
  env: Readonly<Record<string, string | undefined>>;
  /** --pod-startup, when given: it overrides the stack's podStartup and the default. */
  podStartupMs?: number;
}

/**
 * The timings for the plan: the reference stack's resolved settings
 * (resolveStackConfig: the scenario's `stack:`, then SHOP_* variables, then
 * the stack's defaults, which are HPA_DEFAULTS and KEDA_DEFAULTS), or for any
 * other target Kubernetes' and KEDA's defaults with --pod-startup (30 s).
 */
export function resolveAutoscalerSettings(input: AutoscalerSettingsInput): AutoscalerSettings {
  const given = input.podStartupMs === undefined ? undefined : input.podStartupMs / 1000;
  if (!input.reference) {
    return {
      syncSec: HPA_DEFAULTS.syncSec, tolerance: HPA_DEFAULTS.tolerance, scaleDownWindowSec: HPA_DEFAULTS.scaleDownWindowSec,
      scaleUpPods: HPA_DEFAULTS.scaleUpPods, scaleUpPercent: HPA_DEFAULTS.scaleUpPercent, scaleUpPeriodSec: HPA_DEFAULTS.scaleUpPeriodSec,
      podStartupSec: given ?? DEFAULT_POD_STARTUP_MS / 1000,
      pollingSec: KEDA_DEFAULTS.pollingSec, cooldownSec: KEDA_DEFAULTS.cooldownSec,
      source: 'kubernetes defaults',
    };
  }
  const k = stackKnobsOf(input.stack, input.env);
  return {
    syncSec: k.hpaSync / 1000,
    tolerance: k.hpaTolerance,
    scaleDownWindowSec: k.scaleDownWindow / 1000,
    scaleUpPods: k.scaleUpPods,
    scaleUpPercent: k.scaleUpPercent,
    scaleUpPeriodSec: k.scaleUpPeriod / 1000,
    podStartupSec: given ?? k.podStartup / 1000,
    pollingSec: k.pollingInterval / 1000,
    cooldownSec: k.cooldown / 1000,
    source: 'reference stack',
  };
}

/** The consumer processes the reference stack runs while capacity measures (its `consumers` setting). */
export function referenceConsumers(stack: Record<string, unknown> | undefined, env: Readonly<Record<string, string | undefined>>): number {
  return stackKnobsOf(stack, env).consumers;
}

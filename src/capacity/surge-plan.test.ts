import { describe, expect, it } from 'vitest';
import { planHpa, planKeda } from '../analyzers/autoscaler.js';
import { HPA_DEFAULTS } from '../stack/contract.js';
import { resolveAutoscalerSettings, type AutoscalerSettings } from './autoscaler-settings.js';
import { planSurgeProfile, predictSurge, recommendedScaleUpPods } from './surge-plan.js';
import { simulateSurge } from './surge-simulation.js';

const knee = (): number => 120;
const k8s = resolveAutoscalerSettings({ reference: false, stack: undefined, env: {}, podStartupMs: 0 });
const keda = planKeda({ secondsPerJob: 0.02, acceptableWaitSec: 30, peakJobRate: 150, headroom: 0.25 });

/** A plan for a ramp from 100 to `peak` it/s over 60 s, and its surge prediction. */
function predicted(peak: number, autoscaler: AutoscalerSettings = k8s, minReplicas = 2, maxReplicas = 40) {
  const rates = { baseRate: 100, peakRate: peak, rampSec: 60 };
  const hpa = planHpa({ kneePerReplica: knee, cpuAtKneePercent: 85.2, minReplicas, maxReplicas, ...rates, podStartupSec: autoscaler.podStartupSec, syncSec: autoscaler.syncSec });
  const prediction = predictSurge({
    hpa, keda: { ...keda, secondsPerJob: 0.02, jobsPerIteration: 0.3 }, kneePerReplica: knee, cpuAtKneePercent: 85.2,
    autoscaler, surge: planSurgeProfile(rates, autoscaler), queueWaitSec: 30,
  });
  return { hpa, prediction, rates };
}

describe('the recommended HPA Pods policy', () => {
  it('keeps Kubernetes\' 4 pods when the ramp needs fewer: the plan\'s pace never lowers it', () => {
    const { hpa, prediction } = predicted(500);
    expect(hpa.scaleUpPodsPer15s).toBeLessThan(HPA_DEFAULTS.scaleUpPods);
    expect(prediction.settings.autoscaler).toEqual(k8s);
    expect(prediction.notes.join()).not.toMatch(/Pods policy/);
  });

  it('is the ramp\'s pace when it needs more, and the surge is simulated with it', () => {
    const { hpa, prediction, rates } = predicted(3000);
    expect(hpa.scaleUpPodsPer15s).toBeGreaterThan(HPA_DEFAULTS.scaleUpPods);
    expect(prediction.settings.autoscaler).toEqual({ ...k8s, scaleUpPods: hpa.scaleUpPodsPer15s });
    expect(prediction.notes.join()).toContain(`the HPA's Pods policy is raised from 4 to ${hpa.scaleUpPodsPer15s} pods per 15 s`);
    // A scale-up adds more than Kubernetes' 4 pods and more than its 100%: only the raised policy allows that.
    const first = prediction.scaleEvents.find((e) => e.role === 'web' && e.to > e.from)!;
    expect(first.to - first.from).toBeGreaterThan(Math.max(HPA_DEFAULTS.scaleUpPods, first.from));
    // The same surge under the target's own 4 pods doubles at most.
    const own = simulateSurge({ phases: planSurgeProfile(rates, k8s).phases, profile: 'plan', autoscaler: k8s, web: prediction.settings.web, kneePerReplica: knee });
    const ownFirst = own.scaleEvents.find((e) => e.role === 'web' && e.to > e.from)!;
    expect(ownFirst.to).toBeLessThanOrEqual(2 * ownFirst.from);
  });

  it('scales the pace per 15 s to the scale-up period', () => {
    expect(recommendedScaleUpPods({ ...k8s, scaleUpPods: 4, scaleUpPeriodSec: 30 }, { scaleUpPodsPer15s: 3 })).toBe(6);
    expect(recommendedScaleUpPods({ ...k8s, scaleUpPods: 4, scaleUpPeriodSec: 15 }, { scaleUpPodsPer15s: 3 })).toBe(4);
    expect(recommendedScaleUpPods({ ...k8s, scaleUpPods: 10, scaleUpPeriodSec: 15 }, { scaleUpPodsPer15s: 7 })).toBe(10);
  });

  it('tells the reference stack which scaleUpPods runs what was predicted', () => {
    const stack = resolveAutoscalerSettings({ reference: true, stack: undefined, env: {} });
    const { hpa, prediction } = predicted(1500, stack);
    expect(prediction.settings.autoscaler.scaleUpPods).toBe(hpa.scaleUpPodsPer15s);
    expect(prediction.notes.join()).toContain(`the reference stack runs 4 unless its scaleUpPods is set to ${hpa.scaleUpPodsPer15s}`);
  });

  it('leaves a pinned count\'s policy alone: it never scales', () => {
    const { hpa, prediction } = predicted(1500, k8s, 20, 20);
    expect(hpa.pinned).toBe(true);
    expect(prediction.settings.autoscaler).toEqual(k8s);
  });
});

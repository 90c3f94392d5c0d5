import { describe, expect, it } from 'vitest';
import { HPA_DEFAULTS, KEDA_DEFAULTS } from '../stack/contract.js';
import { DEFAULT_POD_STARTUP_MS, referenceConsumers, resolveAutoscalerSettings } from './autoscaler-settings.js';

describe('resolveAutoscalerSettings', () => {
  it('gives other targets Kubernetes\' and KEDA\'s defaults, with the default or given pod start-up', () => {
    const k8s = resolveAutoscalerSettings({ reference: false, stack: undefined, env: {} });
    expect(k8s).toEqual({
      syncSec: HPA_DEFAULTS.syncSec, tolerance: HPA_DEFAULTS.tolerance, scaleDownWindowSec: HPA_DEFAULTS.scaleDownWindowSec,
      scaleUpPods: HPA_DEFAULTS.scaleUpPods, scaleUpPercent: HPA_DEFAULTS.scaleUpPercent, scaleUpPeriodSec: HPA_DEFAULTS.scaleUpPeriodSec,
      podStartupSec: DEFAULT_POD_STARTUP_MS / 1000, pollingSec: KEDA_DEFAULTS.pollingSec, cooldownSec: KEDA_DEFAULTS.cooldownSec, source: 'kubernetes defaults',
    });
    expect(resolveAutoscalerSettings({ reference: false, stack: undefined, env: {}, podStartupMs: 45_000 }).podStartupSec).toBe(45);
  });

  it('reads the reference stack\'s settings, whose start-up is 0 unless --pod-startup says otherwise', () => {
    const ref = resolveAutoscalerSettings({ reference: true, stack: undefined, env: {} });
    expect(ref).toMatchObject({ source: 'reference stack', syncSec: HPA_DEFAULTS.syncSec, pollingSec: KEDA_DEFAULTS.pollingSec, podStartupSec: 0 });
    expect(resolveAutoscalerSettings({ reference: true, stack: undefined, env: {}, podStartupMs: 5000 }).podStartupSec).toBe(5);
    expect(referenceConsumers(undefined, {})).toBe(1);
  });
});

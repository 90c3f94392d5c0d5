import { ScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { planHpa, planKeda } from '../analyzers/autoscaler.js';
import { resolveAutoscalerSettings, type AutoscalerSettings } from '../capacity/autoscaler-settings.js';
import { planSurgeProfile, predictSurge } from '../capacity/surge-plan.js';
import { HPA_DEFAULTS } from '../stack/contract.js';
import { redisAddressProblem } from './redis-address.js';
import { k8sNamesOf, kustomizationClash, KUSTOMIZE_FILE, renderK8s, renderKustomizeComponent, WEB_CONTAINER, type RecommendedAutoscalers } from './k8s.js';

const names = { deployment: 'shop', consumerDeployment: 'shop-order-worker', listName: 'bull:orders:wait' };
const hpa = planHpa({ kneePerReplica: () => 120, cpuAtKneePercent: 85.2, minReplicas: 2, maxReplicas: 8, baseRate: 100, peakRate: 500, rampSec: 60, podStartupSec: 30 });
const keda = planKeda({ secondsPerJob: 0.02, acceptableWaitSec: 30, peakJobRate: 150, headroom: 0.25 });

/** What capacity.json's plan.surge.settings holds for `hpa` and `keda`, made by the code that makes it. */
function recommended(autoscaler: AutoscalerSettings, h = hpa): RecommendedAutoscalers {
  return predictSurge({
    hpa: h, keda: { ...keda, secondsPerJob: 0.02, jobsPerIteration: 0.3 }, kneePerReplica: () => 120, cpuAtKneePercent: 85.2,
    autoscaler, surge: planSurgeProfile({ baseRate: 100, peakRate: 500, rampSec: 60 }, autoscaler), queueWaitSec: 30,
  }).settings;
}
const k8sDefaults = resolveAutoscalerSettings({ reference: false, stack: undefined, env: {} });
type Hpa = ConstructorParameters<typeof HorizontalPodAutoscaler>[0];
type So = ConstructorParameters<typeof ScaledObject>[0];

describe('renderK8s', () => {
  it('writes an autoscaling/v2 HPA that kubernetes-models validates, with the planned figures', () => {
    const files = renderK8s(hpa, keda, names);
    const doc = parse(files['hpa.yaml']!) as Record<string, unknown>;
    const model = new HorizontalPodAutoscaler(doc as ConstructorParameters<typeof HorizontalPodAutoscaler>[0]);
    expect(() => model.validate()).not.toThrow();
    expect(model.spec).toMatchObject({
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'shop' },
      minReplicas: hpa.minReplicas,
      maxReplicas: 8,
      metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: hpa.targetUtilizationPercent } } }],
    });
    expect(model.spec!.behavior!.scaleUp!.stabilizationWindowSeconds).toBe(0);
    expect(model.spec!.behavior!.scaleUp!.policies).toContainEqual({ type: 'Pods', value: hpa.scaleUpPodsPer15s, periodSeconds: 15 });
    expect(files['hpa.yaml']).toContain('resources.requests.cpu: 860m');
  });

  it('writes a KEDA ScaledObject with a redis trigger on the BullMQ waiting list', () => {
    const doc = parse(renderK8s(hpa, keda, names)['keda-scaledobject.yaml']!) as Record<string, unknown>;
    const model = new ScaledObject(doc as ConstructorParameters<typeof ScaledObject>[0]);
    expect(() => model.validate()).not.toThrow();
    expect(model.spec.scaleTargetRef.name).toBe('shop-order-worker');
    expect(model.spec.maxReplicaCount).toBe(keda.replicas);
    expect(model.spec.triggers).toEqual([{ type: 'redis', metadata: { addressFromEnv: 'REDIS_ADDRESS', passwordFromEnv: 'REDIS_PASSWORD', listName: 'bull:orders:wait', listLength: '1500' } }]);
  });

  it('without a Redis address reads REDIS_ADDRESS and says the consumer must define it as host:port', () => {
    const text = renderK8s(hpa, keda, names)['keda-scaledobject.yaml']!;
    expect(text).toContain("# The consumer container must define REDIS_ADDRESS=host:port (KEDA's redis trigger does not read a URL; the shop itself reads REDIS_URL, so set both).");
  });

  it("reads Redis's password from the consumer's REDIS_PASSWORD (a Redis with one answers NOAUTH without it) and says so", () => {
    const text = renderK8s(hpa, keda, names)['keda-scaledobject.yaml']!;
    expect(new ScaledObject(parse(text) as So).spec.triggers[0]!.metadata).toMatchObject({ passwordFromEnv: 'REDIS_PASSWORD' });
    expect(text).toContain("# KEDA reads Redis's password from the consumer container's REDIS_PASSWORD (define it, empty for a Redis without one).");
    expect(text).not.toContain('enableTLS');
  });

  it('with --redis-tls (capacity.json settings.redisTls) connects with TLS, and the ScaledObject stays valid', () => {
    const tlsNames = k8sNamesOf({ ...names, redisAddress: null, redisTls: true });
    expect(tlsNames.redisTls).toBe(true);
    const text = renderK8s(hpa, keda, tlsNames)['keda-scaledobject.yaml']!;
    const model = new ScaledObject(parse(text) as So);
    expect(() => model.validate()).not.toThrow();
    expect(model.spec.triggers[0]!.metadata).toMatchObject({ addressFromEnv: 'REDIS_ADDRESS', passwordFromEnv: 'REDIS_PASSWORD', enableTLS: 'true' });
    // An older capacity.json has no redisTls: no TLS.
    expect(k8sNamesOf({ ...names, redisAddress: null }).redisTls).toBeUndefined();
  });

  it('says in the file when the list name was not confirmed by the target', () => {
    const names2 = k8sNamesOf({ ...names, listNameSource: 'unconfirmed', redisAddress: null });
    expect(renderK8s(hpa, keda, names2)['keda-scaledobject.yaml']).toMatch(/^# UNCONFIRMED listName: bull:orders:wait is BullMQ's default/m);
    expect(renderK8s(hpa, keda, k8sNamesOf({ ...names, listNameSource: 'target' }))['keda-scaledobject.yaml']).not.toContain('UNCONFIRMED');
  });

  it('with a Redis address writes it into the trigger instead of addressFromEnv', () => {
    const text = renderK8s(hpa, keda, { ...names, redisAddress: 'redis-master.shop.svc:6379' })['keda-scaledobject.yaml']!;
    const model = new ScaledObject(parse(text) as ConstructorParameters<typeof ScaledObject>[0]);
    expect(() => model.validate()).not.toThrow();
    expect(model.spec.triggers).toEqual([{ type: 'redis', metadata: { address: 'redis-master.shop.svc:6379', passwordFromEnv: 'REDIS_PASSWORD', listName: 'bull:orders:wait', listLength: '1500' } }]);
    expect(text).not.toMatch(/REDIS_ADDRESS/);
  });

  it('says in hpa.yaml when minReplicas = maxReplicas pins the count, and the manifest stays valid', () => {
    const pinned = planHpa({ kneePerReplica: () => 120, cpuAtKneePercent: 85.2, minReplicas: 6, maxReplicas: 6, baseRate: 100, peakRate: 500, rampSec: 60, podStartupSec: 30 });
    expect(pinned.pinned).toBe(true);
    const text = renderK8s(pinned, keda, names)['hpa.yaml']!;
    expect(text).toContain('# minReplicas = maxReplicas = 6: this HPA pins shop at 6 replicas and never scales.');
    expect(text).toMatch(/# To size a real autoscaler, measure knees at 2 or more replica counts up to 6 \(e\.g\. scalectl capacity --replicas 2,4,6\)/);
    const model = new HorizontalPodAutoscaler(parse(text) as ConstructorParameters<typeof HorizontalPodAutoscaler>[0]);
    expect(() => model.validate()).not.toThrow();
    expect(model.spec).toMatchObject({ minReplicas: 6, maxReplicas: 6 });
    expect(renderK8s(hpa, keda, names)['hpa.yaml']).not.toMatch(/pins/);
  });

  it('writes no HPA when no CPU target can react to the surge in time', () => {
    const steep = planHpa({ kneePerReplica: () => 120, cpuAtKneePercent: 85.2, minReplicas: 2, maxReplicas: 8, baseRate: 100, peakRate: 5000, rampSec: 10, podStartupSec: 30 });
    expect(steep.feasible).toBe(false);
    expect(Object.keys(renderK8s(steep, keda, names))).toEqual(['keda-scaledobject.yaml']);
    // Even with a target left in (a hand-edited capacity.json), feasible: false withholds it.
    expect(renderK8s({ ...steep, targetUtilizationPercent: 40 }, keda, names)['hpa.yaml']).toBeUndefined();
  });

  it('the validators do reject a broken manifest (the checks above can fail)', () => {
    const doc = parse(renderK8s(hpa, keda, names)['hpa.yaml']!) as { spec: { maxReplicas: unknown } };
    doc.spec.maxReplicas = 'eight';
    expect(() => new HorizontalPodAutoscaler(doc as ConstructorParameters<typeof HorizontalPodAutoscaler>[0]).validate()).toThrow(/maxReplicas/);
  });

  it('writes no HPA without a CPU target and no ScaledObject without a time per job', () => {
    const files = renderK8s({ ...hpa, targetUtilizationPercent: null, cpuRequestMillicores: null }, { ...keda, listLengthPerReplica: null }, names);
    expect(files).toEqual({});
  });
});

describe('renderK8s with the recommended autoscalers (capacity.json plan.surge.settings)', () => {
  it('writes the HPA the surge was simulated with: bounds, target, scale-up policies, window, scale-down 100% per 15 s', () => {
    const settings = recommended(k8sDefaults);
    const text = renderK8s(hpa, keda, names, settings)['hpa.yaml']!;
    const model = new HorizontalPodAutoscaler(parse(text) as Hpa);
    expect(() => model.validate()).not.toThrow();
    expect(model.spec).toMatchObject({
      minReplicas: settings.web.minReplicas, maxReplicas: settings.web.maxReplicas,
      metrics: [{ resource: { target: { averageUtilization: hpa.targetUtilizationPercent } } }],
    });
    // The ramp needs fewer pods than Kubernetes' 4 per 15 s: the Pods policy stays at 4, as simulated.
    expect(hpa.scaleUpPodsPer15s).toBeLessThan(HPA_DEFAULTS.scaleUpPods);
    expect(model.spec!.behavior).toEqual({
      scaleUp: {
        stabilizationWindowSeconds: 0, selectPolicy: 'Max',
        policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }, { type: 'Pods', value: settings.autoscaler.scaleUpPods, periodSeconds: 15 }],
      },
      scaleDown: { stabilizationWindowSeconds: 300, selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] },
    });
    expect(settings.autoscaler.scaleUpPods).toBe(HPA_DEFAULTS.scaleUpPods);
    expect(text).toContain('# The surge prediction (capacity.json plan.surge) assumed this behavior, an HPA sync every 15 s with a 10% tolerance');
    expect(text).toContain('pods ready 30 s after they are created.');
  });

  it('writes the ScaledObject the surge was simulated with: bounds, listLength, polling interval, cooldown', () => {
    const settings = recommended(k8sDefaults);
    const model = new ScaledObject(parse(renderK8s(hpa, keda, names, settings)['keda-scaledobject.yaml']!) as So);
    expect(() => model.validate()).not.toThrow();
    expect(model.spec).toMatchObject({
      minReplicaCount: settings.consumer!.minReplicas, maxReplicaCount: settings.consumer!.maxReplicas,
      pollingInterval: 30, cooldownPeriod: 300,
      triggers: [{ metadata: { listLength: String(settings.consumer!.listLength) } }],
    });
  });

  it('carries every timing from the settings, not from defaults (a reference stack set otherwise)', () => {
    const stack = resolveAutoscalerSettings({
      reference: true, env: {},
      stack: { hpaSync: 10_000, hpaTolerance: 0.05, scaleDownWindow: 120_000, scaleUpPods: 7, scaleUpPercent: 50, scaleUpPeriod: 30_000, podStartup: 5_000, pollingInterval: 7_000, cooldown: 60_000 },
    });
    const settings = recommended(stack);
    const files = renderK8s(hpa, keda, names, settings);
    const h = new HorizontalPodAutoscaler(parse(files['hpa.yaml']!) as Hpa);
    expect(h.spec!.behavior).toMatchObject({
      scaleUp: { policies: [{ type: 'Percent', value: 50, periodSeconds: 30 }, { type: 'Pods', value: 7, periodSeconds: 30 }] },
      scaleDown: { stabilizationWindowSeconds: 120 },
    });
    expect(files['hpa.yaml']).toContain('an HPA sync every 10 s with a 5% tolerance');
    expect(files['hpa.yaml']).toContain('pods ready 5 s after');
    const so = new ScaledObject(parse(files['keda-scaledobject.yaml']!) as So);
    expect(so.spec).toMatchObject({ pollingInterval: 7, cooldownPeriod: 60 });
  });

  it('writes the raised Pods policy when the ramp needs more than the default', () => {
    const steep = planHpa({ kneePerReplica: () => 120, cpuAtKneePercent: 85.2, minReplicas: 2, maxReplicas: 40, baseRate: 100, peakRate: 3000, rampSec: 60, podStartupSec: 0 });
    const zero = { ...k8sDefaults, podStartupSec: 0 };
    expect(steep.scaleUpPodsPer15s).toBeGreaterThan(HPA_DEFAULTS.scaleUpPods);
    const settings = recommended(zero, steep);
    expect(settings.autoscaler.scaleUpPods).toBe(steep.scaleUpPodsPer15s);
    const model = new HorizontalPodAutoscaler(parse(renderK8s(steep, keda, names, settings)['hpa.yaml']!) as Hpa);
    expect(model.spec!.behavior!.scaleUp!.policies).toContainEqual({ type: 'Pods', value: steep.scaleUpPodsPer15s, periodSeconds: 15 });
  });

  it('without plan.surge (an older capacity.json) writes the manifests as before', () => {
    const files = renderK8s(hpa, keda, names);
    const h = new HorizontalPodAutoscaler(parse(files['hpa.yaml']!) as Hpa);
    expect(h.spec!.behavior).toEqual({
      scaleUp: {
        stabilizationWindowSeconds: 0, selectPolicy: 'Max',
        policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }, { type: 'Pods', value: hpa.scaleUpPodsPer15s, periodSeconds: 15 }],
      },
      scaleDown: { stabilizationWindowSeconds: 300, selectPolicy: 'Min', policies: [{ type: 'Percent', value: 20, periodSeconds: 60 }] },
    });
    expect(files['hpa.yaml']).not.toContain('surge prediction');
    const so = new ScaledObject(parse(files['keda-scaledobject.yaml']!) as So);
    expect(so.spec).toMatchObject({ minReplicaCount: 1, maxReplicaCount: keda.replicas, pollingInterval: 5, cooldownPeriod: 300 });
    expect(renderK8s(hpa, keda, names, null)).toEqual(files);
  });
});

describe('renderKustomizeComponent', () => {
  type Component = { kind: string; resources: string[]; patches: { target: { kind: string; name: string }; patch: string }[] };
  const patchesOf = (c: Component): Record<string, unknown>[] => c.patches.map((p) => parse(p.patch) as Record<string, unknown>);

  it("with hpa.yaml sets the web container's CPU request to the CPU at the knee the HPA's target is a percent of", () => {
    const files = renderK8s(hpa, keda, names);
    const c = parse(renderKustomizeComponent(Object.keys(files), names, hpa)) as Component;
    expect(c).toMatchObject({ kind: 'Component', resources: ['hpa.yaml', 'keda-scaledobject.yaml'] });
    expect(c.patches.map((p) => p.target)).toEqual([{ kind: 'Deployment', name: 'shop' }, { kind: 'Deployment', name: 'shop-order-worker' }, { kind: 'Deployment', name: 'shop' }]);
    expect(patchesOf(c)).toContainEqual({
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'shop' },
      spec: { template: { spec: { containers: [{ name: WEB_CONTAINER, resources: { requests: { cpu: `${hpa.cpuRequestMillicores}m` } } }] } } },
    });
    expect(patchesOf(c)).toContainEqual({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'shop-order-worker' }, spec: { replicas: null } });
  });

  it("of a Deployment that is not the reference shop's, patches no container by name and says which request to set", () => {
    const text = renderKustomizeComponent(['hpa.yaml'], { ...names, deployment: 'web' }, hpa);
    const c = parse(text) as Component;
    expect(c.patches.map((p) => p.target.name)).toEqual(['web']);
    expect(JSON.stringify(patchesOf(c))).not.toContain('cpu');
    expect(text).toContain(`# Set resources.requests.cpu: ${hpa.cpuRequestMillicores}m on the web container of web yourself`);
  });

  it('without hpa.yaml leaves the CPU request alone', () => {
    const c = parse(renderKustomizeComponent(['keda-scaledobject.yaml'], names, hpa)) as Component;
    expect(c.patches.map((p) => p.target.name)).toEqual(['shop-order-worker']);
    expect(JSON.stringify(patchesOf(c))).not.toContain('cpu');
  });
});

describe('kustomizationClash (--emit-k8s into a directory)', () => {
  const ours = renderKustomizeComponent(['hpa.yaml'], names, hpa);

  it('accepts a directory without a kustomization, or with the one scalectl wrote before', () => {
    expect(kustomizationClash('k8s', [])).toBeUndefined();
    expect(kustomizationClash('k8s', [{ name: KUSTOMIZE_FILE, text: ours }])).toBeUndefined();
  });

  it("refuses one holding someone's kustomization, whatever its name's case, and says where to emit instead", () => {
    for (const name of ['kustomization.yaml', 'kustomization.yml', 'Kustomization.YAML', 'kustomization']) {
      expect(kustomizationClash('overlay/', [{ name, text: 'resources: []\n' }]), name).toMatch(new RegExp(`^overlay/ holds ${name.replace('.', '\\.')}, a kustomization not written by scalectl: .*\\(e\\.g\\. overlay/autoscaling\\)`));
    }
    expect(kustomizationClash('k8s', [{ name: KUSTOMIZE_FILE, text: 'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n' }])).toMatch(/holds Kustomization/);
    expect(kustomizationClash('k8s', [{ name: KUSTOMIZE_FILE, text: ours }, { name: 'kustomization.yaml', text: '' }])).toMatch(/holds kustomization\.yaml/);
  });
});

describe('redisAddressProblem', () => {
  it('accepts host:port', () => {
    for (const v of ['redis:6379', 'redis-master.shop.svc.cluster.local:6379', '10.0.0.7:1', '[::1]:65535', 'my_redis:6380']) expect(redisAddressProblem(v)).toBeUndefined();
  });

  it('refuses a URL, a missing port or host, and ports out of range, in one line each', () => {
    expect(redisAddressProblem('redis://redis:6379')).toMatch(/without a scheme.*does not read a URL/);
    expect(redisAddressProblem('rediss://u:p@redis:6379/0')).toMatch(/without a scheme/);
    expect(redisAddressProblem('redis')).toMatch(/no port/);
    expect(redisAddressProblem(':6379')).toMatch(/no host/);
    expect(redisAddressProblem('user@redis:6379')).toMatch(/not a host name/);
    expect(redisAddressProblem('redis/0:6379')).toMatch(/not a host name/);
    for (const port of ['0', '65536', '', 'http', '-1', '6379.5']) expect(redisAddressProblem(`redis:${port}`)).toMatch(/port must be a whole number from 1 to 65535/);
    for (const v of ['redis://x:1', 'x', 'x:0']) expect(redisAddressProblem(v)).not.toContain('\n');
  });
});

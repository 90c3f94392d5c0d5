import { ScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { planHpa, planKeda } from '../analyzers/autoscaler.js';
import { renderK8s } from './k8s.js';

const names = { deployment: 'shop', consumerDeployment: 'shop-order-worker', listName: 'bull:orders:wait' };
const hpa = planHpa({ kneePerReplica: () => 120, cpuAtKneePercent: 85.2, minReplicas: 2, maxReplicas: 8, baseRate: 100, peakRate: 500, rampSec: 60, podStartupSec: 30 });
const keda = planKeda({ secondsPerJob: 0.02, acceptableWaitSec: 30, peakJobRate: 150, headroom: 0.25 });

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
    expect(model.spec.triggers).toEqual([{ type: 'redis', metadata: { addressFromEnv: 'REDIS_ADDRESS', listName: 'bull:orders:wait', listLength: '1500' } }]);
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

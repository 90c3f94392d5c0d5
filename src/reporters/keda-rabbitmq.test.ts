import { ScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { planKeda } from '../analyzers/autoscaler.js';
import { planHpa } from '../analyzers/autoscaler.js';
import { resolveAutoscalerSettings } from '../capacity/autoscaler-settings.js';
import { planSurgeProfile, predictSurge } from '../capacity/surge-plan.js';
import { eventQueue, EVENT_CONSUMERS } from '../stack/contract.js';
import { k8sNamesOf, renderK8s } from './k8s.js';

type So = ConstructorParameters<typeof ScaledObject>[0];
const settings = { deployment: 'shop', consumerDeployment: 'shop-order-worker', listName: 'shop:bull:orders:wait', listNameSource: 'target', redisAddress: null };
const hpa = planHpa({ kneePerReplica: () => 120, cpuAtKneePercent: 85.2, minReplicas: 2, maxReplicas: 8, baseRate: 100, peakRate: 500, rampSec: 60, podStartupSec: 30 });
const keda = planKeda({ secondsPerJob: 0.02, acceptableWaitSec: 30, peakJobRate: 150, headroom: 0.25 });
const queues = EVENT_CONSUMERS.map((c) => eventQueue('shop', c));
const scaledObject = (text: string): ScaledObject => new ScaledObject(parse(text) as So);

describe('the rabbitmq triggers of the consumers\' ScaledObject', () => {
  it('adds one per event queue, on its length per replica (the redis listLength), the broker URL from AMQP_URL; KEDA\'s model validates it', () => {
    const text = renderK8s(hpa, keda, k8sNamesOf({ ...settings, eventQueues: queues }))['keda-scaledobject.yaml']!;
    const model = scaledObject(text);
    expect(() => model.validate()).not.toThrow();
    const [redis, ...rabbit] = model.spec.triggers;
    expect(redis).toMatchObject({ type: 'redis', metadata: { listName: 'shop:bull:orders:wait', listLength: String(keda.listLengthPerReplica) } });
    expect(rabbit).toEqual(['shop.events.inventory', 'shop.events.email', 'shop.events.analytics'].map((queueName) => ({
      type: 'rabbitmq', metadata: { protocol: 'amqp', queueName, mode: 'QueueLength', value: String(keda.listLengthPerReplica), hostFromEnv: 'AMQP_URL' },
    })));
    expect(text).toContain('# The consumer container must define AMQP_URL=amqp://user:password@host:5672/vhost');
    expect(text).toContain('# The rabbitmq triggers watch the event queues shop.events.inventory, shop.events.email, shop.events.analytics');
  });

  it('with the recommended autoscalers, the value is the simulated listLength', () => {
    const autoscaler = resolveAutoscalerSettings({ reference: false, stack: undefined, env: {} });
    const recommended = predictSurge({
      hpa, keda: { ...keda, secondsPerJob: 0.02, jobsPerIteration: 0.3 }, kneePerReplica: () => 120, cpuAtKneePercent: 85.2,
      autoscaler, surge: planSurgeProfile({ baseRate: 100, peakRate: 500, rampSec: 60 }, autoscaler), queueWaitSec: 30,
    }).settings;
    const model = scaledObject(renderK8s(hpa, keda, k8sNamesOf({ ...settings, eventQueues: ['a.events.email'] }), recommended)['keda-scaledobject.yaml']!);
    expect(() => model.validate()).not.toThrow();
    expect(model.spec.triggers.map((t) => t.metadata)).toEqual([
      expect.objectContaining({ listLength: String(recommended.consumer!.listLength) }),
      expect.objectContaining({ queueName: 'a.events.email', value: String(recommended.consumer!.listLength) }),
    ]);
  });

  it('without the broker (no event queues, or a capacity.json from before them) the files are unchanged', () => {
    const before = renderK8s(hpa, keda, k8sNamesOf(settings));
    expect(renderK8s(hpa, keda, k8sNamesOf({ ...settings, eventQueues: [] }))).toEqual(before);
    expect(before['keda-scaledobject.yaml']).not.toMatch(/rabbitmq|AMQP/);
    expect(scaledObject(before['keda-scaledobject.yaml']!).spec.triggers.map((t) => t.type)).toEqual(['redis']);
  });

  it('the validator does reject a broken trigger (the check above can fail)', () => {
    const doc = parse(renderK8s(hpa, keda, k8sNamesOf({ ...settings, eventQueues: queues }))['keda-scaledobject.yaml']!) as { spec: { triggers: { type: unknown }[] } };
    doc.spec.triggers[1]!.type = 7;
    expect(() => new ScaledObject(doc as unknown as So).validate()).toThrow(/type/);
  });
});

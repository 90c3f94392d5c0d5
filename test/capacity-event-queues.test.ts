import { ScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { planHpa, planKeda } from '../src/analyzers/autoscaler.js';
import { targetQueues } from '../src/capacity/target-queues.js';
import { k8sNamesOf, renderK8s } from '../src/reporters/k8s.js';
import { startMetricsServer, type MetricsServer } from './helpers/metrics-server.js';

let server: MetricsServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const info = (broker: string): string => [
  'shop_queue_info{queue="orders",backend="redis",wait_list="shop:bull:orders:wait"} 1',
  ...['inventory', 'email', 'analytics'].map((c) => `shop_events_info{broker="${broker}",consumer="${c}",queue="${broker === 'rabbitmq' ? `shop.events.${c}` : 'orders'}"} 1`),
].join('\n') + '\n';

describe('the queues capacity learns from the target\'s metrics, into the ScaledObject', () => {
  it('with the broker: the waiting list and the event queues, and a rabbitmq trigger each', async () => {
    server = await startMetricsServer(() => info('rabbitmq'));
    const named = await targetQueues([server.metricsUrl], 'orders');
    expect(named).toEqual({ list: 'shop:bull:orders:wait', eventQueues: ['shop.events.analytics', 'shop.events.email', 'shop.events.inventory'] });
    const hpa = planHpa({ kneePerReplica: () => 120, cpuAtKneePercent: 85, minReplicas: 2, maxReplicas: 8, baseRate: 100, peakRate: 500, rampSec: 60, podStartupSec: 30 });
    const keda = planKeda({ secondsPerJob: 0.02, acceptableWaitSec: 30, peakJobRate: 150, headroom: 0.25 });
    const names = k8sNamesOf({ deployment: 'shop', consumerDeployment: 'shop-order-worker', listName: named.list!, listNameSource: 'target', eventQueues: named.eventQueues });
    const model = new ScaledObject(parse(renderK8s(hpa, keda, names)['keda-scaledobject.yaml']!) as ConstructorParameters<typeof ScaledObject>[0]);
    expect(() => model.validate()).not.toThrow();
    expect(model.spec.triggers.map((t) => [t.type, t.metadata.queueName ?? t.metadata.listName])).toEqual([
      ['redis', 'shop:bull:orders:wait'], ['rabbitmq', 'shop.events.analytics'], ['rabbitmq', 'shop.events.email'], ['rabbitmq', 'shop.events.inventory'],
    ]);
  });

  it('without the broker no event queue; an endpoint that serves no metrics (here plain text) names nothing', async () => {
    server = await startMetricsServer(() => info('queue'));
    expect(await targetQueues([server.metricsUrl], 'orders')).toEqual({ list: 'shop:bull:orders:wait', eventQueues: [] });
    expect(await targetQueues([`${server.url}/metrics-not-here`], 'orders')).toEqual({});
    expect(await targetQueues([], 'orders')).toEqual({});
  });
});

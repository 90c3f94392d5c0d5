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

/** The shop's info series: with the broker, RabbitMQ queues; without it (external backends), a BullMQ queue per consumer. */
const info = (broker: string): string => [
  'shop_queue_info{queue="orders",backend="bullmq",wait_list="shop:bull:orders:wait"} 1',
  ...['inventory', 'email', 'analytics'].map((c) => (broker === 'rabbitmq'
    ? `shop_events_info{broker="rabbitmq",consumer="${c}",queue="shop.events.${c}"} 1`
    : `shop_events_info{broker="queue",consumer="${c}",queue="events.${c}",wait_list="shop:bull:events.${c}:wait"} 1`)),
].join('\n') + '\n';

const hpa = planHpa({ kneePerReplica: () => 120, cpuAtKneePercent: 85, minReplicas: 2, maxReplicas: 8, baseRate: 100, peakRate: 500, rampSec: 60, podStartupSec: 30 });
const keda = planKeda({ secondsPerJob: 0.02, acceptableWaitSec: 30, peakJobRate: 150, headroom: 0.25 });
const scaledObject = (named: Awaited<ReturnType<typeof targetQueues>>): ScaledObject => {
  const names = k8sNamesOf({ deployment: 'shop', consumerDeployment: 'shop-order-worker', listName: named.list!, listNameSource: 'target', eventQueues: named.eventQueues, eventWaitLists: named.eventWaitLists });
  const model = new ScaledObject(parse(renderK8s(hpa, keda, names)['keda-scaledobject.yaml']!) as ConstructorParameters<typeof ScaledObject>[0]);
  expect(() => model.validate()).not.toThrow();
  return model;
};

describe('the queues capacity learns from the target\'s metrics, into the ScaledObject', () => {
  it('with the broker: the waiting list and the event queues, and a rabbitmq trigger each', async () => {
    server = await startMetricsServer(() => info('rabbitmq'));
    const named = await targetQueues([server.metricsUrl], 'orders');
    expect(named).toEqual({ list: 'shop:bull:orders:wait', eventQueues: ['shop.events.analytics', 'shop.events.email', 'shop.events.inventory'], eventWaitLists: [] });
    expect(scaledObject(named).spec.triggers.map((t) => [t.type, t.metadata.queueName ?? t.metadata.listName])).toEqual([
      ['redis', 'shop:bull:orders:wait'], ['rabbitmq', 'shop.events.analytics'], ['rabbitmq', 'shop.events.email'], ['rabbitmq', 'shop.events.inventory'],
    ]);
  });

  it('without the broker: each event queue (its own BullMQ list) gets a redis trigger at the same listLength', async () => {
    server = await startMetricsServer(() => info('queue'));
    const named = await targetQueues([server.metricsUrl], 'orders');
    expect(named).toEqual({ list: 'shop:bull:orders:wait', eventQueues: [], eventWaitLists: ['shop:bull:events.analytics:wait', 'shop:bull:events.email:wait', 'shop:bull:events.inventory:wait'] });
    const triggers = scaledObject(named).spec.triggers;
    expect(triggers.map((t) => [t.type, t.metadata.listName])).toEqual([
      ['redis', 'shop:bull:orders:wait'], ['redis', 'shop:bull:events.analytics:wait'], ['redis', 'shop:bull:events.email:wait'], ['redis', 'shop:bull:events.inventory:wait'],
    ]);
    expect(new Set(triggers.map((t) => t.metadata.listLength))).toEqual(new Set([String(keda.listLengthPerReplica)]));
  });

  it('an endpoint that serves no metrics (here plain text) names nothing', async () => {
    server = await startMetricsServer(() => info('queue'));
    expect(await targetQueues([`${server.url}/metrics-not-here`], 'orders')).toEqual({});
    expect(await targetQueues([], 'orders')).toEqual({});
  });
});

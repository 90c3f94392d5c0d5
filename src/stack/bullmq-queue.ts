import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { fastFailRedis } from './cache.js';
import { MAX_ATTEMPTS, type JobQueue } from './job-queue.js';
import { ORDER_QUEUE } from './protocol.js';

export interface BullQueueOptions {
  url: string;
  keyPrefix: string;
  concurrency: number;
}

/**
 * The external backends' job queue: BullMQ on Redis. The job id is the order
 * id, so a relay that enqueues an order twice (it crashed before deleting its
 * outbox row) adds one job while the first is still queued.
 */
export function createBullQueue(opts: BullQueueOptions): JobQueue {
  const prefix = `${opts.keyPrefix}:bull`;
  // The producer fails fast while Redis is down; the outbox keeps the orders until it returns.
  const producer = fastFailRedis(opts.url, undefined, 2_000);
  const queue = new Queue(ORDER_QUEUE, { connection: producer, prefix });
  queue.on('error', () => undefined);
  let worker: Worker | undefined;
  let workerConnection: Redis | undefined;
  return {
    async enqueue(orderIds) {
      if (orderIds.length === 0) return;
      await queue.addBulk(orderIds.map((id) => ({
        name: 'process-order',
        data: { orderId: id },
        opts: { jobId: id, attempts: MAX_ATTEMPTS, backoff: { type: 'exponential', delay: 200 }, removeOnComplete: true, removeOnFail: 10_000 },
      })));
    },
    async missingJobs(orderIds) {
      const states = await Promise.all(orderIds.map((id) => queue.getJobState(id)));
      // A job kept in `failed` (removeOnFail) holds the order id: BullMQ would ignore a new add with it.
      const dead = orderIds.filter((_, i) => states[i] === 'failed' || states[i] === 'completed');
      await Promise.all(dead.map((id) => queue.remove(id)));
      return orderIds.filter((_, i) => states[i] === 'unknown' || states[i] === 'failed' || states[i] === 'completed');
    },
    start(handler, onGiveUp) {
      // Blocking commands need retries without limit (BullMQ's requirement for workers).
      workerConnection = new Redis(opts.url, { maxRetriesPerRequest: null, retryStrategy: (t) => Math.min(t * 100, 1_000) });
      workerConnection.on('error', () => undefined);
      worker = new Worker<{ orderId: string }>(ORDER_QUEUE, async (job) => handler(job.data.orderId), {
        connection: workerConnection, prefix, concurrency: opts.concurrency,
      });
      worker.on('error', () => undefined); // connection errors during an outage; the worker reconnects
      worker.on('failed', (job, err) => {
        // finishedOn is set once BullMQ will not retry: attempts used up, or stalled too often.
        if (job?.finishedOn) void onGiveUp(job.data.orderId, err).catch(() => undefined);
      });
    },
    async counts() {
      const c = await queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'prioritized', 'waiting-children');
      return { waiting: (c.waiting ?? 0) + (c.prioritized ?? 0) + (c['waiting-children'] ?? 0), active: c.active ?? 0, delayed: c.delayed ?? 0, failed: c.failed ?? 0 };
    },
    async close(deadlineMs) {
      if (worker) {
        const w = worker;
        // A graceful close waits for active jobs. Past the deadline we stop waiting and drop the
        // connection (a second close() call would only return the first): the unfinished jobs'
        // locks expire and another worker takes them as stalled.
        let timer: NodeJS.Timeout | undefined;
        const late = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), deadlineMs)));
        const outcome = await Promise.race([w.close().then(() => 'closed' as const, () => 'closed' as const), late]);
        clearTimeout(timer);
        if (outcome === 'late') workerConnection?.disconnect();
      }
      await queue.close().catch(() => undefined);
      workerConnection?.disconnect();
      producer.disconnect();
    },
  };
}

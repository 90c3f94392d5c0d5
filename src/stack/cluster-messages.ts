import type { Registry } from 'prom-client';

/** A registry's series as JSON, as prom-client aggregates them. */
export type MetricsJson = Awaited<ReturnType<Registry['getMetricsAsJSON']>>;

/** IPC between the stack's primary and its workers. */
export const MSG = {
  ready: 'scalectl:ready',
  failed: 'scalectl:failed',
  metricsRequest: 'scalectl:metrics',
  metricsReply: 'scalectl:metrics-reply',
  shutdown: 'scalectl:shutdown',
  metricsCollect: 'scalectl:metrics-collect',
  metricsJson: 'scalectl:metrics-json',
} as const;

/** Worker → primary. */
export type WorkerMessage =
  | { type: typeof MSG.ready; port: number }
  | { type: typeof MSG.failed; message: string }
  | { type: typeof MSG.metricsRequest; id: string }
  /** This worker's own series, for the primary to merge. */
  | { type: typeof MSG.metricsJson; id: string; metrics: MetricsJson };

/** Primary → worker. */
export type PrimaryMessage =
  | { type: typeof MSG.metricsReply; id: string; contentType: string; body: string }
  | { type: typeof MSG.shutdown; deadlineMs: number }
  | { type: typeof MSG.metricsCollect; id: string };

import type { Registry } from 'prom-client';

/** A registry's series as JSON, as prom-client aggregates them. */
export type MetricsJson = Awaited<ReturnType<Registry['getMetricsAsJSON']>>;

/** How long past its drain deadline a process may take before the primary kills it: its last steps (the trace flush) fit in this. */
export const DRAIN_KILL_GRACE_MS = 3_000;

/** IPC between the stack's primary and its workers. */
export const MSG = {
  ready: 'scalectl:ready',
  failed: 'scalectl:failed',
  metricsRequest: 'scalectl:metrics',
  metricsReply: 'scalectl:metrics-reply',
  shutdown: 'scalectl:shutdown',
  metricsCollect: 'scalectl:metrics-collect',
  metricsJson: 'scalectl:metrics-json',
  rateLimitHit: 'scalectl:ratelimit-hit',
  rateLimitCount: 'scalectl:ratelimit-count',
  cpuRequest: 'scalectl:cpu',
  cpuReply: 'scalectl:cpu-reply',
  rebalance: 'scalectl:rebalance',
} as const;

/** Worker → primary. */
export type WorkerMessage =
  /** Serving (web: listening on `port`) or consuming (consumer: no port). */
  | { type: typeof MSG.ready; port?: number }
  | { type: typeof MSG.failed; message: string }
  | { type: typeof MSG.metricsRequest; id: string }
  /** This worker's own series, for the primary to merge. */
  | { type: typeof MSG.metricsJson; id: string; metrics: MetricsJson }
  /** A rate-limited request from `key`: the primary counts it in the client's window (embedded mode). */
  | { type: typeof MSG.rateLimitHit; id: string; key: string; windowMs: number }
  /** This process's CPU time so far (user + system), in seconds. */
  | { type: typeof MSG.cpuReply; id: string; seconds: number };

/** Primary → worker. */
export type PrimaryMessage =
  | { type: typeof MSG.metricsReply; id: string; contentType: string; body: string }
  | { type: typeof MSG.shutdown; deadlineMs: number }
  | { type: typeof MSG.metricsCollect; id: string }
  /** The client's count in its window, and ms until the window ends. */
  | { type: typeof MSG.rateLimitCount; id: string; current: number; ttl: number }
  /** Asks for the process's CPU time (the web autoscaler's sample). */
  | { type: typeof MSG.cpuRequest; id: string }
  /** A web worker joined: end every connection open now after its next answer, so clients reconnect and spread. */
  | { type: typeof MSG.rebalance };

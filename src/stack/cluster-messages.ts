/** IPC between the stack's primary and its workers. */
export const MSG = {
  ready: 'scalectl:ready',
  metricsRequest: 'scalectl:metrics',
  metricsReply: 'scalectl:metrics-reply',
  shutdown: 'scalectl:shutdown',
} as const;

/** Worker → primary. */
export type WorkerMessage =
  | { type: typeof MSG.ready; port: number }
  | { type: typeof MSG.metricsRequest; id: string };

/** Primary → worker. */
export type PrimaryMessage =
  | { type: typeof MSG.metricsReply; id: string; contentType: string; body: string }
  | { type: typeof MSG.shutdown; deadlineMs: number };

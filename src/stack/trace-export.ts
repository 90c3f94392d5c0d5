import { setTimeout as sleep } from 'node:timers/promises';
import { ExportResultCode, setGlobalErrorHandler } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, NodeTracerProvider, type SpanExporter, type SpanProcessor } from '@opentelemetry/sdk-trace-node';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import type { StackConfig } from './stack-config.js';
import { currentTracer, setTracer } from './tracing.js';

/** Spans waiting for export at most; beyond it new ones are dropped (a down collector costs memory up to here, never requests). */
const MAX_QUEUE = 2048;
/** A batch leaves as soon as this many spans are queued, else every BATCH_DELAY_MS. */
const MAX_BATCH = 512;
/** How often a batch leaves (the SDK's default is 5 s; a second keeps a trace visible while a test or a person looks). */
const BATCH_DELAY_MS = 1_000;
/** One export waits this long for the collector. */
const EXPORT_TIMEOUT_MS = 5_000;
/**
 * A drain gives the last spans this long to leave, after its deadline: the same in every process, and inside the
 * 3 s the primary waits past the deadline before it kills a process (worker-pool.ts).
 */
export const FLUSH_MS = 2_000;

export interface Tracing {
  /** Flushes what is queued (for FLUSH_MS, or `budgetMs` when less), stops recording and reports the spans lost, if any. */
  shutdown: (budgetMs?: number) => Promise<void>;
}

export interface TracingHost {
  /** web, consumer or all: a resource attribute. */
  role: string;
  /** The service instance: one per process. */
  workerId: string;
  /** A line for the operator: said once per collector outage, and with the count of lost spans at shutdown. */
  warn: (msg: string, fields?: Record<string, unknown>) => void;
}

/** Spans ended and spans the collector took: the difference is what was lost (failed exports, a full queue, spans left at shutdown). */
interface Tally { ended: number; delivered: number; down: boolean }

/** Says once per outage that the collector does not take spans (without a stack: it is the collector's state, not a bug). */
function outage(tally: Tally, host: TracingHost, err: unknown): void {
  if (tally.down) return;
  tally.down = true;
  host.warn('tracing: the OTLP collector did not take a batch; spans are dropped while it is unreachable (requests are not affected)', { err: err instanceof Error ? err.message : String(err) });
}

/** The running exporter's tally and host: the SDK's global error handler (an export that failed or threw) lands here. */
let current: { tally: Tally; host: TracingHost } | undefined;
// The SDK's default handler logs each error with its stack through diag: an outage is said once, by outage().
setGlobalErrorHandler((err) => {
  if (current) outage(current.tally, current.host, err);
});

/** The exporter, counting the spans the collector took. */
function countingExporter(inner: SpanExporter, host: TracingHost, tally: Tally): SpanExporter {
  return {
    export(spans, done) {
      inner.export(spans, (result) => {
        if (result.code === ExportResultCode.SUCCESS) {
          tally.delivered += spans.length;
          tally.down = false;
        } else outage(tally, host, result.error ?? 'export failed');
        done(result);
      });
    },
    shutdown: () => inner.shutdown(),
    forceFlush: () => inner.forceFlush?.() ?? Promise.resolve(),
  };
}

/** The batch processor, counting every span ended (those it drops when its queue is full included). */
function countingProcessor(inner: SpanProcessor, tally: Tally): SpanProcessor {
  return {
    onStart: (span, ctx) => inner.onStart(span, ctx),
    onEnd: (span) => {
      tally.ended++;
      inner.onEnd(span);
    },
    shutdown: () => inner.shutdown(),
    forceFlush: () => inner.forceFlush(),
  };
}

/** Where spans are sent: the endpoint as given when it ends with /v1/traces (a traces endpoint), else the base endpoint + /v1/traces. */
export function tracesUrl(endpoint: string): string {
  // Parsed, so a query string stays last and surrounding whitespace (a secret's trailing newline) goes.
  const url = new URL(endpoint.trim());
  const path = url.pathname.replace(/\/+$/, '');
  url.pathname = path.endsWith('/v1/traces') ? path : `${path}/v1/traces`;
  return url.href;
}

/**
 * Records spans and exports them over OTLP/HTTP (JSON) to
 * tracesUrl(`config.otlpEndpoint`) in batches, when set; otherwise spans
 * are ids only (tracing.ts) and this does nothing. Requests never wait for
 * the collector: a span joins a bounded queue that a timer drains.
 */
export function startTracing(config: StackConfig, host: TracingHost): Tracing {
  if (!config.otlpEndpoint) return { shutdown: async () => undefined };
  const tally: Tally = { ended: 0, delivered: 0, down: false };
  const exporter = new OTLPTraceExporter({ url: tracesUrl(config.otlpEndpoint), timeoutMillis: EXPORT_TIMEOUT_MS });
  const batches = new BatchSpanProcessor(countingExporter(exporter, host, tally), {
    maxQueueSize: MAX_QUEUE, maxExportBatchSize: MAX_BATCH, scheduledDelayMillis: BATCH_DELAY_MS, exportTimeoutMillis: EXPORT_TIMEOUT_MS,
  });
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: 'scalectl-shop', 'service.instance.id': host.workerId, 'scalectl.role': host.role }),
    spanProcessors: [countingProcessor(batches, tally)],
  });
  const tracer = provider.getTracer('scalectl-shop');
  setTracer(tracer);
  current = { tally, host };
  return {
    async shutdown(budgetMs = FLUSH_MS) {
      if (currentTracer() === tracer) setTracer(undefined);
      await Promise.race([provider.shutdown().catch(() => undefined), sleep(Math.max(0, Math.min(FLUSH_MS, budgetMs)), undefined, { ref: false })]);
      if (current?.tally === tally) current = undefined;
      const lost = tally.ended - tally.delivered;
      if (lost > 0) host.warn('tracing: spans lost (the OTLP collector was unreachable or slow, or the queue was full)', { spans: lost });
    },
  };
}

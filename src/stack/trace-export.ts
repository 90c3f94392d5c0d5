import { setTimeout as sleep } from 'node:timers/promises';
import { diag, DiagLogLevel } from '@opentelemetry/api';
import { ExportResultCode } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, NodeTracerProvider, type SpanExporter } from '@opentelemetry/sdk-trace-node';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import type { StackConfig } from './stack-config.js';
import { currentTracer, setTracer } from './tracing.js';

/** Spans waiting for export at most; beyond it new ones are dropped (a down collector costs memory up to here, never requests). */
const MAX_QUEUE = 2048;
/** How often a batch leaves (the SDK's default is 5 s; a second keeps a trace visible while a test or a person looks). */
const BATCH_DELAY_MS = 1_000;
/** One export waits this long for the collector. */
const EXPORT_TIMEOUT_MS = 5_000;
/** A drain waits at most this long for the last spans to leave. */
const FLUSH_MS = 3_000;

export interface Tracing {
  /** Flushes what is queued (bounded by the deadline and FLUSH_MS) and stops recording. */
  shutdown: (deadlineMs: number) => Promise<void>;
}

export interface TracingHost {
  /** web, consumer or all: a resource attribute. */
  role: string;
  /** The service instance: one per process. */
  workerId: string;
  /** A line for the operator: said once when spans are first lost, and with the count at shutdown. */
  warn: (msg: string, fields?: Record<string, unknown>) => void;
}

/** Where diag lines of the SDK go (queue full, exporter errors): the running shop's warn, at most one a minute. */
let diagSink: TracingHost['warn'] | undefined;
let lastDiag = 0;
diag.setLogger({
  error: (msg) => forwardDiag(msg),
  warn: (msg) => forwardDiag(msg),
  info: () => undefined, debug: () => undefined, verbose: () => undefined,
}, DiagLogLevel.WARN);
function forwardDiag(msg: string): void {
  if (!diagSink || Date.now() - lastDiag < 60_000) return;
  lastDiag = Date.now();
  diagSink(`tracing: ${msg}`);
}

/** The exporter, counting the spans a failed export lost. */
function countingExporter(inner: SpanExporter, host: TracingHost, lost: { spans: number }): SpanExporter {
  return {
    export(spans, done) {
      inner.export(spans, (result) => {
        if (result.code !== ExportResultCode.SUCCESS) {
          if (lost.spans === 0) host.warn('tracing: the OTLP collector did not take a batch; spans are dropped while it is unreachable (requests are not affected)', { err: String(result.error?.message ?? result.error) });
          lost.spans += spans.length;
        }
        done(result);
      });
    },
    shutdown: () => inner.shutdown(),
    forceFlush: () => inner.forceFlush?.() ?? Promise.resolve(),
  };
}

/** Where spans are sent: the endpoint as given when it ends with /v1/traces (a traces endpoint), else the base endpoint + /v1/traces. */
export function tracesUrl(endpoint: string): string {
  const base = endpoint.replace(/\/+$/, '');
  return base.endsWith('/v1/traces') ? base : `${base}/v1/traces`;
}

/**
 * Records spans and exports them over OTLP/HTTP (JSON) to
 * `config.otlpEndpoint` + `/v1/traces` in batches, when set; otherwise spans
 * are ids only (tracing.ts) and this does nothing. Requests never wait for
 * the collector: a span joins a bounded queue that a timer drains.
 */
export function startTracing(config: StackConfig, host: TracingHost): Tracing {
  if (!config.otlpEndpoint) return { shutdown: async () => undefined };
  const lost = { spans: 0 };
  const exporter = new OTLPTraceExporter({ url: tracesUrl(config.otlpEndpoint), timeoutMillis: EXPORT_TIMEOUT_MS });
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: 'scalectl-shop', 'service.instance.id': host.workerId, 'scalectl.role': host.role }),
    spanProcessors: [new BatchSpanProcessor(countingExporter(exporter, host, lost), {
      maxQueueSize: MAX_QUEUE, maxExportBatchSize: 512, scheduledDelayMillis: BATCH_DELAY_MS, exportTimeoutMillis: EXPORT_TIMEOUT_MS,
    })],
  });
  const tracer = provider.getTracer('scalectl-shop');
  setTracer(tracer);
  diagSink = host.warn;
  return {
    async shutdown(deadlineMs) {
      if (currentTracer() === tracer) {
        setTracer(undefined);
        diagSink = undefined;
      }
      await Promise.race([provider.shutdown().catch(() => undefined), sleep(Math.min(deadlineMs, FLUSH_MS), undefined, { ref: false })]);
      if (lost.spans > 0) host.warn('tracing: spans lost because the OTLP collector was unreachable', { spans: lost.spans });
    },
  };
}

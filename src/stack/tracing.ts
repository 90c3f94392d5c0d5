import {
  context, defaultTextMapGetter, isSpanContextValid, ROOT_CONTEXT, SpanKind as OtelSpanKind, SpanStatusCode, trace, TraceFlags,
  type Context, type Span, type Tracer,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { RandomIdGenerator } from '@opentelemetry/sdk-trace-node';

/*
 * The shop's traces (docs/reference-stack.md#traces). What the rest of the
 * shop calls; OpenTelemetry's SDK stays behind these functions (the exporter
 * is set up by trace-export.ts). Without an exporter no span is recorded,
 * yet every request and order still gets ids: they are propagated (W3C
 * traceparent) and written in log lines, so a trace id scalectl keeps can be
 * looked up in the logs.
 */

/** The kind of a span, as OpenTelemetry names them. */
export type SpanKind = 'server' | 'client' | 'producer' | 'consumer' | 'internal';

type Attributes = Record<string, string | number | boolean>;

export interface SpanOptions {
  kind?: SpanKind;
  /** Attributes set on the span. */
  attributes?: Attributes;
  /** A W3C traceparent to continue (a job or an event carried it across a queue); default: the active span. */
  parent?: string;
  /** The W3C tracestate sent with `parent` (a request's header): the span keeps it. Stored hops carry traceparent only. */
  tracestate?: string;
}

/** A started span: `fn`s run in it with `enter`; `end` is idempotent. */
export interface ActiveSpan {
  enter: <T>(fn: () => T) => T;
  setAttributes: (attributes: Attributes) => void;
  end: (failed?: boolean) => void;
}

const KINDS: Record<SpanKind, OtelSpanKind> = {
  server: OtelSpanKind.SERVER, client: OtelSpanKind.CLIENT, producer: OtelSpanKind.PRODUCER,
  consumer: OtelSpanKind.CONSUMER, internal: OtelSpanKind.INTERNAL,
};

// Once per process (a test may start several shops in one); another manager already set (an APM agent) is kept.
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());

const propagator = new W3CTraceContextPropagator();
const ids = new RandomIdGenerator();
/** Set while an exporter runs (trace-export.ts); without it, spans are ids only. */
let tracer: Tracer | undefined;

/** trace-export.ts: the tracer spans are recorded with, or undefined to stop recording. */
export function setTracer(t: Tracer | undefined): void {
  tracer = t;
}

/** The current tracer (trace-export.ts checks that a shutdown is its own). */
export function currentTracer(): Tracer | undefined {
  return tracer;
}

/** The context a new span's parent comes from: the traceparent given (ignored when malformed) and its tracestate, else the active one. */
function parentContext(traceparent: string | undefined, tracestate: string | undefined): Context {
  if (traceparent === undefined) return context.active();
  return propagator.extract(ROOT_CONTEXT, tracestate === undefined ? { traceparent } : { traceparent, tracestate }, defaultTextMapGetter);
}

function newSpan(name: string, kind: SpanKind, attributes: Attributes | undefined, parent: Context): Span {
  if (tracer) return tracer.startSpan(name, { kind: KINDS[kind], attributes }, parent);
  // Not recorded: ids only, so logs and propagation still work at the cost of two random numbers.
  const p = trace.getSpanContext(parent);
  const valid = p !== undefined && isSpanContextValid(p);
  return trace.wrapSpanContext({
    traceId: valid ? p.traceId : ids.generateTraceId(),
    spanId: ids.generateSpanId(),
    traceFlags: valid ? p.traceFlags : TraceFlags.NONE,
    traceState: valid ? p.traceState : undefined,
  });
}

/** True while spans are recorded (an exporter runs): work that makes spans of its own, outside any request, checks this first. */
export function recording(): boolean {
  return tracer !== undefined;
}

/** True when a recorded span is active: its children are worth recording (callers skip building a child's name and attributes otherwise). */
export function inRecordedSpan(): boolean {
  return trace.getSpan(context.active())?.isRecording() === true;
}

/** Starts a span (a request's, which outlives any one function); see withSpan for the options. */
export function startSpan(name: string, opts: SpanOptions = {}): ActiveSpan {
  const parent = parentContext(opts.parent, opts.tracestate);
  const span = newSpan(name, opts.kind ?? 'internal', opts.attributes, parent);
  const ctx = trace.setSpan(parent, span);
  let ended = false;
  return {
    enter: (fn) => context.with(ctx, fn),
    setAttributes: (attributes) => void span.setAttributes(attributes),
    end: (failed = false) => {
      if (ended) return;
      ended = true;
      if (failed) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    },
  };
}

/**
 * Runs `fn` inside a new span (its child spans and log lines belong to it);
 * the span ends when `fn` settles, marked failed if it throws. `fn` may add
 * attributes it learns (a cache hit or miss).
 */
export function withSpan<T>(name: string, fn: (span: Pick<ActiveSpan, 'setAttributes'>) => Promise<T>, opts: SpanOptions = {}): Promise<T> {
  const span = startSpan(name, opts);
  return span.enter(async () => {
    try {
      const result = await fn(span);
      span.end();
      return result;
    } catch (err) {
      span.end(true);
      throw err;
    }
  });
}

/** The active span's W3C traceparent (to carry across a queue or a broker), or undefined outside a span. */
export function currentTraceparent(): string | undefined {
  const s = trace.getSpanContext(context.active());
  if (!s || !isSpanContextValid(s)) return undefined;
  return `00-${s.traceId}-${s.spanId}-0${(s.traceFlags & TraceFlags.SAMPLED).toString(16)}`;
}

/** `trace_id` and `span_id` of the active span for a log line, or nothing outside one. A new object each time: pino's mixin merge writes into it. */
export function traceFields(): { trace_id?: string; span_id?: string } {
  const s = trace.getSpanContext(context.active());
  return s && isSpanContextValid(s) ? { trace_id: s.traceId, span_id: s.spanId } : {};
}

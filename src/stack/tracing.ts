/*
 * The shop's traces (docs/reference-stack.md#traces). What the rest of the
 * shop calls; OpenTelemetry's SDK stays behind these functions.
 *
 * SKELETON: these are pass-throughs until the tracing work lands.
 */

/** The kind of a span, as OpenTelemetry names them. */
export type SpanKind = 'server' | 'client' | 'producer' | 'consumer' | 'internal';

export interface SpanOptions {
  kind?: SpanKind;
  /** Attributes set on the span. */
  attributes?: Record<string, string | number | boolean>;
  /** A W3C traceparent to continue (a job or an event carried it across a queue); default: the active span. */
  parent?: string;
}

/** Runs `fn` inside a new span (its child spans and log lines belong to it); the span ends when `fn` settles, marked failed if it throws. */
export function withSpan<T>(name: string, fn: () => Promise<T>, opts: SpanOptions = {}): Promise<T> {
  void name;
  void opts;
  return fn();
}

/** The active span's W3C traceparent (to carry across a queue or a broker), or undefined outside a span. */
export function currentTraceparent(): string | undefined {
  return undefined;
}

/** `trace_id` and `span_id` of the active span for a log line, or nothing outside one. */
export function traceFields(): { trace_id?: string; span_id?: string } {
  return {};
}

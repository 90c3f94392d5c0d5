import { describe, expect, it } from 'vitest';
import { resolveStackConfig } from './stack-config.js';
import { tracesUrl } from './trace-export.js';
import { currentTraceparent, inRecordedSpan, traceFields, withSpan } from './tracing.js';

// Without an exporter (trace-export.ts not started): spans are ids only, yet continue, nest and show in log fields.
const PARENT_TRACE = '0af7651916cd43dd8448eb211c80319c';
const PARENT_SPAN = 'b7ad6b7169203331';
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-0[01]$/;

describe('tracing without an exporter', () => {
  it('continues a traceparent: same trace, a span of its own, the sampled flag kept; not recorded', async () => {
    const seen = await withSpan('job', async () => ({ fields: traceFields(), parent: currentTraceparent(), recording: inRecordedSpan() }), { parent: `00-${PARENT_TRACE}-${PARENT_SPAN}-01` });
    expect(seen.fields.trace_id).toBe(PARENT_TRACE);
    expect(seen.fields.span_id).toMatch(/^[0-9a-f]{16}$/);
    expect(seen.fields.span_id).not.toBe(PARENT_SPAN);
    expect(seen.parent).toBe(`00-${PARENT_TRACE}-${seen.fields.span_id}-01`);
    expect(seen.recording).toBe(false);
  });

  it('starts a new trace for a malformed traceparent, and children share their parent\'s trace', async () => {
    for (const bad of ['00-not-a-trace-01', `00-${'0'.repeat(32)}-${PARENT_SPAN}-01`, `zz-${PARENT_TRACE}-${PARENT_SPAN}-01`, '']) {
      const [outer, inner] = await withSpan('outer', async () => [traceFields(), await withSpan('inner', async () => traceFields())], { parent: bad });
      expect(outer!.trace_id).toMatch(/^[0-9a-f]{32}$/);
      expect(outer!.trace_id).not.toBe(PARENT_TRACE);
      expect(inner!.trace_id).toBe(outer!.trace_id);
      expect(inner!.span_id).not.toBe(outer!.span_id);
    }
    const a = await withSpan('a', async () => traceFields().trace_id);
    const b = await withSpan('b', async () => traceFields().trace_id);
    expect(a).not.toBe(b);
    expect(await withSpan('c', async () => currentTraceparent())).toMatch(TRACEPARENT);
  });

  it('outside a span: no fields (a new object each time, as pino\'s mixin writes into it) and no traceparent', () => {
    const first = traceFields() as Record<string, unknown>;
    first.level = 30;
    expect(traceFields()).toEqual({});
    expect(currentTraceparent()).toBeUndefined();
  });

  it('passes a failure through, and the context ends with the span', async () => {
    await expect(withSpan('fails', async () => {
      throw new Error('boom');
    })).rejects.toThrow('boom');
    expect(traceFields()).toEqual({});
  });
});

describe('the OTLP endpoint', () => {
  const resolve = (env: Record<string, string>, flags: Record<string, unknown> = {}) => resolveStackConfig({ env, flags });

  it('a base endpoint gets /v1/traces; one ending with /v1/traces is used as given', () => {
    expect(['http://c:4318', 'http://c:4318/', 'http://c:4318/v1/traces', 'https://gw/otlp', 'http://c:4318/v1/traces/'].map(tracesUrl))
      .toEqual(['http://c:4318/v1/traces', 'http://c:4318/v1/traces', 'http://c:4318/v1/traces', 'https://gw/otlp/v1/traces', 'http://c:4318/v1/traces']);
  });

  it('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT comes before OTEL_EXPORTER_OTLP_ENDPOINT; a flag before both', () => {
    const both = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://base:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://traces:4318/v1/traces' };
    const r = resolve(both);
    expect(r.ok && r.config.otlpEndpoint).toBe('http://traces:4318/v1/traces');
    const base = resolve({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://base:4318' });
    expect(base.ok && base.config.otlpEndpoint).toBe('http://base:4318');
    const flag = resolve(both, { otlpEndpoint: 'http://flag:4318' });
    expect(flag.ok && flag.config.otlpEndpoint).toBe('http://flag:4318');
  });

  it('refuses a URL that does not parse, in one line naming the variable it came from', () => {
    for (const bad of ['http://[::1', 'ftp://c:4318', 'c:4318', 'http://']) {
      const r = resolve({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: bad });
      expect(r.ok ? [] : r.problems).toEqual(['otlpEndpoint (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT): an http:// or https:// URL']);
    }
    const r = resolve({}, { otlpEndpoint: 'http://[::1' });
    expect(r.ok ? [] : r.problems).toEqual(['otlpEndpoint: an http:// or https:// URL']);
  });
});

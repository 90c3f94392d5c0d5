import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A span as the receiver keeps it: ids in lowercase hex, kind by name, attribute values plain. */
export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  /** '' for a root span. */
  parentSpanId: string;
  /** The W3C tracestate the span carries ('' for none). */
  traceState: string;
  name: string;
  kind: 'internal' | 'server' | 'client' | 'producer' | 'consumer' | 'unspecified';
  attributes: Record<string, string | number | boolean>;
  /** Start, milliseconds since the epoch. */
  startMs: number;
  /** End minus start, milliseconds. */
  durationMs: number;
  /** 'error' when the span was marked failed. */
  status: 'unset' | 'ok' | 'error';
  /** Attributes of the resource that exported it (service.name, service.instance.id...). */
  resource: Record<string, string | number | boolean>;
}

export interface OtlpReceiver {
  /** The base URL to configure (OTEL_EXPORTER_OTLP_ENDPOINT / otlpEndpoint); spans arrive on `${url}/v1/traces`. */
  url: string;
  /** Every span received so far, in arrival order. */
  spans: () => ReceivedSpan[];
  /** The spans of one trace. */
  trace: (traceId: string) => ReceivedSpan[];
  /** Export requests received (including empty ones). */
  requests: () => number;
  close: () => Promise<void>;
}

const KINDS = ['unspecified', 'internal', 'server', 'client', 'producer', 'consumer'] as const;
const STATUS = ['unset', 'ok', 'error'] as const;
/** Nanoseconds since the epoch (a string of digits, or a number) as milliseconds. */
const ms = (ns: string | number | undefined): number => (ns === undefined ? 0 : Number(BigInt(ns) / 1000n) / 1000);

interface AnyValue { stringValue?: string; boolValue?: boolean; intValue?: number | string; doubleValue?: number }
interface KeyValue { key: string; value?: AnyValue }
interface OtlpSpan {
  traceId: string; spanId: string; parentSpanId?: string; traceState?: string; name: string; kind?: number; attributes?: KeyValue[];
  startTimeUnixNano?: string | number; endTimeUnixNano?: string | number; status?: { code?: number };
}
interface OtlpRequest { resourceSpans?: { resource?: { attributes?: KeyValue[] }; scopeSpans?: { spans?: OtlpSpan[] }[] }[] }

function plain(attrs: KeyValue[] | undefined): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const { key, value } of attrs ?? []) {
    if (!value) continue;
    const v = value.stringValue ?? value.boolValue ?? value.doubleValue ?? (value.intValue === undefined ? undefined : Number(value.intValue));
    if (v !== undefined) out[key] = v;
  }
  return out;
}

/** OTLP/JSON may spell ids in hex (the spec) or base64 (protobuf's JSON mapping); both end up hex. */
const hex = (id: string | undefined): string => (!id ? '' : /^[0-9a-f]+$/i.test(id) ? id.toLowerCase() : Buffer.from(id, 'base64').toString('hex'));

/**
 * An OTLP/HTTP trace receiver on 127.0.0.1, port 0: accepts JSON export
 * requests on /v1/traces (what @opentelemetry/exporter-trace-otlp-http
 * sends) and keeps the spans. Protobuf requests are answered 415.
 */
export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  let requests = 0;
  const handle = (req: IncomingMessage, res: ServerResponse, body: string): void => {
    if (req.method !== 'POST' || req.url !== '/v1/traces') return void res.writeHead(404).end();
    if (!String(req.headers['content-type']).startsWith('application/json')) return void res.writeHead(415).end();
    requests++;
    let parsed: OtlpRequest;
    try {
      parsed = JSON.parse(body) as OtlpRequest;
    } catch {
      return void res.writeHead(400).end();
    }
    for (const rs of parsed.resourceSpans ?? []) {
      const resource = plain(rs.resource?.attributes);
      for (const ss of rs.scopeSpans ?? []) {
        for (const s of ss.spans ?? []) {
          spans.push({
            traceId: hex(s.traceId), spanId: hex(s.spanId), parentSpanId: hex(s.parentSpanId), traceState: s.traceState ?? '', name: s.name, kind: KINDS[s.kind ?? 0] ?? 'unspecified', attributes: plain(s.attributes), resource,
            startMs: ms(s.startTimeUnixNano), durationMs: ms(s.endTimeUnixNano) - ms(s.startTimeUnixNano), status: STATUS[s.status?.code ?? 0] ?? 'unset',
          });
        }
      }
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => handle(req, res, Buffer.concat(chunks).toString('utf8')));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    spans: () => [...spans],
    trace: (traceId) => spans.filter((s) => s.traceId === traceId),
    requests: () => requests,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

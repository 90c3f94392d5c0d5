import type { HttpRequest } from './http-exchange.js';
import { TRACEPARENT_LINE_BYTES, type TraceContext } from './traceparent.js';

/**
 * HTTP/1.1 request heads for the lean path, with the same rules undici
 * applies: a request undici would refuse (a path or header it calls invalid)
 * or treats specially (connection, content-length, expect…) is not built
 * here; it goes to undici, which refuses or handles it as it always has, so
 * both paths end the same way.
 */

/** A header block ready to send, or why the lean path leaves the request to undici. */
export type HeaderBlock = SendableBlock | { fallback: string };

/** A header block the lean path sends, and the last bodiless head built with it (a step's head is the same request after request). */
export interface SendableBlock {
  lines: string;
  host: string | undefined;
  last?: { method: string; path: string; originHost: string; head: Buffer };
}

/** undici's rules (lib/core/request.js), restated: a path with a control or non-Latin-1 character is refused. */
const INVALID_PATH = /[^\u0021-\u00ff]/;
/** An RFC 9110 token: a header name. */
const TOKEN = /^[\^_`a-zA-Z\-0-9!#$%&'*+.|~]+$/;
/** A header value may hold tab, visible ASCII and obs-text; CR, LF and NUL never. */
const INVALID_VALUE = /[^\t\x20-\x7e\x80-\xff]/;
/** Request headers undici checks, rewrites or refuses: the lean path leaves them to it. */
const SPECIAL = new Set(['connection', 'content-length', 'transfer-encoding', 'keep-alive', 'upgrade', 'expect', 'te', 'trailer']);
/** Methods whose request carries a body: sent with `content-length: 0` when it is empty, as undici does. */
const EXPECTS_BODY = new Set(['POST', 'PUT', 'PATCH']);

/**
 * Header blocks by header object. A step's headers are one object for the
 * whole run unless something in them varies per request (a template, a
 * cookie, credentials), so each step's block is serialized and checked once;
 * an object made for one request is not kept (caching it would cost more).
 */
const blocks = new WeakMap<Record<string, string>, HeaderBlock>();

function buildBlock(headers: Record<string, string>): HeaderBlock {
  let lines = '';
  let host: string | undefined;
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined) continue;
    const lower = name.toLowerCase();
    if (SPECIAL.has(lower)) return { fallback: `request header ${lower}` };
    if (!TOKEN.test(name) || typeof value !== 'string' || INVALID_VALUE.test(value)) return { fallback: 'a request header undici refuses' };
    if (lower === 'host') {
      if (host !== undefined) return { fallback: 'a request header undici refuses' };
      host = value;
      continue;
    }
    lines += `${name}: ${value}\r\n`;
  }
  return { lines, host };
}

/** The header block of a request's headers: cached when the object is a step's own (reused), built anew when it was made for this request. */
export function headerBlock(req: HttpRequest): HeaderBlock {
  if (!req.headersReused) return buildBlock(req.headers);
  let block = blocks.get(req.headers);
  if (block === undefined) {
    block = buildBlock(req.headers);
    blocks.set(req.headers, block);
  }
  return block;
}

/** Why the lean path leaves a request to undici when its path is one undici refuses. */
export const PATH_FALLBACK = 'a request path undici refuses';

/** Why the lean path cannot send this request's path, or undefined when it can. */
export function pathFallback(path: string): string | undefined {
  return path.length === 0 || path[0] !== '/' || INVALID_PATH.test(path) ? PATH_FALLBACK : undefined;
}

/**
 * The request head, Latin-1 (as undici writes it): request line, Host (the
 * step's own, else the origin's), the step's headers as given, keep-alive,
 * and the body's length in bytes. A step's own header block keeps its last
 * bodiless head as bytes: the same request again (same method, path and
 * origin, the common case of a static step) is sent from them as they are;
 * the path is checked only when a head is built. Undefined: a path undici
 * refuses (pathFallback), left to undici.
 */
export function requestHead(req: HttpRequest, block: SendableBlock, originHost: string): string | Buffer | undefined {
  const { body, method, path } = req;
  const bodiless = body === undefined || body.length === 0;
  if (bodiless && req.headersReused) {
    const last = block.last;
    if (last !== undefined && last.path === path && last.method === method && last.originHost === originHost) return last.head;
    if (pathFallback(path) !== undefined) return undefined;
    const head = Buffer.from(build(method, path, block, originHost, EXPECTS_BODY.has(method) ? 'content-length: 0\r\n' : ''), 'latin1');
    block.last = { method, path, originHost, head };
    return head;
  }
  if (pathFallback(path) !== undefined) return undefined;
  let length = '';
  if (!bodiless) length = `content-length: ${Buffer.byteLength(body)}\r\n`;
  else if (EXPECTS_BODY.has(method)) length = 'content-length: 0\r\n';
  return build(method, path, block, originHost, length);
}

function build(method: string, path: string, block: SendableBlock, originHost: string, length: string): string {
  return `${method} ${path} HTTP/1.1\r\nhost: ${block.host ?? originHost}\r\n${block.lines}connection: keep-alive\r\n${length}\r\n`;
}

/** The bytes after a head's last header line: its blank line. */
const HEAD_END = 2;

/**
 * A head with a traceparent line added before its blank line, as bytes: a
 * fresh value for every request, so a step's cached head stays as it is and
 * is copied up to its last header line, the line's hex digits written
 * straight after it (no string is made), then the blank line; still one
 * write, from the pooled small-buffer allocator. A head built for this
 * request (text) is written in the same way.
 */
export function withTraceparent(head: string | Buffer, trace: TraceContext): Buffer {
  const open = head.length - HEAD_END;
  const out = Buffer.allocUnsafe(open + TRACEPARENT_LINE_BYTES + HEAD_END);
  if (typeof head === 'string') out.write(head, 0, open, 'latin1');
  else head.copy(out, 0, 0, open);
  trace.writeLine(out, open);
  out[out.length - 2] = 13;
  out[out.length - 1] = 10;
  return out;
}

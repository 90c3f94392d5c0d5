import { describe, expect, it } from 'vitest';
import type { HttpRequest } from './http-exchange.js';
import { headerBlock, pathFallback, requestHead, withTraceparent } from './request-head.js';
import { newTraceparent } from './traceparent.js';

const request = (more: Partial<HttpRequest> = {}): HttpRequest => ({
  origin: 'http://127.0.0.1:8080', path: '/p?q=1', method: 'GET', headers: {}, headersReused: true,
  body: undefined, timeoutMs: 1000, wantBody: false, bodyLimit: 1024, ...more,
});

function head(req: HttpRequest): string {
  const block = headerBlock(req);
  if ('fallback' in block) throw new Error(block.fallback);
  const h = requestHead(req, block, '127.0.0.1:8080');
  if (h === undefined) throw new Error(`path refused: ${req.path}`);
  return typeof h === 'string' ? h : h.toString('latin1');
}

describe('request heads of the lean path', () => {
  it('writes the request line, the origin as Host, the headers as given, keep-alive, and no length for a GET', () => {
    expect(head(request({ headers: { Accept: 'application/json', 'X-Run': 'a b' } }))).toBe(
      'GET /p?q=1 HTTP/1.1\r\nhost: 127.0.0.1:8080\r\nAccept: application/json\r\nX-Run: a b\r\nconnection: keep-alive\r\n\r\n');
  });

  it("counts a body's length in UTF-8 bytes, and sends content-length: 0 for an empty POST, PUT or PATCH (as undici does)", () => {
    expect(head(request({ method: 'POST', body: '{"name":"café"}' }))).toContain('\r\ncontent-length: 16\r\n\r\n');
    for (const method of ['POST', 'PUT', 'PATCH'] as const) expect(head(request({ method }))).toContain('\r\ncontent-length: 0\r\n\r\n');
    expect(head(request({ method: 'DELETE', body: '' }))).not.toContain('content-length');
  });

  it("sends the step's own Host header instead of the origin's, once", () => {
    const h = head(request({ headers: { Host: 'shop.example' } }));
    expect(h).toContain('\r\nhost: shop.example\r\n');
    expect(h.match(/host:/gi)).toHaveLength(1);
  });

  it('leaves to undici the headers undici checks or rewrites, in any case', () => {
    for (const name of ['Connection', 'content-length', 'Transfer-Encoding', 'keep-alive', 'Upgrade', 'Expect', 'TE', 'trailer']) {
      expect(headerBlock(request({ headers: { [name]: 'x' }, headersReused: false }))).toEqual({ fallback: `request header ${name.toLowerCase()}` });
    }
  });

  it('leaves to undici what undici refuses: a value with CR or LF, a name that is not a token, two Host headers', () => {
    const refused: Record<string, string>[] = [{ 'x-a': 'a\r\nx-b: b' }, { 'x-a': 'a\nb' }, { 'bad name': 'v' }, { 'x:y': 'v' }, { Host: 'a', host: 'b' }];
    for (const headers of refused) {
      expect(headerBlock(request({ headers, headersReused: false }))).toEqual({ fallback: 'a request header undici refuses' });
    }
  });

  it('leaves to undici a path with a space, a control or non-Latin-1 character, or no leading slash', () => {
    for (const path of ['/a b', '/a\tb', '/a\u0000', '/\u0100', 'a', '']) expect(pathFallback(path)).toBe('a request path undici refuses');
    for (const path of ['/', '/a?b=c&d=%20', '/caf\u00e9']) expect(pathFallback(path)).toBeUndefined();
  });

  it("sends a static step's bodiless head from the same bytes each time, and builds it again when the path or origin changes", () => {
    const headers = { 'x-a': '1' };
    const block = headerBlock(request({ headers }));
    if ('fallback' in block) throw new Error(block.fallback);
    const first = requestHead(request({ headers }), block, 'a:1');
    expect(first).toBeInstanceOf(Buffer);
    expect(requestHead(request({ headers }), block, 'a:1')).toBe(first);
    expect(requestHead(request({ headers, path: '/other' }), block, 'a:1')!.toString()).toContain('GET /other HTTP/1.1\r\nhost: a:1\r\n');
    expect(requestHead(request({ headers, path: '/other' }), block, 'b:2')!.toString()).toContain('\r\nhost: b:2\r\n');
    expect(typeof requestHead(request({ headers, method: 'POST', body: 'x' }), block, 'a:1')).toBe('string');
    expect(typeof requestHead(request({ headers, headersReused: false }), block, 'a:1')).toBe('string');
  });

  it('builds no head for a path undici refuses, cached step or not (the request goes to undici)', () => {
    const headers = { 'x-a': '1' };
    const block = headerBlock(request({ headers }));
    if ('fallback' in block) throw new Error(block.fallback);
    for (const more of [{}, { headersReused: false }, { method: 'POST' as const, body: 'x' }]) {
      expect(requestHead(request({ headers, path: '/a b', ...more }), block, 'a:1')).toBeUndefined();
      expect(requestHead(request({ headers, path: '/ok', ...more }), block, 'a:1')).toBeDefined();
    }
  });

  it("serializes a step's own header object once, and a per-request one every time", () => {
    const headers = { 'x-a': '1' };
    const first = headerBlock(request({ headers }));
    expect(headerBlock(request({ headers }))).toBe(first);
    const once = request({ headers, headersReused: false });
    expect(headerBlock(once)).not.toBe(headerBlock(once));
    expect(headerBlock(once)).toEqual(first);
  });

  it("adds a traceparent line before the blank line, leaving a step's cached head as it was", () => {
    const req = request({ headers: { Accept: 'text/plain' } });
    const block = headerBlock(req);
    if ('fallback' in block) throw new Error(block.fallback);
    const cached = requestHead(req, block, '127.0.0.1:8080') as Buffer;
    const before = Buffer.from(cached);
    const trace = newTraceparent();
    const sent = withTraceparent(cached, trace);
    expect(sent.toString('latin1')).toBe(`${before.toString('latin1').slice(0, -2)}traceparent: ${trace.value()}\r\n\r\n`);
    // The next request of the step is built from the same bytes, untouched, and gets its own value.
    expect(requestHead(req, block, '127.0.0.1:8080')).toBe(cached);
    expect(cached.equals(before)).toBe(true);
    const other = newTraceparent();
    expect(other.value()).not.toBe(trace.value());
    expect(withTraceparent(cached, other).toString('latin1')).toContain(`\r\ntraceparent: ${other.value()}\r\n\r\n`);
    // A head built for one request (a body) is text: the line goes in the same place, and the result is bytes too.
    const post = head(request({ method: 'POST', body: 'x' }));
    expect(typeof post).toBe('string');
    expect(withTraceparent(post, trace).toString('latin1')).toBe(`${post.slice(0, -2)}traceparent: ${trace.value()}\r\n\r\n`);
  });
});

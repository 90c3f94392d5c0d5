import { createServer } from 'node:net';
import { gzipSync } from 'node:zlib';
import { performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpClient } from '../src/engine/http-client.js';
import type { ErrorKind, HttpClientMode, HttpRequest, HttpResponse } from '../src/engine/http-exchange.js';
import { startRawServer, type RawConnection, type RawRequest, type RawScript, type RawServer } from './helpers/raw-http-server.js';

// The HTTP conformance suite (issue 16): every case runs through both paths of HttpClient, undici
// ('undici') and the lean HTTP/1.1 path ('auto' on an http:// origin), each against its own scripted
// raw TCP server writing exact bytes. A case's facts (each response's outcome, and what the server saw)
// must be what a correct client gives, on both paths alike; the 'auto' run must have gone by the lean path.

/** What must be the same on both paths: the message may differ, the kind, the status and the body may not. */
interface Outcome {
  ok: boolean;
  status?: number;
  kind?: ErrorKind;
  headers?: Record<string, string | string[] | undefined>;
  body?: string;
}

function outcome(res: HttpResponse): Outcome {
  if (!res.ok) return res.status === undefined ? { ok: false, kind: res.kind } : { ok: false, kind: res.kind, status: res.status };
  const { date: _date, ...headers } = res.headers;
  return res.body === undefined ? { ok: true, status: res.status, headers } : { ok: true, status: res.status, headers, body: res.body };
}

/** What a case's run can use: its server, its client, and a send that fills in the request's usual fields. */
interface Ctx {
  server: RawServer;
  client: HttpClient;
  send: (path: string, more?: Partial<HttpRequest>) => Promise<Outcome>;
}

interface Case {
  name: string;
  script: RawScript;
  /**
   * The client's connection cap (null: none). Default 1, which makes "on the same connection" exact: a request
   * can only reuse the one connection, or open a new one once it is closed. (Without a cap, undici's pool opens
   * a second connection for the second of two sequential requests on a cold origin.)
   */
  connections?: number | null;
  /** Sends the case's requests; returns the facts both paths must agree on. */
  run: (ctx: Ctx) => Promise<unknown>;
  /** The facts a correct client gives. */
  expected: unknown;
  /** Requests the lean path may leave to undici (invalid ones it refuses either way): lean + undici must still count them all. */
  leanMayDecline?: boolean;
  /**
   * Where undici (7.x) is known to differ from a correct client: its facts, pinned so a change in undici
   * shows, and why. The lean path must give `expected`; the two paths are then not compared with each other.
   */
  undici?: { facts: unknown; why: string };
}

const TIMEOUT_MS = 3000;

/** The gate the connection-cap case holds its first response on (newGate). */
let gate = newGate();

// Each run closes its server and client when done; these are only what a run that never finished left open.
const opened = new Set<{ close: () => Promise<void> }>();
afterEach(async () => {
  const left = [...opened];
  opened.clear();
  await Promise.all(left.map((o) => o.close()));
});

async function runCase(c: Case, mode: HttpClientMode): Promise<{ facts: unknown; sent: number; usage: ReturnType<HttpClient['usage']> }> {
  const server = await startRawServer(c.script);
  const client = new HttpClient(() => performance.now(), c.connections === undefined ? 1 : c.connections, mode);
  opened.add(server).add(client);
  gate = newGate();
  let sent = 0;
  const send = async (path: string, more: Partial<HttpRequest> = {}) => {
    sent++;
    const req: HttpRequest = { origin: server.origin, path, method: 'GET', headers: {}, headersReused: false, body: undefined, timeoutMs: TIMEOUT_MS, wantBody: true, bodyLimit: 1 << 20, ...more };
    return outcome(await client.send(req));
  };
  try {
    const facts = await c.run({ server, client, send }).catch((err: Error) => {
      throw new Error(`${mode}: ${err.message}`, { cause: err });
    });
    return { facts, sent, usage: client.usage() };
  } finally {
    opened.delete(server);
    opened.delete(client);
    await Promise.all([client.close(), server.close()]);
  }
}

/** One test per case: both paths, the facts of each checked against the expected ones, and the lean path's use. */
function conformance(cases: Case[]): void {
  for (const c of cases) {
    it(c.name, async () => {
      const undici = await runCase(c, 'undici');
      if (c.undici) expect.soft(undici.facts, `undici: its known difference (${c.undici.why}) changed`).toEqual(c.undici.facts);
      else expect.soft(undici.facts, 'undici: facts differ from a correct client').toEqual(c.expected);
      const auto = await runCase(c, 'auto');
      expect.soft(auto.facts, 'auto (lean path): facts differ from a correct client').toEqual(c.expected);
      if (!c.undici) expect.soft(auto.facts, 'auto (lean path) and undici differ').toEqual(undici.facts);
      if (c.leanMayDecline) expect.soft(auto.usage.lean + auto.usage.undici, 'auto: every request counted once').toBe(auto.sent);
      else expect.soft(auto.usage, 'lean path not used: auto sent these http:// requests by undici').toMatchObject({ lean: auto.sent, undici: 0 });
    });
  }
}

const crlf = (...lines: string[]) => lines.join('\r\n');
/** A complete response head (status line, fields, blank line). */
const head = (status: string, ...fields: string[]) => crlf(`HTTP/1.1 ${status}`, ...fields, '', '');
const okText = (body: string, ...fields: string[]) => head('200 OK', `Content-Length: ${Buffer.byteLength(body)}`, ...fields) + body;
/** `n` copies of a response's facts, as the facts of n requests answered alike. */
const times = <T>(n: number, facts: T): T[] => Array.from({ length: n }, () => facts);
const text = (body: string) => ({ 'content-length': String(Buffer.byteLength(body)) });

/** Answers every request with `200 OK` and its path as the body. */
const echoPath: RawScript = (req, conn) => conn.write(okText(req.target));
const echoed = (path: string): Outcome => ({ ok: true, status: 200, headers: text(path), body: path });

/** A port nothing listens on: opened, then closed. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as { port: number };
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/** Whether the server's connection `index` has closed (the client closed its side too). */
function isClosed(server: RawServer, index: number): boolean {
  const socket = server.connection(index)?.socket;
  return socket !== undefined && socket.closed;
}

const headerOf = (req: RawRequest, name: string) => req.headers.filter(([n]) => n.toLowerCase() === name).map(([, v]) => v);

const GZIPPED = gzipSync('hello, compressed');
const MANY_FIELDS = Array.from({ length: 100 }, (_, i): [string, string] => [`x-field-${i}`, 'v'.repeat(100)]);

describe('HTTP conformance: plain responses', () => {
  conformance([
    {
      name: '200 with Content-Length, body kept',
      script: (_req, conn) => conn.write(okText('hello', 'Content-Type: text/plain')),
      run: ({ send }) => send('/'),
      expected: { ok: true, status: 200, headers: { 'content-length': '5', 'content-type': 'text/plain' }, body: 'hello' },
    },
    {
      name: '200 with Content-Length, body discarded (wantBody false), even past bodyLimit',
      script: (_req, conn) => conn.write(okText('x'.repeat(5000))),
      run: async ({ send, server }) => [await send('/a', { wantBody: false, bodyLimit: 10 }), await send('/b', { wantBody: false }), server.connections()],
      expected: [{ ok: true, status: 200, headers: text('x'.repeat(5000)) }, { ok: true, status: 200, headers: text('x'.repeat(5000)) }, 1],
    },
    {
      name: 'response written byte by byte (head and body), then another on the same connection',
      script: (_req, conn) => conn.writeBytewise(okText('split body', 'X-Split: yes')),
      run: async ({ send, server }) => [await send('/'), await send('/'), server.connections()],
      expected: [...times(2, { ok: true, status: 200, headers: { 'content-length': '10', 'x-split': 'yes' }, body: 'split body' }), 1],
    },
    {
      name: 'a UTF-8 body split inside a multi-byte character',
      script: async (_req, conn) => {
        const bytes = Buffer.from(okText('héllo ✓'));
        const at = bytes.indexOf(Buffer.from('✓')) + 1;
        await conn.writePieces([bytes.subarray(0, at), bytes.subarray(at)]);
      },
      run: ({ send }) => send('/'),
      expected: { ok: true, status: 200, headers: text('héllo ✓'), body: 'héllo ✓' },
    },
    {
      name: 'Content-Length: 0, then another request on the same connection',
      script: (_req, conn) => conn.write(head('200 OK', 'Content-Length: 0')),
      run: async ({ send, server }) => [await send('/'), await send('/'), server.connections()],
      expected: [{ ok: true, status: 200, headers: { 'content-length': '0' }, body: '' }, { ok: true, status: 200, headers: { 'content-length': '0' }, body: '' }, 1],
    },
    {
      name: 'response headers: names lower-cased, repeated fields as arrays (set-cookie too), values trimmed, empty values, latin1 bytes',
      script: (_req, conn) => conn.write(Buffer.concat([
        Buffer.from(head('200 OK', 'Content-Length: 2', 'Set-Cookie: a=1; Path=/', 'set-cookie: b=2', 'X-Multi: one', 'X-MULTI: two', 'x-multi: three',
          'X-Spaces:    padded', 'X-Empty:', 'X-Single-Cookie-Like: c=3').slice(0, -2), 'latin1'),
        Buffer.from([...Buffer.from('X-Latin1: caf'), 0xe9, ...Buffer.from('\r\n\r\nok')]),
      ])),
      run: ({ send }) => send('/'),
      expected: {
        ok: true,
        status: 200,
        headers: {
          'content-length': '2', 'set-cookie': ['a=1; Path=/', 'b=2'], 'x-multi': ['one', 'two', 'three'], 'x-spaces': 'padded', 'x-empty': '',
          'x-single-cookie-like': 'c=3', 'x-latin1': 'café',
        },
        body: 'ok',
      },
    },
    {
      name: 'trailing whitespace is not part of a header value (RFC 9110 5.5)',
      script: (_req, conn) => conn.write(okText('t', 'X-Trailing: value \t ', 'X-Both:  both  ')),
      run: ({ send }) => send('/'),
      expected: { ok: true, status: 200, headers: { 'content-length': '1', 'x-trailing': 'value', 'x-both': 'both' }, body: 't' },
      undici: {
        facts: { ok: true, status: 200, headers: { 'content-length': '1', 'x-trailing': 'value \t ', 'x-both': 'both  ' }, body: 't' },
        why: 'undici keeps trailing whitespace in a header value',
      },
    },
    {
      name: 'one Set-Cookie field stays a string (as undici gives it)',
      script: (_req, conn) => conn.write(okText('k', 'Set-Cookie: only=1')),
      run: ({ send }) => send('/'),
      expected: { ok: true, status: 200, headers: { 'content-length': '1', 'set-cookie': 'only=1' }, body: 'k' },
    },
    {
      name: '4xx and 5xx are responses, not failures, at this layer (their kinds are judged by the flow)',
      script: (req, conn) => conn.write(req.target === '/404' ? head('404 Not Found', 'Content-Length: 4') + 'nope' : head('503 Service Unavailable', 'Content-Length: 4', 'Retry-After: 1') + 'busy'),
      run: async ({ send }) => [await send('/404'), await send('/503')],
      expected: [
        { ok: true, status: 404, headers: { 'content-length': '4' }, body: 'nope' },
        { ok: true, status: 503, headers: { 'content-length': '4', 'retry-after': '1' }, body: 'busy' },
      ],
    },
    {
      name: 'a redirect is a response, not followed',
      script: (req, conn) => conn.write(req.target === '/old' ? head('302 Found', 'Location: /new', 'Content-Length: 0') : okText(req.target)),
      run: async ({ send, server }) => [await send('/old'), server.requests.map((r) => r.target)],
      expected: [{ ok: true, status: 302, headers: { location: '/new', 'content-length': '0' }, body: '' }, ['/old']],
    },
    {
      name: 'Content-Encoding: gzip is not decoded at this layer: the body is the bytes sent, as UTF-8',
      script: (_req, conn) => conn.write(Buffer.concat([Buffer.from(head('200 OK', `Content-Length: ${GZIPPED.length}`, 'Content-Encoding: gzip')), GZIPPED])),
      run: ({ send }) => send('/'),
      expected: { ok: true, status: 200, headers: { 'content-length': String(GZIPPED.length), 'content-encoding': 'gzip' }, body: GZIPPED.toString('utf8') },
    },
    {
      name: 'a 12 KB header block (100 fields), written in pieces',
      script: (_req, conn) => {
        const bytes = Buffer.from(okText('many', ...MANY_FIELDS.map(([n, v]) => `${n}: ${v}`)));
        return conn.writePieces(Array.from({ length: Math.ceil(bytes.length / 1000) }, (_, i) => bytes.subarray(i * 1000, (i + 1) * 1000)));
      },
      run: ({ send }) => send('/'),
      expected: { ok: true, status: 200, headers: { 'content-length': '4', ...Object.fromEntries(MANY_FIELDS) }, body: 'many' },
    },
    {
      name: 'an unusual reason phrase (empty, or not the usual one) changes nothing',
      script: (req, conn) => conn.write(req.target === '/a' ? crlf('HTTP/1.1 200 ', 'Content-Length: 1', '', 'a') : crlf('HTTP/1.1 201 Fine By Me', 'Content-Length: 1', '', 'b')),
      run: async ({ send }) => [await send('/a'), await send('/b')],
      expected: [{ ok: true, status: 200, headers: { 'content-length': '1' }, body: 'a' }, { ok: true, status: 201, headers: { 'content-length': '1' }, body: 'b' }],
    },
    {
      name: 'a body of 1 MiB kept exactly at bodyLimit, and one discarded',
      script: (_req, conn) => conn.write(okText('y'.repeat(1 << 20))),
      run: async ({ send }) => {
        const kept = await send('/', { bodyLimit: 1 << 20 });
        const dropped = await send('/', { wantBody: false });
        return [kept.ok && kept.body?.length, kept.status, dropped];
      },
      expected: [1 << 20, 200, { ok: true, status: 200, headers: text('y'.repeat(1 << 20)) }],
    },
  ]);
});

describe('HTTP conformance: chunked bodies', () => {
  const chunked = head('200 OK', 'Transfer-Encoding: chunked');
  const chunkedHeaders = { 'transfer-encoding': 'chunked' };
  conformance([
    {
      name: 'chunked body',
      script: (_req, conn) => conn.write(`${chunked}5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n`),
      run: async ({ send, server }) => [await send('/'), await send('/'), server.connections()],
      expected: [{ ok: true, status: 200, headers: chunkedHeaders, body: 'hello world' }, { ok: true, status: 200, headers: chunkedHeaders, body: 'hello world' }, 1],
    },
    {
      name: 'chunk sizes in upper case hex with leading zeros, and chunk extensions',
      script: (_req, conn) => conn.write(`${chunked}000A;name=value\r\n0123456789\r\n1;a=b;c="d e"\r\nX\r\n0;last\r\n\r\n`),
      run: async ({ send }) => [await send('/'), await send('/')],
      expected: times(2, { ok: true, status: 200, headers: chunkedHeaders, body: '0123456789X' }),
    },
    {
      name: 'chunked with trailers: the trailers are not headers, and the connection is reused',
      script: (_req, conn) => conn.write(head('200 OK', 'Transfer-Encoding: chunked', 'Trailer: X-Checksum') + '3\r\nabc\r\n0\r\nX-Checksum: 42\r\nX-Other: 1\r\n\r\n'),
      run: async ({ send, server }) => [await send('/'), await send('/'), server.connections()],
      expected: [...times(2, { ok: true, status: 200, headers: { 'transfer-encoding': 'chunked', trailer: 'X-Checksum' }, body: 'abc' }), 1],
    },
    {
      name: 'chunked split at awkward places: inside the size line, inside CRLFs, inside the last chunk and the trailers',
      script: (_req, conn) => conn.writePieces([
        'HTTP/1.1 200 OK\r', '\nTransfer-Encoding: chun', 'ked\r\n\r', '\n1', '0\r', '\n0123456789ab', 'cdef\r', '\n', '3;ext=', '1\r\nxyz', '\r', '\n0', '\r\n', 'X-T: 1\r', '\n\r', '\n',
      ]),
      run: async ({ send, server }) => [await send('/'), await send('/'), server.connections()],
      expected: [...times(2, { ok: true, status: 200, headers: chunkedHeaders, body: '0123456789abcdefxyz' }), 1],
    },
    {
      name: 'chunked written byte by byte',
      script: (_req, conn) => conn.writeBytewise(`${chunked}4\r\nabcd\r\n2;x=y\r\nef\r\n0\r\nT: 1\r\n\r\n`),
      run: async ({ send }) => [await send('/'), await send('/')],
      expected: times(2, { ok: true, status: 200, headers: chunkedHeaders, body: 'abcdef' }),
    },
  ]);
});

describe('HTTP conformance: responses without bodies, 1xx, connection handling', () => {
  conformance([
    {
      name: '100 Continue (not asked for) then 200: the final response only (RFC 9110 15.2: a client must parse 1xx it did not expect)',
      script: (_req, conn) => conn.write(head('100 Continue') + okText('final')),
      run: async ({ send, server }) => [await send('/'), await send('/'), server.connections()],
      expected: [...times(2, { ok: true, status: 200, headers: text('final'), body: 'final' }), 1],
      undici: { facts: [{ ok: false, kind: 'reset' }, { ok: false, kind: 'reset' }, 2], why: "undici fails a 100 Continue it did not ask for as a socket error, 'bad response'" },
    },
    {
      name: '100 Continue split from the 200 that follows',
      script: (_req, conn) => conn.writePieces(['HTTP/1.1 100 Continue\r\n', '\r\n', okText('final')]),
      run: ({ send }) => send('/'),
      expected: { ok: true, status: 200, headers: text('final'), body: 'final' },
      undici: { facts: { ok: false, kind: 'reset' }, why: "undici fails a 100 Continue it did not ask for as a socket error, 'bad response'" },
    },
    {
      name: '103 Early Hints (with Link headers) then 200: the final response only',
      script: (_req, conn) => conn.write(head('103 Early Hints', 'Link: </style.css>; rel=preload; as=style', 'Link: </app.js>; rel=preload; as=script') + okText('final')),
      run: async ({ send, server }) => [await send('/'), await send('/'), server.connections()],
      expected: [...times(2, { ok: true, status: 200, headers: text('final'), body: 'final' }), 1],
    },
    {
      name: '102 Processing and 103 Early Hints, split apart, then 200',
      script: (_req, conn) => conn.writePieces([head('102 Processing'), head('103 Early Hints', 'Link: </a.css>; rel=preload'), okText('done')]),
      run: ({ send }) => send('/'),
      expected: { ok: true, status: 200, headers: text('done'), body: 'done' },
    },
    {
      name: 'HEAD answered with Content-Length: 1234 and no body, then another request on the same connection',
      script: (req, conn) => conn.write(req.method === 'HEAD' ? head('200 OK', 'Content-Length: 1234', 'Content-Type: text/html') : okText('after head')),
      run: async ({ send, server }) => [await send('/', { method: 'HEAD' }), await send('/next'), server.connections()],
      expected: [{ ok: true, status: 200, headers: { 'content-length': '1234', 'content-type': 'text/html' }, body: '' }, { ok: true, status: 200, headers: text('after head'), body: 'after head' }, 1],
      undici: {
        facts: [{ ok: true, status: 200, headers: { 'content-length': '1234', 'content-type': 'text/html' }, body: '' }, { ok: true, status: 200, headers: text('after head'), body: 'after head' }, 2],
        why: "undici sends HEAD with 'connection: close' and opens a new connection for the next request",
      },
    },
    {
      name: 'HEAD answered with Transfer-Encoding: chunked and no body, then another request',
      script: (req, conn) => conn.write(req.method === 'HEAD' ? head('200 OK', 'Transfer-Encoding: chunked') : okText('after head')),
      run: async ({ send, server }) => [await send('/', { method: 'HEAD' }), await send('/next'), server.connections()],
      expected: [{ ok: true, status: 200, headers: { 'transfer-encoding': 'chunked' }, body: '' }, { ok: true, status: 200, headers: text('after head'), body: 'after head' }, 1],
      undici: {
        facts: [{ ok: true, status: 200, headers: { 'transfer-encoding': 'chunked' }, body: '' }, { ok: true, status: 200, headers: text('after head'), body: 'after head' }, 2],
        why: "undici sends HEAD with 'connection: close' and opens a new connection for the next request",
      },
    },
    {
      name: '204 without Content-Length, and with Content-Length: 0, then another request on the same connection',
      script: (req, conn) => conn.write(req.target === '/a' ? head('204 No Content') : req.target === '/b' ? head('204 No Content', 'Content-Length: 0') : okText('after')),
      run: async ({ send, server }) => [await send('/a'), await send('/b'), await send('/after'), server.connections()],
      expected: [
        { ok: true, status: 204, headers: {}, body: '' },
        { ok: true, status: 204, headers: { 'content-length': '0' }, body: '' },
        { ok: true, status: 200, headers: text('after'), body: 'after' },
        1,
      ],
    },
    {
      name: '304 with Content-Length: 1234 (allowed, RFC 9110 8.6) and no body, then another request on the same connection',
      script: (req, conn) => conn.write(req.target === '/304' ? head('304 Not Modified', 'Content-Length: 1234', 'ETag: "v1"') : okText('after')),
      run: async ({ send, server }) => [await send('/304'), await send('/after'), server.connections()],
      expected: [{ ok: true, status: 304, headers: { 'content-length': '1234', etag: '"v1"' }, body: '' }, { ok: true, status: 200, headers: text('after'), body: 'after' }, 1],
      undici: {
        facts: [{ ok: false, kind: 'other' }, { ok: true, status: 200, headers: text('after'), body: 'after' }, 2],
        why: 'undici fails a 304 whose Content-Length is not 0 as UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
      },
    },
    {
      name: '204 with Content-Length: 7 (a server error) and no body: no body is read (RFC 9112 6.3), the next request works on the same connection',
      script: (req, conn) => conn.write(req.target === '/204' ? head('204 No Content', 'Content-Length: 7') : okText('after')),
      run: async ({ send, server }) => [await send('/204'), await send('/after'), server.connections()],
      expected: [{ ok: true, status: 204, headers: { 'content-length': '7' }, body: '' }, { ok: true, status: 200, headers: text('after'), body: 'after' }, 1],
      undici: {
        facts: [{ ok: false, kind: 'other' }, { ok: true, status: 200, headers: text('after'), body: 'after' }, 2],
        why: 'undici fails a 204 whose Content-Length is not 0 as UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
      },
    },
    {
      name: 'Connection: close (the server closes after it): the request succeeds, the next goes on a new connection',
      script: async (_req, conn) => {
        await conn.write(okText('bye', 'Connection: close'));
        void conn.end();
      },
      run: async ({ send, server }) => [await send('/'), await send('/'), await send('/'), server.connections(), server.requests.map((r) => r.conn)],
      expected: [...times(3, { ok: true, status: 200, headers: { 'content-length': '3', connection: 'close' }, body: 'bye' }), 3, [0, 1, 2]],
    },
    {
      name: 'no Content-Length and not chunked: the body runs until the server closes',
      script: async (_req, conn) => {
        await conn.writePieces([head('200 OK', 'Content-Type: text/plain'), 'until ', 'close']);
        void conn.end();
      },
      run: async ({ send, server }) => [await send('/'), await send('/'), server.connections()],
      expected: [...times(2, { ok: true, status: 200, headers: { 'content-type': 'text/plain' }, body: 'until close' }), 2],
    },
    {
      name: 'an HTTP/1.0 response with Content-Length and no keep-alive: the next request goes on a new connection',
      script: async (_req, conn) => {
        await conn.write(crlf('HTTP/1.0 200 OK', 'Content-Length: 3', '', 'old'));
        void conn.end();
      },
      run: async ({ send, server }) => [await send('/'), await send('/'), server.connections()],
      expected: [...times(2, { ok: true, status: 200, headers: { 'content-length': '3' }, body: 'old' }), 2],
    },
    {
      name: 'bytes past the end of a response (in the same write): the response stands, the connection is not reused',
      script: (req, conn) => conn.write(req.target === '/extra' ? okText('abc') + 'garbage after the body\r\n\r\n' : okText(req.target)),
      run: async ({ send, server }) => {
        const first = await send('/extra');
        await server.until('the client closed the connection carrying bytes past a response', () => isClosed(server, 0));
        return [first, await send('/after'), server.connections()];
      },
      expected: [{ ok: true, status: 200, headers: text('abc'), body: 'abc' }, echoed('/after'), 2],
    },
    {
      name: 'a second response right behind the first (same write), nobody asked for it: the client drops the connection',
      script: (req, conn) => conn.write(req.target === '/first' ? okText(req.target) + head('200 OK', 'Content-Length: 0') : okText(req.target)),
      run: async ({ send, server }) => {
        const first = await send('/first');
        await server.until('the client closed the connection with an unasked-for response', () => isClosed(server, 0));
        return [first, await send('/second'), server.connections()];
      },
      expected: [echoed('/first'), echoed('/second'), 2],
    },
    {
      name: 'a response nobody asked for, on an idle connection: the client drops the connection; the next request works',
      // The unasked-for response comes on the next turn, once the client has read the first.
      script: (req, conn) => conn.writePieces(req.target === '/first' ? [okText(req.target), head('200 OK', 'Content-Length: 0')] : [okText(req.target)]),
      run: async ({ send, server }) => {
        const first = await send('/first');
        await server.until('the client closed the connection with an unasked-for response', () => isClosed(server, 0));
        return [first, await send('/second'), server.connections()];
      },
      expected: [echoed('/first'), echoed('/second'), 2],
    },
    {
      name: 'keep-alive: the server closes the idle connection (FIN) after a response; the next request succeeds on a new one',
      script: async (req, conn) => {
        await conn.write(okText(req.target));
        if (req.target === '/first') void conn.end();
      },
      run: async ({ send, server }) => {
        const first = await send('/first');
        // The next request goes once the client has seen the FIN (it closed its side too).
        await server.until('the client closed the connection the server ended', () => isClosed(server, 0));
        return [first, await send('/second'), server.connections()];
      },
      expected: [echoed('/first'), echoed('/second'), 2],
    },
    {
      name: 'keep-alive with a Keep-Alive: timeout=1 hint, the server closing the idle connection: not an error',
      script: async (req, conn) => {
        await conn.write(okText(req.target, 'Connection: keep-alive', 'Keep-Alive: timeout=1, max=100'));
        if (req.target === '/first') void conn.end();
      },
      run: async ({ send, server }) => {
        const first = await send('/first');
        await server.until('the client closed the connection the server ended', () => isClosed(server, 0));
        return [first, await send('/second')];
      },
      expected: ['/first', '/second'].map((p) => ({ ok: true, status: 200, headers: { ...text(p), connection: 'keep-alive', 'keep-alive': 'timeout=1, max=100' }, body: p })),
    },
    {
      name: 'keep-alive with a Keep-Alive: timeout=1 hint, the server keeping the connection: every request succeeds',
      script: (req, conn) => conn.write(okText(req.target, 'Keep-Alive: timeout=1')),
      run: async ({ send }) => [await send('/a'), await send('/b'), await send('/c')],
      expected: ['/a', '/b', '/c'].map((p) => ({ ok: true, status: 200, headers: { ...text(p), 'keep-alive': 'timeout=1' }, body: p })),
    },
  ]);
});

describe('HTTP conformance: resets, partial responses, deadlines, refusals', () => {
  conformance([
    {
      name: 'RST before any response byte: reset, no status; the next request works',
      script: (req, conn) => (req.target === '/rst' ? conn.reset() : conn.write(okText(req.target))),
      run: async ({ send }) => [await send('/rst'), await send('/after')],
      expected: [{ ok: false, kind: 'reset' }, echoed('/after')],
    },
    {
      name: 'RST mid-headers: reset, no status',
      script: async (req, conn) => {
        if (req.target !== '/rst') return conn.write(okText(req.target));
        await conn.writePieces(['HTTP/1.1 200 OK\r\nContent-Le']);
        conn.reset();
      },
      run: async ({ send }) => [await send('/rst'), await send('/after')],
      expected: [{ ok: false, kind: 'reset' }, echoed('/after')],
    },
    {
      name: 'RST mid-body: reset, no status',
      script: async (req, conn) => {
        if (req.target !== '/rst') return conn.write(okText(req.target));
        await conn.writePieces([head('200 OK', 'Content-Length: 100') + '0123456789']);
        conn.reset();
      },
      run: async ({ send }) => [await send('/rst'), await send('/after')],
      expected: [{ ok: false, kind: 'reset' }, echoed('/after')],
    },
    {
      name: 'FIN before any response byte (a request in flight): reset',
      script: (req, conn) => (req.target === '/fin' ? void conn.end() : conn.write(okText(req.target))),
      run: async ({ send }) => [await send('/fin'), await send('/after')],
      expected: [{ ok: false, kind: 'reset' }, echoed('/after')],
    },
    {
      name: 'FIN mid-headers: reset',
      script: async (req, conn) => {
        if (req.target !== '/fin') return conn.write(okText(req.target));
        await conn.writePieces(['HTTP/1.1 200 OK\r\nX-A: 1\r\n']);
        void conn.end();
      },
      run: async ({ send }) => [await send('/fin'), await send('/after')],
      expected: [{ ok: false, kind: 'reset' }, echoed('/after')],
    },
    {
      name: 'FIN mid-body (Content-Length 100, 10 bytes sent): reset',
      script: async (req, conn) => {
        if (req.target !== '/fin') return conn.write(okText(req.target));
        await conn.writePieces([head('200 OK', 'Content-Length: 100') + '0123456789']);
        void conn.end();
      },
      run: async ({ send }) => [await send('/fin'), await send('/after')],
      expected: [{ ok: false, kind: 'reset' }, echoed('/after')],
    },
    {
      name: 'FIN mid-chunked-body: reset',
      script: async (req, conn) => {
        if (req.target !== '/fin') return conn.write(okText(req.target));
        await conn.writePieces([head('200 OK', 'Transfer-Encoding: chunked') + '5\r\nhello\r\n']);
        void conn.end();
      },
      run: async ({ send }) => [await send('/fin'), await send('/after')],
      expected: [{ ok: false, kind: 'reset' }, echoed('/after')],
    },
    ...(['FIN', 'RST'] as const).map((how): Case => ({
      name: `${how} on a reused connection after the server read the request (no response byte): reset, and the request is not sent again`,
      // The target got the request and failed it: a load generator counts that failure, once. (A retry would
      // hide it and send the request twice; the race it would cover, a close while idle crossing a request
      // on the wire, is the idle-FIN cases above, where the client has seen the close.)
      script: (req, conn) => {
        if (req.target !== '/lost' || req.conn !== 0) return conn.write(okText(req.target));
        if (how === 'FIN') void conn.end();
        else conn.reset();
      },
      run: async ({ send, server }) => [await send('/ok'), await send('/lost'), await send('/after'), server.requests.map((r) => r.target)],
      expected: [echoed('/ok'), { ok: false, kind: 'reset' }, echoed('/after'), ['/ok', '/lost', '/after']],
    })),
    {
      name: 'deadline: the server never answers → timeout; the next request on the client works',
      script: (req, conn) => (req.target === '/hang' ? undefined : conn.write(okText(req.target))),
      run: async ({ send }) => [await send('/hang', { timeoutMs: 150 }), await send('/after')],
      expected: [{ ok: false, kind: 'timeout' }, echoed('/after')],
    },
    {
      name: 'deadline: headers sent, then the body stalls → timeout; the next request works',
      script: (req, conn) => (req.target === '/stall' ? conn.write(head('200 OK', 'Content-Length: 100') + 'partial') : conn.write(okText(req.target))),
      run: async ({ send }) => [await send('/stall', { timeoutMs: 150 }), await send('/stall', { timeoutMs: 150, wantBody: false }), await send('/after')],
      expected: [{ ok: false, kind: 'timeout' }, { ok: false, kind: 'timeout' }, echoed('/after')],
    },
    {
      name: 'deadline: a 103 Early Hints, then nothing → timeout',
      script: (req, conn) => (req.target === '/stall' ? conn.write(head('103 Early Hints', 'Link: </a.css>; rel=preload')) : conn.write(okText(req.target))),
      run: async ({ send }) => [await send('/stall', { timeoutMs: 150 }), await send('/after')],
      expected: [{ ok: false, kind: 'timeout' }, echoed('/after')],
    },
    {
      name: 'deadline: a request waiting for the one connection (cap 1) times out in the queue',
      connections: 1,
      script: (req, conn) => (req.target === '/hang' ? undefined : conn.write(okText(req.target))),
      run: async ({ send }) => {
        const hung = send('/hang', { timeoutMs: 300 });
        const waiting = send('/queued', { timeoutMs: 100 });
        return [await waiting, await hung, await send('/after')];
      },
      expected: [{ ok: false, kind: 'timeout' }, { ok: false, kind: 'timeout' }, echoed('/after')],
    },
    {
      name: 'connection refused (a port opened, then closed) → refused',
      script: () => undefined,
      run: async ({ send }) => [await send('/', { origin: `http://127.0.0.1:${await closedPort()}` })],
      expected: [{ ok: false, kind: 'refused' }],
    },
    {
      name: 'body_too_large: a declared Content-Length over bodyLimit fails with its status; the next request works',
      script: (req, conn) => conn.write(req.target === '/big' ? head('201 Created', 'Content-Length: 5000') + 'z'.repeat(5000) : okText(req.target)),
      run: async ({ send }) => [await send('/big', { bodyLimit: 100 }), await send('/after')],
      expected: [{ ok: false, kind: 'body_too_large', status: 201 }, echoed('/after')],
    },
    {
      name: 'body_too_large: a chunked body growing over bodyLimit fails with its status; the next request works',
      script: async (req, conn) => {
        if (req.target !== '/big') return conn.write(okText(req.target));
        await conn.writePieces([head('500 Internal Server Error', 'Transfer-Encoding: chunked'), `40\r\n${'a'.repeat(64)}\r\n`, `40\r\n${'b'.repeat(64)}\r\n`]);
        // Nothing more: the client must stop at the limit, not wait for the end.
      },
      run: async ({ send }) => [await send('/big', { bodyLimit: 100 }), await send('/after')],
      expected: [{ ok: false, kind: 'body_too_large', status: 500 }, echoed('/after')],
    },
    {
      name: 'body_too_large: a body without a length (until close) growing over bodyLimit',
      script: (req, conn) => (req.target === '/big' ? conn.write(head('200 OK') + 'c'.repeat(200)) : conn.write(okText(req.target))),
      run: async ({ send }) => [await send('/big', { bodyLimit: 100 }), await send('/after')],
      expected: [{ ok: false, kind: 'body_too_large', status: 200 }, echoed('/after')],
    },
  ]);
});

describe('HTTP conformance: malformed responses and invalid requests', () => {
  const malformed = (name: string, bytes: string): Case => ({
    name: `malformed response: ${name}; the next request works`,
    script: (req, conn) => conn.write(req.target === '/bad' ? bytes : okText(req.target)),
    run: async ({ send }) => [await send('/bad'), await send('/after')],
    expected: [{ ok: false, kind: 'other' }, echoed('/after')],
  });
  conformance([
    malformed('a garbage status line', 'garbage\r\n\r\n'),
    malformed('a status that is not a number', 'HTTP/1.1 2x0 OK\r\nContent-Length: 0\r\n\r\n'),
    malformed('a bad chunk size', head('200 OK', 'Transfer-Encoding: chunked') + 'zz\r\nhello\r\n0\r\n\r\n'),
    malformed('a chunk size too large for any integer', head('200 OK', 'Transfer-Encoding: chunked') + 'fffffffffffffffffff\r\nx\r\n'),
    malformed('Content-Length that is not a number', head('200 OK', 'Content-Length: abc') + 'abc'),
    malformed('two different Content-Lengths', head('200 OK', 'Content-Length: 3', 'Content-Length: 5') + 'abcde'),
    malformed('a header line without a colon', head('200 OK', 'Content-Length: 2', 'NoColonHere') + 'ok'),
    {
      name: 'an invalid request path (a space, a control character) fails the same way, and nothing reaches the server',
      leanMayDecline: true,
      script: echoPath,
      run: async ({ send, server }) => [await send('/a b'), await send('/a\u0001b'), await send('/a\r\nX-Injected: 1'), server.connections(), server.bytesReceived()],
      expected: [{ ok: false, kind: 'other' }, { ok: false, kind: 'other' }, { ok: false, kind: 'other' }, 0, 0],
    },
    {
      name: 'a header value with CR/LF, or past Latin-1, fails the same way, and nothing reaches the server',
      leanMayDecline: true,
      script: echoPath,
      run: async ({ send, server }) => [
        await send('/', { headers: { 'x-evil': 'a\r\nX-Injected: 1' } }),
        await send('/', { headers: { 'x-evil': 'a\nb' } }),
        await send('/', { headers: { 'x-evil': 'a\rb' } }),
        await send('/', { headers: { 'x-not-latin1': 'tick ✓' } }),
        server.connections(),
        server.bytesReceived(),
      ],
      expected: [...times(4, { ok: false, kind: 'other' }), 0, 0],
    },
  ]);
});

describe('HTTP conformance: requests as the server receives them', () => {
  /** What the server saw of a request, with the Host value checked and replaced (each run has its own port). */
  const seen = (server: RawServer, req: RawRequest | undefined) => {
    if (!req) return 'no request';
    const host = headerOf(req, 'host');
    return {
      method: req.method,
      target: req.target,
      version: req.version,
      host: host.length === 1 && host[0] === `127.0.0.1:${server.port}` ? 'the origin' : host,
      // Host is checked above; Connection is hop-by-hop (undici sends keep-alive, and close with HEAD).
      fields: req.headers.map(([n, v]) => [n.toLowerCase(), v]).filter(([n]) => n !== 'host' && n !== 'connection').sort(),
      body: req.body.toString('utf8'),
    };
  };
  conformance([
    {
      name: 'GET: method, path with query, Host, user headers (mixed-case names), no body framing',
      script: echoPath,
      run: async ({ send, server }) => {
        const res = await send('/search?q=a%20b&page=2', { headers: { 'X-Mixed-Case': 'Value One', accept: 'application/json', 'x-trace-ID': 'abc' } });
        return [res.status, seen(server, server.requests[0])];
      },
      expected: [200, {
        method: 'GET', target: '/search?q=a%20b&page=2', version: 'HTTP/1.1', host: 'the origin',
        fields: [['accept', 'application/json'], ['x-mixed-case', 'Value One'], ['x-trace-id', 'abc']], body: '',
      }],
    },
    {
      name: 'a Host header the step sets replaces the origin\'s; Latin-1 in the path and a header value goes as Latin-1 bytes',
      script: echoPath,
      run: async ({ send, server }) => {
        const res = await send('/caf\u00e9?q=\u00fc', { headers: { Host: 'shop.example:8080', 'X-Name': 'Jos\u00e9' } });
        const req = server.requests[0];
        return [res.status, req?.target, headerOf(req!, 'host'), headerOf(req!, 'x-name'), req?.head.includes('caf\u00e9')];
      },
      expected: [200, '/caf\u00e9?q=\u00fc', ['shop.example:8080'], ['Jos\u00e9'], true],
    },
    {
      name: 'POST with a UTF-8 body: Content-Length in bytes, the body intact',
      script: echoPath,
      run: async ({ send, server }) => {
        const body = JSON.stringify({ name: 'café ✓ 日本' });
        const res = await send('/orders', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body });
        return [res.status, seen(server, server.requests[0])];
      },
      expected: [200, {
        method: 'POST', target: '/orders', version: 'HTTP/1.1', host: 'the origin',
        fields: [['content-length', String(Buffer.byteLength(JSON.stringify({ name: 'café ✓ 日本' })))], ['content-type', 'application/json']],
        body: JSON.stringify({ name: 'café ✓ 日本' }),
      }],
    },
    {
      name: 'PUT, PATCH, DELETE, OPTIONS and an empty POST, each on the one keep-alive connection',
      script: (req, conn) => conn.write(okText(`${req.method} ${req.body.length}`)),
      run: async ({ send, server }) => {
        const out = [];
        for (const [method, body] of [['PUT', 'p'], ['PATCH', 'pa'], ['DELETE', undefined], ['OPTIONS', undefined], ['POST', '']] as const) out.push((await send('/x', { method, body })).body);
        return [out, server.requests.map((r) => seen(server, r)), server.connections()];
      },
      expected: [
        ['PUT 1', 'PATCH 2', 'DELETE 0', 'OPTIONS 0', 'POST 0'],
        [['PUT', 'p'], ['PATCH', 'pa'], ['DELETE', undefined], ['OPTIONS', undefined], ['POST', '']].map(([method, body]) => ({
          method, target: '/x', version: 'HTTP/1.1', host: 'the origin', body: body ?? '',
          fields: body === undefined ? [] : [['content-length', String(body.length)]],
        })),
        1,
      ],
    },
    {
      name: 'several requests on one keep-alive connection, in order',
      script: echoPath,
      run: async ({ send, server }) => [await send('/1'), await send('/2?x=1'), await send('/3'), server.requests.map((r) => [r.conn, r.target])],
      expected: [echoed('/1'), echoed('/2?x=1'), echoed('/3'), [[0, '/1'], [0, '/2?x=1'], [0, '/3']]],
    },
  ]);
});

describe('HTTP conformance: connection cap and exact counts', () => {
  conformance([
    {
      name: 'connections: 1 and 3 concurrent requests: one connection, all succeed in order, queued() > 0 while they wait',
      connections: 1,
      script: async (req, conn) => {
        if (req.target === '/1') await gate.released;
        await conn.write(okText(req.target));
      },
      run: async ({ send, server, client }) => {
        const all = Promise.all(['/1', '/2', '/3'].map((p) => send(p)));
        await server.until('the first request', () => server.requests.length === 1);
        const queued = client.queued();
        gate.release();
        const results = await all;
        return [results, queued, client.queued(), server.connections(), server.requests.map((r) => r.target)];
      },
      expected: [[echoed('/1'), echoed('/2'), echoed('/3')], 2, 0, 1, ['/1', '/2', '/3']],
    },
    {
      name: '200 sequential requests on one connection (one step\'s header object, reused): all succeed, exactly 200 seen by the server',
      script: echoPath,
      run: async ({ send, server }) => {
        const headers = { 'X-Step': 'checkout' };
        let ok = 0;
        for (let i = 0; i < 200; i++) if ((await send(`/n${i}`, { headers, headersReused: true })).body === `/n${i}`) ok++;
        return [ok, server.requests.length, server.requests.filter((r) => headerOf(r, 'x-step')[0] === 'checkout').length, server.connections()];
      },
      expected: [200, 200, 200, 1],
    },
    {
      name: '100 concurrent requests, cap 4: every one settles once, at most 4 connections',
      connections: 4,
      script: echoPath,
      run: async ({ send, server }) => {
        const results = await Promise.all(Array.from({ length: 100 }, (_, i) => send(`/c${i}`)));
        return [results.filter((r, i) => r.body === `/c${i}`).length, server.requests.length, server.connections() <= 4];
      },
      expected: [100, 100, true],
    },
  ]);
});

/** A promise a script can hold a response on until the case's run releases it; a new one for each run. */
function newGate(): { released: Promise<void>; release: () => void } {
  let release = () => {};
  const released = new Promise<void>((resolve) => { release = resolve; });
  return { released, release };
}

describe('HTTP conformance: the lean path review (issue 16)', () => {
  const BIG_HEADER = `X-Big: ${'v'.repeat(17 * 1024)}`;
  const BIG_SIZES = [40 * 1024, 100_000, 200 * 1024];
  /** A response's facts without its body, and the body's length: for bodies too big to show in a diff. */
  const sized = (o: Outcome) => ({ ...o, body: o.body?.length });
  /** A response's facts with its header names only: for header values too big to show in a diff. */
  const named = (o: Outcome) => (o.headers ? { ...o, headers: Object.keys(o.headers) } : o);
  const malformed = (name: string, bytes: string): Case => ({
    name: `malformed response: ${name}; the next request works`,
    script: (req, conn) => conn.write(req.target === '/bad' ? bytes : okText(req.target)),
    run: async ({ send }) => [await send('/bad'), await send('/after')],
    expected: [{ ok: false, kind: 'other' }, echoed('/after')],
  });
  /** Cap 2 and six concurrent requests, each connection closed by the server after one response. */
  const closedAfterOne = (name: string, answer: (conn: RawConnection) => Promise<void>): Case => ({
    name,
    connections: 2,
    script: (_req, conn) => answer(conn),
    run: async ({ send, server }) => {
      const results = await Promise.all(Array.from({ length: 6 }, (_, i) => send(`/q${i}`)));
      return [results.filter((r) => r.ok && r.body === 'ok').length, server.requests.length, server.connections(), server.peakOpen() <= 2];
    },
    expected: [6, 6, 6, true],
  });
  conformance([
    ...(['FIN', 'RST'] as const).map((how): Case => ({
      name: `an idle connection closed (${how}) in the same turn as another connection's response arrives: the next request succeeds on a new connection`,
      // Cap 2: /b and /a each on their own connection. Once /a's response has been read (its connection idle),
      // the server closes that connection and, in the same turn, answers /b with Connection: close. The client
      // reads the close and the response in one poll; /c must go on a new connection, not fail on the dead one.
      connections: 2,
      script: async (req, conn) => {
        if (req.target !== '/b') return conn.write(okText(req.target));
        await gate.released;
        const idle = serverOf.current?.connection(1 - conn.index);
        const answer = () => { void conn.write(okText(req.target, 'Connection: close')).then(() => conn.end()); };
        if (!idle) return answer();
        if (how === 'FIN') idle.socket.end(answer);
        else {
          idle.reset();
          answer();
        }
      },
      run: async ({ send, server }) => {
        serverOf.current = server;
        const b = send('/b');
        await server.until('/b received', () => server.requests.length === 1);
        const a = await send('/a');
        gate.release();
        const bRes = await b;
        const c = await send('/c');
        return [a, bRes, c, server.requests.map((r) => r.target), server.connections()];
      },
      expected: [echoed('/a'), { ...echoed('/b'), headers: { ...text('/b'), connection: 'close' } }, echoed('/c'), ['/b', '/a', '/c'], 3],
    })),
    {
      name: 'response headers over 16 KiB (17 KiB in one write), after a first response on the connection → other; the next request works',
      script: (req, conn) => conn.write(req.target === '/bad' ? okText('ok', BIG_HEADER) : okText(req.target)),
      // After a first response on the connection too: the limit holds for every response, not the first only.
      run: async ({ send }) => [await send('/before'), named(await send('/bad')), await send('/after')],
      expected: [echoed('/before'), { ok: false, kind: 'other' }, echoed('/after')],
    },
    ...([['in 1000-byte pieces', 1000], ['in two pieces, the first of 100 bytes', 100]] as const).map(([how, first]): Case => ({
      name: `response headers over 16 KiB (17 KiB ${how}), after a first response on the connection → other; the next request works`,
      script: (req, conn) => {
        if (req.target !== '/bad') return conn.write(okText(req.target));
        const bytes = Buffer.from(okText('ok', BIG_HEADER));
        const pieces = first === 100 ? [bytes.subarray(0, 100), bytes.subarray(100)]
          : Array.from({ length: Math.ceil(bytes.length / 1000) }, (_, i) => bytes.subarray(i * 1000, (i + 1) * 1000));
        return conn.writePieces(pieces);
      },
      // After a first response on the connection too: the limit holds for every response, not the first only.
      run: async ({ send }) => [await send('/before'), named(await send('/bad')), await send('/after')],
      expected: [echoed('/before'), { ok: false, kind: 'other' }, echoed('/after')],
    })),
    {
      // A read that completes a response is not header bytes, however big: 40 KiB fits in one read (more than the
      // 16 KiB header limit), 100 000 and 200 KiB end with a big read after 64 KiB ones.
      name: 'bodies of 40 KiB, 100 000 bytes and 200 KiB (Content-Length, one write), kept and discarded, then more requests on the same connection, sequential and concurrent',
      script: (req, conn) => {
        const size = Number(req.target.slice(1));
        return conn.write(size > 0 ? okText('w'.repeat(size)) : okText(req.target));
      },
      run: async ({ send, server }) => {
        const out = [];
        for (const size of BIG_SIZES) out.push(sized(await send(`/${size}`)), sized(await send(`/${size}`, { wantBody: false })));
        out.push(await send('/after'));
        const together = await Promise.all([...BIG_SIZES.map((size, i) => send(`/${size}`, { wantBody: i % 2 === 0 })), send('/last')]);
        return [...out, ...together.map(sized), server.connections()];
      },
      expected: [
        ...BIG_SIZES.flatMap((size) => [
          { ok: true, status: 200, headers: { 'content-length': String(size) }, body: size },
          { ok: true, status: 200, headers: { 'content-length': String(size) }, body: undefined },
        ]),
        echoed('/after'),
        ...BIG_SIZES.map((size, i) => ({ ok: true, status: 200, headers: { 'content-length': String(size) }, body: i % 2 === 0 ? size : undefined })),
        { ...echoed('/last'), body: '/last'.length },
        1,
      ],
    },
    {
      name: 'Transfer-Encoding: gzip, chunked: the chunks joined, the gzip coding left as it is; the connection reused',
      script: (_req, conn) => conn.write(Buffer.concat([
        Buffer.from(head('200 OK', 'Transfer-Encoding: gzip, chunked') + `${GZIPPED.length.toString(16)}\r\n`), GZIPPED, Buffer.from('\r\n0\r\n\r\n'),
      ])),
      run: async ({ send, server }) => [await send('/', { timeoutMs: 1000 }), await send('/', { timeoutMs: 1000 }), server.connections()],
      expected: [...times(2, { ok: true, status: 200, headers: { 'transfer-encoding': 'gzip, chunked' }, body: GZIPPED.toString('utf8') }), 1],
    },
    malformed('status 099', head('099 X', 'Content-Length: 2') + 'ok'),
    malformed('Transfer-Encoding: chunked with Content-Length', head('200 OK', 'Transfer-Encoding: chunked', 'Content-Length: 5') + '5\r\nhello\r\n0\r\n\r\n'),
    malformed('a NUL byte in a header value', head('200 OK', 'X-A: a\0b', 'Content-Length: 2') + 'ok'),
    {
      name: 'an unasked 101 Switching Protocols: the request fails, the next one works on a new connection',
      script: (req, conn) => conn.write(req.target === '/up' ? head('101 Switching Protocols', 'Connection: Upgrade', 'Upgrade: websocket') : okText(req.target)),
      run: async ({ send }) => [await send('/up'), await send('/after')],
      expected: [{ ok: false, kind: 'other' }, echoed('/after')],
      undici: { facts: [{ ok: false, kind: 'reset' }, echoed('/after')], why: "undici fails a 101 it did not ask for as a socket error, 'bad upgrade'" },
    },
    {
      name: 'a response whose lines end in a bare LF: accepted (RFC 9112 §2.2 lets a recipient), the next request works',
      script: (req, conn) => conn.write(req.target === '/lf' ? 'HTTP/1.1 200 OK\nContent-Length: 2\n\nok' : okText(req.target)),
      run: async ({ send }) => [await send('/lf'), await send('/after')],
      expected: [{ ok: true, status: 200, headers: { 'content-length': '2' }, body: 'ok' }, echoed('/after')],
      undici: { facts: [{ ok: false, kind: 'other' }, echoed('/after')], why: "undici's llhttp refuses a line ending without CR ('Missing expected CR after response line')" },
    },
    // Lines that never end (20 KB and the connection left open): each fails at once instead of growing in memory.
    malformed('a trailer line that never ends', `${head('200 OK', 'Transfer-Encoding: chunked')}1\r\na\r\n0\r\nX-T: ${'t'.repeat(20_000)}`),
    malformed('a chunk-size line that never ends', `${head('200 OK', 'Transfer-Encoding: chunked')}${'a'.repeat(20_000)}`),
    // 10,000 spaces then a control character: a header regex that backtracks took seconds to refuse such a line.
    malformed('a long header value of spaces ending in a control character', head('200 OK', `X-A:${' '.repeat(10_000)}\u0001`, 'Content-Length: 2') + 'ok'),
    {
      name: 'trailers count toward their own message only: 12 KB of trailers, then 6 KB of headers on the same connection',
      script: (req, conn) => conn.write(req.target === '/t'
        ? `${head('200 OK', 'Transfer-Encoding: chunked')}3\r\nabc\r\n0\r\n${Array.from({ length: 12 }, (_, i) => `X-T${i}: ${'t'.repeat(1000)}\r\n`).join('')}\r\n`
        : head('200 OK', ...Array.from({ length: 6 }, (_, i) => `X-H${i}: ${'h'.repeat(1000)}`), 'Content-Length: 2') + 'ok'),
      run: async ({ send, server }) => [(await send('/t')).status, (await send('/h')).status, server.connections()],
      expected: [200, 200, 1],
    },
    {
      name: 'the same Content-Length twice: as undici takes it; the next request works',
      script: (req, conn) => conn.write(req.target === '/dup' ? head('200 OK', 'Content-Length: 2', 'Content-Length: 2') + 'ok' : okText(req.target)),
      run: async ({ send }) => [await send('/dup'), await send('/after')],
      expected: [{ ok: false, kind: 'other' }, echoed('/after')],
    },
    {
      name: 'an obs-fold continuation line in the headers: as undici takes it; the next request works',
      script: (req, conn) => conn.write(req.target === '/fold' ? head('200 OK', 'X-Fold: a', '  b', 'Content-Length: 2') + 'ok' : okText(req.target)),
      run: async ({ send }) => [await send('/fold'), await send('/after')],
      expected: [{ ok: false, kind: 'other' }, echoed('/after')],
    },
    {
      name: 'HEAD, 204 and 304 with a Content-Length over bodyLimit (wantBody): each ok with an empty body; the next request works',
      script: (req, conn) => conn.write(
        req.method === 'HEAD' ? head('200 OK', 'Content-Length: 1234')
          : req.target === '/204' ? head('204 No Content', 'Content-Length: 1234')
            : req.target === '/304' ? head('304 Not Modified', 'Content-Length: 1234') : okText(req.target),
      ),
      run: async ({ send }) => [
        await send('/head', { method: 'HEAD', bodyLimit: 100 }), await send('/after'),
        await send('/204', { bodyLimit: 100 }), await send('/after'),
        await send('/304', { bodyLimit: 100 }), await send('/after'),
      ],
      expected: [
        { ok: true, status: 200, headers: { 'content-length': '1234' }, body: '' }, echoed('/after'),
        { ok: true, status: 204, headers: { 'content-length': '1234' }, body: '' }, echoed('/after'),
        { ok: true, status: 304, headers: { 'content-length': '1234' }, body: '' }, echoed('/after'),
      ],
      undici: {
        facts: [
          { ok: true, status: 200, headers: { 'content-length': '1234' }, body: '' }, echoed('/after'),
          { ok: false, kind: 'other' }, echoed('/after'),
          { ok: false, kind: 'other' }, echoed('/after'),
        ],
        why: 'undici fails a 204 or 304 whose Content-Length is not 0 as UND_ERR_RES_CONTENT_LENGTH_MISMATCH, whatever bodyLimit is',
      },
    },
    {
      name: 'HEAD answered with neither Content-Length nor Transfer-Encoding: ok, empty body; the connection is reused (a HEAD answer has no body)',
      script: (req, conn) => conn.write(req.method === 'HEAD' ? head('200 OK', 'Content-Type: text/html') : okText(req.target)),
      run: async ({ send, server }) => [
        await send('/h1', { method: 'HEAD' }), await send('/h2', { method: 'HEAD', wantBody: false }), await send('/after'),
        server.requests.map((r) => [r.conn, r.target]),
      ],
      expected: [
        { ok: true, status: 200, headers: { 'content-type': 'text/html' }, body: '' }, { ok: true, status: 200, headers: { 'content-type': 'text/html' } }, echoed('/after'),
        [[0, '/h1'], [0, '/h2'], [0, '/after']],
      ],
      undici: {
        facts: [
          { ok: true, status: 200, headers: { 'content-type': 'text/html' }, body: '' }, { ok: true, status: 200, headers: { 'content-type': 'text/html' } }, echoed('/after'),
          [[0, '/h1'], [1, '/h2'], [2, '/after']],
        ],
        why: "undici sends HEAD with 'connection: close' and opens a new connection for the next request",
      },
    },
    {
      name: 'a Keep-Alive: timeout=3 hint, the server keeping the connection: reused right away, not after 2 s idle',
      // A real wait, the one in this suite: the client's idle limit for this hint is a timer (undici's: 3 s less its
      // keepAliveTimeoutThreshold, 2 s; the lean path's: 3 s less 1 s), and only time passing can show it. 2.1 s is
      // past both limits and well before the server's 3 s.
      script: (req, conn) => conn.write(okText(req.target, 'Keep-Alive: timeout=3')),
      run: async ({ send, server }) => {
        const first = [await send('/a'), await send('/b')];
        await new Promise((resolve) => setTimeout(resolve, 2100));
        const late = await send('/c');
        return [...first.map((o) => o.status), late.status, server.requests.map((r) => [r.conn, r.target]), isClosed(server, 0)];
      },
      expected: [200, 200, 200, [[0, '/a'], [0, '/b'], [1, '/c']], true],
    },
    closedAfterOne('cap 2, six concurrent requests, the server closing each connection after one response (Connection: close): all succeed, six connections, at most two at once',
      async (conn) => {
        await conn.write(okText('ok', 'Connection: close'));
        void conn.end();
      }),
  ]);
});

/** The server of the run in progress, for a script that acts on another connection than its own. */
const serverOf: { current?: RawServer } = {};

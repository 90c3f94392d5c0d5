import { connect, type Socket } from 'node:net';
import { HTTPParser } from 'http-parser-js';
import {
  classifyError, CONNECT_TIMEOUT_MS, deadlineMessage, errorMessage, TimeoutError,
  type HttpRequest, type HttpResponse, type PendingRequest,
} from './http-exchange.js';

/**
 * The lean HTTP/1.1 path: plain-HTTP keep-alive connections on raw `net`
 * sockets, responses parsed by http-parser-js (the parser autocannon uses),
 * one write per request. It does what HttpClient's undici path does for the
 * requests it takes (same connection cap and wait accounting, same outcomes
 * and error kinds: test/http-conformance.test.ts runs the same cases through
 * both), at about a third less CPU per request than undici (docs/benchmarks.md).
 */

// Header values as Latin-1, as undici reads them (the parser's default, 'ascii', drops the high bit).
HTTPParser.encoding = 'latin1';

/** Most response header bytes, as undici's default (Node's --max-http-header-size): more fails the request. */
const MAX_HEADER_BYTES = 16 * 1024;
/** An idle connection is dropped this long before the server's `Keep-Alive: timeout` would close it, milliseconds. */
const KEEP_ALIVE_MARGIN_MS = 1_000;
/** An idle connection is dropped after this long without a server hint, milliseconds (undici's keepAliveTimeout here). */
const IDLE_TIMEOUT_MS = 30_000;
const KEEP_ALIVE_TIMEOUT = /timeout=(\d+)/;
const DIGITS = /^\d+$/;
const CLOSE_TOKEN = /(?:^|,)\s*close\s*(?:,|$)/;
const KEEP_ALIVE_TOKEN = /(?:^|,)\s*keep-alive\s*(?:,|$)/;
/**
 * A header line: a token, a colon, then a value of tab, visible ASCII and
 * obs-text (no folded lines, no NUL or other controls). Linear in the line's
 * length whether it matches or not (no two parts may take the same spaces:
 * one that could took seconds to fail on a long line of spaces); the white
 * space around the value is trimmed after.
 */
const HEADER_FIELD = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):([\t\x20-\x7e\x80-\xff]*)$/;
/** A chunk-size line: at most 13 hex digits (below 2^53), then optional extensions. */
const CHUNK_SIZE = /^([0-9a-fA-F]{1,13})[ \t]*(?:;.*)?$/;

/** What the lean path reads of http-parser-js beyond its typed API (pinned in package.json; the conformance suite checks it). */
interface ParserInternals {
  offset: number;
  end: number;
  state: string;
  body_bytes: number | null;
  isChunked: boolean;
  /** A line not ended yet (its bytes so far), in any state that reads lines. */
  line: string;
  /** Ours: bytes of header lines since the last header block (strict()). */
  headerBytes: number;
  consumeLine(): string | undefined;
  parseHeader(line: string, headers: string[]): void;
  BODY_CHUNKHEAD(): void;
}

/**
 * Makes a parser as strict as undici's llhttp where http-parser-js is
 * lenient: a header line without a colon, or a chunk size that is not hex,
 * fails the response instead of being skipped or read as the last chunk.
 * Header blocks past MAX_HEADER_BYTES fail too.
 */
function strict(parser: InstanceType<typeof HTTPParser>): void {
  // The parser's own limit counts every byte of a read that ends between
  // messages (a large body's last read), so it would fail a response that was
  // fine, after it completed: header lines are counted here instead, and
  // LeanConnection bounds a header block that never ends.
  Object.defineProperty(parser, 'maxHeaderSize', { get: () => Infinity, set: () => {} });
  const p = parser as unknown as ParserInternals;
  p.headerBytes = 0;
  // One match checks the line and splits it (the parser's own split is more lenient, and a second regex per line).
  p.parseHeader = function (line, headers) {
    this.headerBytes += line.length + 2;
    if (this.headerBytes > MAX_HEADER_BYTES) throw new Error(`response headers over ${MAX_HEADER_BYTES} bytes`);
    const m = HEADER_FIELD.exec(line);
    if (m === null) throw new Error('invalid header line');
    headers.push(m[1]!, trimSpaces(m[2]!));
  };
  p.BODY_CHUNKHEAD = function () {
    const line = this.consumeLine();
    if (line === undefined) return;
    const m = CHUNK_SIZE.exec(line);
    if (m === null) throw new Error('invalid chunk size');
    const size = parseInt(m[1]!, 16);
    this.body_bytes = size;
    this.state = size === 0 ? 'BODY_CHUNKTRAILERS' : 'BODY_CHUNK';
  };
}

/** What http-parser-js's error says, in words where its code says more than its message ("Parse Error"). */
function parseErrorMessage(err: Error): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'HPE_UNEXPECTED_CONTENT_LENGTH') return 'content-length twice with different values';
  if (code === 'HPE_INVALID_CONSTANT') return 'not an HTTP/1.1 status line';
  if (code === 'HPE_LF_EXPECTED') return 'a CR without LF in a header line';
  return code ? `${err.message} (${code})` : err.message;
}

/** A header value without the spaces and tabs around it (only those: obs-text such as \xa0 is the value's). */
function trimSpaces(v: string): string {
  let a = 0;
  let b = v.length;
  while (a < b && (v.charCodeAt(a) === 32 || v.charCodeAt(a) === 9)) a++;
  while (b > a && (v.charCodeAt(b - 1) === 32 || v.charCodeAt(b - 1) === 9)) b--;
  return a === 0 && b === v.length ? v : v.slice(a, b);
}

/** Whether the chunk being parsed holds bytes past the message that just ended. */
function unparsed(parser: InstanceType<typeof HTTPParser>): boolean {
  const p = parser as unknown as ParserInternals;
  return p.offset < p.end;
}

/**
 * Requests due to be written after the first of an event-loop turn, written
 * together once the loop has run every callback that was ready
 * (setImmediate). The first goes at once and wakes the target, which works
 * on it while this thread reads the other responses; the rest then find it
 * awake. A write per response as each came (undici's way) paid for waking
 * the target again and again: against nginx on loopback, 50 connections,
 * one write each was 59-62k req/s, all batched 66-74k, this way 73-85k
 * (docs/benchmarks.md).
 */
const outbox: LeanConnection[] = [];
let flushScheduled = false;

function flushOutbox(): void {
  flushScheduled = false;
  for (let i = 0; i < outbox.length; i++) outbox[i]!.flush();
  outbox.length = 0;
}

/** The read buffer of every lean connection in this thread: each read is parsed (and any body kept copied) before the next. */
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);

/** A response of the lean path: its header object is built when first read (most responses are never asked for it). */
class LeanResponse {
  readonly ok = true;
  private built: Record<string, string | string[]> | undefined;

  constructor(
    readonly status: number,
    private readonly raw: string[],
    readonly setCookie: string | string[] | undefined,
    readonly body: string | undefined,
  ) {}

  get headers(): Record<string, string | string[]> {
    return (this.built ??= headerObject(this.raw));
  }
}

/** Header lines as undici gives them: names lower-cased, a repeated header as a list, `__proto__` as a plain key. */
function headerObject(raw: string[]): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {};
  for (let i = 0; i < raw.length; i += 2) {
    const key = raw[i]!.toLowerCase();
    const value = raw[i + 1]!;
    const prev = Object.hasOwn(headers, key) ? headers[key] : undefined;
    if (prev === undefined) {
      if (key === '__proto__') Object.defineProperty(headers, key, { value, enumerable: true, configurable: true, writable: true });
      else headers[key] = value;
    } else if (typeof prev === 'string') headers[key] = [prev, value];
    else prev.push(value);
  }
  return headers;
}

export type Settle = (exchange: LeanExchange, res: HttpResponse) => void;

/** One request on the lean path, from the wait for a connection to its last body byte. */
export class LeanExchange implements PendingRequest {
  conn: LeanConnection | undefined;
  /** Waiting in its pool's queue for a free connection. */
  queued = false;
  /** Written to its connection (a request never written is given another connection when its own dies first). */
  written = false;
  settled = false;
  status = 0;
  /** The final response's header lines as the parser gives them: name, value, name, value… */
  private rawHeaders: string[] = [];
  private setCookie: string | string[] | undefined;
  private chunks: Buffer[] | undefined;
  private bytes = 0;

  constructor(
    readonly req: HttpRequest,
    readonly head: string | Buffer,
    readonly deadline: number,
    private readonly pool: OriginPool,
    private readonly done: Settle,
  ) {
    if (req.wantBody) this.chunks = [];
  }

  /**
   * The final response's head: its header lines, Set-Cookie, and the declared
   * length (-1: none); `bodyless`: a HEAD, 204 or 304 answer, whose
   * Content-Length announces no body.
   */
  onHead(status: number, raw: string[], setCookie: string | string[] | undefined, length: number, bodyless: boolean): void {
    this.status = status;
    this.rawHeaders = raw;
    this.setCookie = setCookie;
    // A declared length past the limit fails at once: nothing of it is read.
    if (this.chunks && !bodyless && length > this.req.bodyLimit) this.tooLarge();
  }

  onData(chunk: Buffer): void {
    if (!this.chunks) return;
    this.bytes += chunk.length;
    // A copy: the chunk is a view of the thread's read buffer, which the next read reuses.
    if (this.bytes <= this.req.bodyLimit) this.chunks.push(Buffer.from(chunk));
    else this.tooLarge();
  }

  /** Stops keeping the body (one endless response must not take the generator's memory); the status goes with the failure. */
  private tooLarge(): void {
    this.chunks = undefined;
    const message = `response body over ${this.req.bodyLimit} bytes, kept for a capture or check (defaults.captureBodyLimit)`;
    this.fail({ ok: false, kind: 'body_too_large', message, status: this.status });
  }

  complete(): void {
    const body = this.chunks ? (this.chunks.length === 1 ? this.chunks[0]!.toString('utf8') : Buffer.concat(this.chunks).toString('utf8')) : undefined;
    this.settle(new LeanResponse(this.status, this.rawHeaders, this.setCookie, body));
  }

  expire(): void {
    this.fail({ ok: false, kind: 'timeout', message: deadlineMessage(this.req.timeoutMs) });
  }

  /**
   * Settles as failed, `unsent` when it was never written; a connection
   * still carrying the request is closed (its response would come to the next one).
   */
  fail(res: Extract<HttpResponse, { ok: false }>): void {
    if (this.settled) return;
    const conn = this.conn;
    this.settle(this.written ? res : { ...res, unsent: true });
    if (conn?.exchange === this) conn.destroy();
  }

  private settle(res: HttpResponse): void {
    if (this.settled) return;
    this.settled = true;
    if (this.queued) this.pool.unqueue();
    this.done(this, res);
  }
}

/** One keep-alive connection: a socket, its parser, and the request on it (one at a time: no pipelining). */
class LeanConnection {
  readonly socket: Socket;
  private readonly parser = new HTTPParser(HTTPParser.RESPONSE);
  exchange: LeanExchange | undefined;
  private connected = false;
  /** The response on it said the connection ends after it. */
  private closing = false;
  private informational = false;
  /** Bytes received for the request on it before its final response's head. */
  private headBytes = 0;
  idleSince = 0;
  /** How long it may stay idle, from the server's Keep-Alive hint, milliseconds. */
  idleLimitMs = IDLE_TIMEOUT_MS;
  destroyed = false;

  constructor(private readonly pool: OriginPool) {
    strict(this.parser);
    this.parser[HTTPParser.kOnHeadersComplete] = (info) => this.onHeadersComplete(info);
    this.parser[HTTPParser.kOnBody] = (chunk, offset, length) => this.exchange?.onData(offset === 0 && length === chunk.length ? chunk : chunk.subarray(offset, offset + length));
    this.parser[HTTPParser.kOnMessageComplete] = () => this.onMessageComplete();
    // Reads go straight to the parser, in the thread's one read buffer: no stream machinery, no allocation per read.
    const socket = connect({ host: pool.host, port: pool.port, noDelay: true, onread: { buffer: READ_BUFFER, callback: this.onRead } });
    this.socket = socket;
    socket.setTimeout(CONNECT_TIMEOUT_MS);
    socket.on('timeout', () => {
      if (!this.connected) socket.destroy(new TimeoutError(`connect timeout after ${CONNECT_TIMEOUT_MS} ms`));
    });
    socket.on('connect', () => {
      this.connected = true;
      socket.setTimeout(0);
      if (this.exchange) this.write();
    });
    socket.on('end', () => this.onEnd());
    socket.on('error', (err) => this.lost(err));
    socket.on('close', () => {
      this.destroyed = true;
      this.lost(undefined);
      this.pool.closed(this);
    });
  }

  /** Gives the connection a request; it is sent at once, or when the socket connects. */
  assign(ex: LeanExchange): void {
    this.exchange = ex;
    ex.conn = this;
    this.headBytes = 0;
    if (this.connected) this.write();
  }

  /**
   * Sends the request: at once when it is the first this turn of the event
   * loop, else with the others due (see outbox).
   */
  private write(): void {
    if (flushScheduled) outbox.push(this);
    else {
      flushScheduled = true;
      setImmediate(flushOutbox);
      this.flush();
    }
  }

  /** Sends the request on it (called by flushOutbox): head and body in one write. */
  flush(): void {
    const ex = this.exchange;
    if (ex === undefined || ex.settled || this.destroyed) return;
    ex.written = true;
    const body = ex.req.body;
    if (body !== undefined && body.length > 0) {
      this.socket.cork();
      if (typeof ex.head === 'string') this.socket.write(ex.head, 'latin1');
      else this.socket.write(ex.head);
      this.socket.write(body, 'utf8');
      this.socket.uncork();
    } else if (typeof ex.head === 'string') this.socket.write(ex.head, 'latin1');
    else this.socket.write(ex.head);
  }

  /** Whether it has been idle too long to trust (the server may be closing it). */
  stale(now: number): boolean {
    return now - this.idleSince >= this.idleLimitMs;
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.socket.destroy();
  }

  /** onread's callback: true keeps the socket reading. */
  private readonly onRead = (length: number): boolean => {
    this.onSocketData(READ_BUFFER, length);
    return true;
  };

  private onSocketData(chunk: Buffer, length: number): void {
    const ex = this.exchange;
    if (ex === undefined) {
      // Bytes nobody asked for: the connection can no longer be trusted.
      this.destroy();
      return;
    }
    const ret = this.parser.execute(chunk, 0, length);
    if (ret instanceof Error) {
      this.protocolError(ex, parseErrorMessage(ret));
      return;
    }
    // A line that never ends (a header, a trailer, a chunk size) must not take the generator's memory either.
    if ((this.parser as unknown as ParserInternals).line.length > MAX_HEADER_BYTES) {
      this.protocolError(ex, `a response line over ${MAX_HEADER_BYTES} bytes`);
      return;
    }
    // A head that never ends (no blank line, or one endless line) must not take the generator's memory.
    if (this.exchange === ex && ex.status === 0 && (this.headBytes += length) > 4 * MAX_HEADER_BYTES) {
      this.protocolError(ex, `response headers over ${MAX_HEADER_BYTES} bytes`);
    }
  }

  private onHeadersComplete(info: { statusCode: number; headers: string[]; versionMajor: number; versionMinor: number; upgrade: boolean }): number {
    const ex = this.exchange;
    const status = info.statusCode;
    (this.parser as unknown as ParserInternals).headerBytes = 0;
    if (ex === undefined || ex.settled) return 0;
    if (status < 100) return this.protocolError(ex, `invalid status ${status}`);
    if (status < 200 && status !== 101) {
      // An interim response (100 Continue, 103 Early Hints): the final one follows.
      this.informational = true;
      return 0;
    }
    if (status === 101 || info.upgrade) return this.protocolError(ex, `unexpected ${status} (protocol upgrade) to a request that asked for none`);
    // The few headers the connection needs, found by name length first: the object of all is built only if read.
    const raw = info.headers;
    let length: string | undefined;
    let coding: string | undefined;
    let connection = '';
    let hint: string | undefined;
    let setCookie: string | string[] | undefined;
    for (let i = 0; i < raw.length; i += 2) {
      const n = raw[i]!.length;
      if (n !== 10 && n !== 14 && n !== 17) continue;
      const key = raw[i]!.toLowerCase();
      const value = raw[i + 1]!;
      if (key === 'set-cookie') setCookie = setCookie === undefined ? value : typeof setCookie === 'string' ? [setCookie, value] : [...setCookie, value];
      else if (key === 'content-length') {
        if (length !== undefined) return this.protocolError(ex, `content-length twice (${JSON.stringify(length)}, ${JSON.stringify(value)})`);
        if (!DIGITS.test(value)) return this.protocolError(ex, `invalid content-length ${JSON.stringify(value)}`);
        length = value;
      } else if (key === 'transfer-encoding') coding = coding === undefined ? value : `${coding},${value}`;
      else if (key === 'connection') connection += `,${value.toLowerCase()}`;
      else if (key === 'keep-alive') hint = value;
    }
    if (coding !== undefined && length !== undefined) return this.protocolError(ex, 'both transfer-encoding and content-length');
    const bodyless = ex.req.method === 'HEAD' || status === 204 || status === 304;
    let chunked = false;
    if (coding !== undefined && !bodyless) {
      // The body is chunked when chunked is the last coding (`gzip, chunked` too; http-parser-js only knows `chunked` alone).
      chunked = coding.split(',').pop()!.trim().toLowerCase() === 'chunked';
      const p = this.parser as unknown as ParserInternals;
      p.isChunked = chunked;
      p.body_bytes = null;
    }
    // Keep-alive: HTTP/1.1 unless `Connection: close`, HTTP/1.0 only with `keep-alive`; never after a body read to the close.
    const v11 = info.versionMajor > 1 || (info.versionMajor === 1 && info.versionMinor >= 1);
    this.closing = v11 ? CLOSE_TOKEN.test(connection) : !KEEP_ALIVE_TOKEN.test(connection);
    if (!bodyless && !chunked && length === undefined) this.closing = true;
    const m = hint === undefined ? null : KEEP_ALIVE_TIMEOUT.exec(hint);
    if (m) {
      const ms = Number(m[1]) * 1000 - KEEP_ALIVE_MARGIN_MS;
      if (ms <= 0) this.closing = true;
      else this.idleLimitMs = Math.min(ms, IDLE_TIMEOUT_MS);
    }
    ex.onHead(status, raw, setCookie, length === undefined ? -1 : Number(length), bodyless);
    // A HEAD, 204 or 304 response has no body, whatever its Content-Length says (RFC 9110 §6.4.1).
    return bodyless ? 1 : 0;
  }

  /** A response this client cannot trust: the request fails (as undici fails it), the connection closes. */
  private protocolError(ex: LeanExchange, message: string): number {
    ex.fail({ ok: false, kind: 'other', message: `response does not match the HTTP/1.1 protocol (${message})` });
    this.destroy();
    return 1;
  }

  private onMessageComplete(): void {
    // Trailers were counted like headers: the next message starts from 0.
    (this.parser as unknown as ParserInternals).headerBytes = 0;
    if (this.informational) {
      this.informational = false;
      return;
    }
    const ex = this.exchange;
    if (ex === undefined) return;
    this.exchange = undefined;
    ex.conn = undefined;
    // Bytes after the response that nobody asked for: the connection can no longer be trusted.
    if (unparsed(this.parser)) this.closing = true;
    if (this.closing) this.destroy();
    ex.complete();
    if (!this.closing && !this.destroyed) this.pool.release(this);
  }

  /** The server ended its side: a body read until the close is complete; a request still waiting failed. */
  private onEnd(): void {
    if (this.exchange) {
      const ret = this.parser.finish();
      if (ret instanceof Error) this.lost(undefined);
    }
    this.destroy();
  }

  /**
   * The connection failed or closed: a request on it fails with the socket's
   * error, or as a reset when the server just closed (as undici reports both;
   * neither is sent again, so the target's failure stays counted once).
   */
  private lost(err: Error | undefined): void {
    const ex = this.exchange;
    if (ex === undefined || ex.settled) return;
    this.exchange = undefined;
    ex.conn = undefined;
    // Never written (its connection died between being given it and the write): nothing was sent, so it goes on another.
    if (!ex.written && this.connected) {
      this.pool.dispatch(ex);
      return;
    }
    ex.fail(err ? { ok: false, kind: classifyError(err), message: errorMessage(err) } : { ok: false, kind: 'reset', message: 'other side closed' });
  }
}

/**
 * The connections to one origin, at most `cap` (null: no cap). A request
 * takes the most recently used idle connection, else opens one, else waits
 * in order; a freed connection goes to the longest waiter.
 */
export class OriginPool {
  private readonly conns = new Set<LeanConnection>();
  private readonly idle: LeanConnection[] = [];
  private waiting: LeanExchange[] = [];
  private waitHead = 0;
  /** Requests waiting for a connection (settled ones leave the count at once, the queue lazily). */
  queuedCount = 0;

  constructor(
    readonly host: string,
    readonly port: number,
    /** The Host header value: the origin's host and its port unless it is the scheme's default. */
    readonly hostHeader: string,
    private readonly cap: number | null,
    private readonly clock: () => number,
  ) {}

  /** Sends a request now, or once a connection frees. */
  dispatch(ex: LeanExchange): void {
    const now = this.clock();
    while (this.idle.length > 0) {
      const conn = this.idle.pop()!;
      // A connection the server closed (or reset) while it was idle can still be here until its 'close' event.
      if (conn.destroyed || conn.socket.destroyed || conn.stale(now)) {
        conn.destroy();
        continue;
      }
      conn.assign(ex);
      return;
    }
    if (this.cap === null || this.conns.size < this.cap) {
      const conn = new LeanConnection(this);
      this.conns.add(conn);
      conn.assign(ex);
      return;
    }
    ex.queued = true;
    this.queuedCount++;
    this.waiting.push(ex);
  }

  /** A connection that finished its request: to the next waiter, else idle. */
  release(conn: LeanConnection): void {
    const next = this.nextWaiter();
    if (next) conn.assign(next);
    else {
      conn.idleSince = this.clock();
      this.idle.push(conn);
    }
  }

  /** A closed connection leaves the pool; a waiter gets a new one in its place. */
  closed(conn: LeanConnection): void {
    if (!this.conns.delete(conn)) return;
    const i = this.idle.indexOf(conn);
    if (i >= 0) this.idle.splice(i, 1);
    if (this.cap === null || this.conns.size < this.cap) {
      const next = this.nextWaiter();
      if (next) this.dispatch(next);
    }
  }

  unqueue(): void {
    this.queuedCount--;
  }

  private nextWaiter(): LeanExchange | undefined {
    while (this.waitHead < this.waiting.length) {
      const ex = this.waiting[this.waitHead++]!;
      if (ex.settled) continue;
      ex.queued = false;
      this.queuedCount--;
      if (this.waitHead > 1024 && this.waitHead * 2 > this.waiting.length) {
        this.waiting = this.waiting.slice(this.waitHead);
        this.waitHead = 0;
      }
      return ex;
    }
    this.waiting.length = 0;
    this.waitHead = 0;
    return undefined;
  }

  /** Closes every connection; requests still waiting or in flight fail (the run is over). */
  destroy(): void {
    for (let ex = this.nextWaiter(); ex; ex = this.nextWaiter()) ex.fail({ ok: false, kind: 'other', message: 'client closed' });
    for (const conn of [...this.conns]) {
      conn.exchange?.fail({ ok: false, kind: 'other', message: 'client closed' });
      conn.destroy();
    }
  }
}

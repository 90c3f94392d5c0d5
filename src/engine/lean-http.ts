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
 * both), at about half the CPU per request (docs/benchmarks.md).
 */

// Header values as Latin-1, as undici reads them (the parser's default, 'ascii', drops the high bit).
HTTPParser.encoding = 'latin1';

/** Most response header bytes, as undici's default (Node's --max-http-header-size): more fails the request. */
const MAX_HEADER_BYTES = 16 * 1024;
/** An idle connection is dropped this long before the server's `Keep-Alive: timeout` would close it, milliseconds. */
const KEEP_ALIVE_MARGIN_MS = 1_000;
/** An idle connection is dropped after this long without a server hint, milliseconds (undici's keepAliveTimeout here). */
const IDLE_TIMEOUT_MS = 30_000;
/** Methods safe to send again when a reused connection turns out closed before any of the response came. */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);
const KEEP_ALIVE_TIMEOUT = /timeout=(\d+)/;

export type Settle = (exchange: LeanExchange, res: HttpResponse) => void;

/** One request on the lean path, from the wait for a connection to its last body byte. */
export class LeanExchange implements PendingRequest {
  conn: LeanConnection | undefined;
  /** Waiting in its pool's queue for a free connection. */
  queued = false;
  settled = false;
  /** Sent again once already (a reused connection was found closed). */
  retried = false;
  /** Bytes of response seen for it on its current connection. */
  received = 0;
  status = 0;
  headers: Record<string, string | string[]> = {};
  private chunks: Buffer[] | undefined;
  private bytes = 0;

  constructor(
    readonly req: HttpRequest,
    readonly head: string,
    readonly deadline: number,
    private readonly pool: OriginPool,
    private readonly done: Settle,
  ) {
    if (req.wantBody) this.chunks = [];
  }

  onHead(status: number, headers: Record<string, string | string[]>): void {
    this.status = status;
    this.headers = headers;
    // A declared length past the limit fails at once: nothing of it is read.
    const length = Number(headers['content-length']);
    if (this.chunks && length > this.req.bodyLimit) this.tooLarge();
  }

  onData(chunk: Buffer): void {
    if (!this.chunks) return;
    this.bytes += chunk.length;
    if (this.bytes <= this.req.bodyLimit) this.chunks.push(chunk);
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
    this.settle({ ok: true, status: this.status, headers: this.headers, body });
  }

  expire(): void {
    this.fail({ ok: false, kind: 'timeout', message: deadlineMessage(this.req.timeoutMs) });
  }

  /** Settles as failed; a connection still carrying the request is closed (its response would come to the next one). */
  fail(res: HttpResponse): void {
    if (this.settled) return;
    const conn = this.conn;
    this.settle(res);
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
  /** It has carried a response before: a request on it may meet a close the server sent while it was idle. */
  private reused = false;
  /** The response on it said the connection ends after it. */
  private closing = false;
  private informational = false;
  idleSince = 0;
  /** How long it may stay idle, from the server's Keep-Alive hint, milliseconds. */
  idleLimitMs = IDLE_TIMEOUT_MS;
  private destroyed = false;

  constructor(private readonly pool: OriginPool) {
    this.parser.maxHeaderSize = MAX_HEADER_BYTES;
    this.parser[HTTPParser.kOnHeadersComplete] = (info) => this.onHeadersComplete(info);
    this.parser[HTTPParser.kOnBody] = (chunk, offset, length) => this.exchange?.onData(offset === 0 && length === chunk.length ? chunk : chunk.subarray(offset, offset + length));
    this.parser[HTTPParser.kOnMessageComplete] = () => this.onMessageComplete();
    const socket = connect({ host: pool.host, port: pool.port, noDelay: true });
    this.socket = socket;
    socket.setTimeout(CONNECT_TIMEOUT_MS);
    socket.on('timeout', () => {
      if (!this.connected) socket.destroy(new TimeoutError(`connect timeout after ${CONNECT_TIMEOUT_MS} ms`));
    });
    socket.on('connect', () => {
      this.connected = true;
      socket.setTimeout(0);
      if (this.exchange) this.write(this.exchange);
    });
    socket.on('data', (chunk: Buffer) => this.onSocketData(chunk));
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
    ex.received = 0;
    if (this.connected) this.write(ex);
  }

  private write(ex: LeanExchange): void {
    const body = ex.req.body;
    if (body !== undefined && body.length > 0) {
      this.socket.cork();
      this.socket.write(ex.head, 'latin1');
      this.socket.write(body, 'utf8');
      this.socket.uncork();
    } else this.socket.write(ex.head, 'latin1');
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

  private onSocketData(chunk: Buffer): void {
    const ex = this.exchange;
    if (ex === undefined) {
      // Bytes nobody asked for: the connection can no longer be trusted.
      this.destroy();
      return;
    }
    ex.received += chunk.length;
    const ret = this.parser.execute(chunk);
    if (ret instanceof Error) {
      ex.fail({ ok: false, kind: 'other', message: `response does not match the HTTP/1.1 protocol (${ret.message})` });
      this.destroy();
    }
  }

  private onHeadersComplete(info: { statusCode: number; headers: string[]; shouldKeepAlive: boolean; upgrade: boolean }): number {
    const ex = this.exchange;
    const status = info.statusCode;
    if (status >= 100 && status < 200 && status !== 101) {
      // An interim response (100 Continue, 103 Early Hints): the final one follows.
      this.informational = true;
      return 0;
    }
    if (ex === undefined || ex.settled) return 0;
    if (status === 101 || info.upgrade) {
      ex.fail({ ok: false, kind: 'other', message: `unexpected ${status} (protocol upgrade) to a request that asked for none` });
      return 0;
    }
    const raw = info.headers;
    const headers: Record<string, string | string[]> = {};
    let keepAliveHint: string | undefined;
    for (let i = 0; i < raw.length; i += 2) {
      const key = raw[i]!.toLowerCase();
      const value = raw[i + 1]!;
      if (key === 'keep-alive') keepAliveHint = value;
      const prev = Object.hasOwn(headers, key) ? headers[key] : undefined;
      if (prev === undefined) {
        if (key === '__proto__') Object.defineProperty(headers, key, { value, enumerable: true, configurable: true, writable: true });
        else headers[key] = value;
      } else if (typeof prev === 'string') headers[key] = [prev, value];
      else prev.push(value);
    }
    this.closing = !info.shouldKeepAlive;
    if (keepAliveHint !== undefined) {
      const m = KEEP_ALIVE_TIMEOUT.exec(keepAliveHint);
      if (m) {
        const ms = Number(m[1]) * 1000 - KEEP_ALIVE_MARGIN_MS;
        if (ms <= 0) this.closing = true;
        else this.idleLimitMs = Math.min(ms, IDLE_TIMEOUT_MS);
      }
    }
    ex.onHead(status, headers);
    // A HEAD response has no body, whatever its Content-Length says.
    return ex.req.method === 'HEAD' ? 1 : 0;
  }

  private onMessageComplete(): void {
    if (this.informational) {
      this.informational = false;
      return;
    }
    const ex = this.exchange;
    if (ex === undefined) return;
    this.exchange = undefined;
    ex.conn = undefined;
    this.reused = true;
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
   * The connection failed or closed. A request on it that had none of its
   * response yet, on a connection that carried one before, is sent again
   * once (the server closed it while idle, as keep-alive allows); any other
   * fails with the socket's error, or as a reset when the server just closed.
   */
  private lost(err: Error | undefined): void {
    const ex = this.exchange;
    if (ex === undefined || ex.settled) return;
    this.exchange = undefined;
    ex.conn = undefined;
    if (this.reused && ex.received === 0 && !ex.retried && IDEMPOTENT.has(ex.req.method)) {
      ex.retried = true;
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
      if (conn.stale(now)) {
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

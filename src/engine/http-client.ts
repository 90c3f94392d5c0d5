import { Agent, buildConnector, type Dispatcher } from 'undici';
import type { TlsSettings } from '../scenarios/tls-files.js';
import { tlsConnectOptions } from './tls-trust.js';
import {
  classifyError, CONNECT_TIMEOUT_MS, DEADLINE_SWEEP_MS, deadlineMessage, errorMessage, MAX_FALLBACK_REASONS, TimeoutError,
  type HttpClientMode, type HttpClientUsage, type HttpRequest, type HttpResponse, type PendingRequest,
} from './http-exchange.js';
import { LeanExchange, OriginPool } from './lean-http.js';
import { headerBlock, PATH_FALLBACK, requestHead, withTraceparent } from './request-head.js';

/**
 * undici's connector with defaults.tls applied: the CA, client certificate
 * and verification to every https origin, the servername to the target's
 * host only (another host a step names is verified against its own name).
 */
function tlsConnector(tls: TlsSettings, target: string): buildConnector.connector {
  const { servername } = tls;
  const base = { ...tlsConnectOptions(tls), timeout: CONNECT_TIMEOUT_MS };
  const others = buildConnector(base);
  if (servername === undefined) return others;
  const named = buildConnector({ ...base, servername });
  const host = new URL(target).host;
  return (opts, callback) => (opts.host === host || `${opts.hostname}:${opts.port}` === host ? named : others)(opts, callback);
}

/**
 * One request in flight: an undici dispatch handler (no response stream, no
 * AbortController, no timer of its own) that settles a promise once.
 */
class Exchange implements Dispatcher.DispatchHandler, PendingRequest {
  private controller: Dispatcher.DispatchController | undefined;
  private status = 0;
  private headers: Record<string, string | string[] | undefined> = {};
  private chunks: Buffer[] | undefined;
  private bytes = 0;
  private settled = false;
  /** undici took it onto a connection (onRequestStart, called just before it writes the head) while it was still wanted. */
  private written = false;

  constructor(
    readonly deadline: number,
    private readonly timeoutMs: number,
    wantBody: boolean,
    private readonly bodyLimit: number,
    /** A HEAD request: its answer has no body, whatever its Content-Length says. */
    private readonly head: boolean,
    private readonly done: (exchange: Exchange, res: HttpResponse) => void,
  ) {
    if (wantBody) this.chunks = [];
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.settled) controller.abort(new TimeoutError('deadline passed before sending'));
    else this.written = true;
  }

  onResponseStart(_c: Dispatcher.DispatchController, statusCode: number, headers: Record<string, string | string[] | undefined>): void {
    this.status = statusCode;
    this.headers = headers;
    // A declared length past the limit fails at once: nothing of it is read.
    const length = Number(headers['content-length']);
    const bodyless = this.head || statusCode === 204 || statusCode === 304;
    if (this.chunks && !bodyless && length > this.bodyLimit) this.tooLarge();
  }

  onResponseData(_c: Dispatcher.DispatchController, chunk: Buffer): void {
    if (!this.chunks) return;
    this.bytes += chunk.length;
    if (this.bytes <= this.bodyLimit) {
      this.chunks.push(chunk);
      return;
    }
    this.tooLarge();
  }

  /**
   * Stops keeping the body: more would let one response (or an endless one)
   * take the generator's memory. The status goes with the failure, so an
   * unexpected status is still judged and counted as such.
   */
  private tooLarge(): void {
    this.chunks = undefined;
    const message = `response body over ${this.bodyLimit} bytes, kept for a capture or check (defaults.captureBodyLimit)`;
    this.settle({ ok: false, kind: 'body_too_large', message, status: this.status });
    this.controller?.abort(new Error(message));
  }

  onResponseEnd(): void {
    const body = this.chunks ? Buffer.concat(this.chunks).toString('utf8') : undefined;
    this.settle({ ok: true, status: this.status, headers: this.headers, setCookie: this.headers['set-cookie'], body });
  }

  onResponseError(_c: Dispatcher.DispatchController, err: Error): void {
    this.settle({ ok: false, kind: classifyError(err), message: errorMessage(err) });
  }

  /** Fails the request as a timeout and aborts it if it was sent. */
  expire(): void {
    const err = new TimeoutError(deadlineMessage(this.timeoutMs));
    this.settle({ ok: false, kind: 'timeout', message: err.message });
    this.controller?.abort(err);
  }

  /** Settles once; a failure before undici wrote the request is `unsent` (the target never saw it). */
  private settle(res: HttpResponse): void {
    if (this.settled) return;
    this.settled = true;
    this.done(this, res.ok || this.written ? res : { ...res, unsent: true });
  }
}

/**
 * HTTP with keep-alive pooling, on two paths: the lean HTTP/1.1 client
 * (src/engine/lean-http.ts) for plain http: requests it covers, undici for
 * the rest (https, request headers undici treats specially, requests undici
 * would refuse), chosen per request; `mode: 'undici'` sends all through undici.
 * Idle connections are reused, and new ones are opened when every open one
 * is busy, up to `connections` per origin and path (null: no cap). Without a
 * cap, a burst on a cold generator opens thousands of sockets and the cost
 * of opening them stalls the generator (measured: 5,000 arrivals/s against a
 * 1 ms target went to 5,400 in flight and 400 ms event-loop stalls; with a
 * cap of 128 it ran clean). Each request has a whole-request deadline
 * (connect to last body byte), enforced within DEADLINE_SWEEP_MS by one
 * sweep over the pending requests of both paths.
 */
export class HttpClient {
  private readonly agent: Agent;
  private readonly pending = new Set<PendingRequest>();
  private readonly sweep = setInterval(() => this.expireOverdue(), DEADLINE_SWEEP_MS).unref();
  /** Most requests seen waiting for a free connection since the last takeMostQueued(). */
  private mostQueued = 0;
  private readonly sent = { lean: 0, undici: 0 };
  private readonly reasons = new Set<string>();
  /** The lean path's pool per origin, or why the origin goes to undici. */
  private readonly origins = new Map<string, OriginPool | string>();

  constructor(
    private readonly clock: () => number,
    private readonly connections: number | null,
    private readonly mode: HttpClientMode,
    tls?: { settings: TlsSettings; target: string },
  ) {
    this.agent = new Agent({
      keepAliveTimeout: 30_000,
      keepAliveMaxTimeout: 60_000,
      connections,
      pipelining: 1,
      // The deadline sweep below is the one timeout.
      headersTimeout: 0,
      bodyTimeout: 0,
      connect: tls ? tlsConnector(tls.settings, tls.target) : { timeout: CONNECT_TIMEOUT_MS },
    });
  }

  send(req: HttpRequest): Promise<HttpResponse> {
    if (this.mode === 'auto') {
      const pool = this.poolFor(req.origin);
      if (typeof pool === 'string') return this.sendUndici(req, pool);
      const block = headerBlock(req);
      if ('fallback' in block) return this.sendUndici(req, block.fallback);
      const built = requestHead(req, block, pool.hostHeader);
      if (built === undefined) return this.sendUndici(req, PATH_FALLBACK);
      const head = req.trace === undefined ? built : withTraceparent(built, req.trace);
      this.sent.lean++;
      return new Promise((resolve) => {
        const ex = new LeanExchange(req, head, this.clock() + req.timeoutMs, pool, (done, res) => {
          this.pending.delete(done);
          resolve(res);
        });
        this.pending.add(ex);
        pool.dispatch(ex);
      });
    }
    return this.sendUndici(req, 'defaults.httpClient: undici');
  }

  /** The lean path's pool for an origin (made on first use), or why the origin goes to undici. */
  private poolFor(origin: string): OriginPool | string {
    let pool = this.origins.get(origin);
    if (pool === undefined) {
      const url = new URL(origin);
      pool = url.protocol === 'http:'
        ? new OriginPool(url.hostname.replace(/^\[(.*)\]$/, '$1'), Number(url.port || 80), url.host, this.connections, this.clock)
        : `${url.protocol.slice(0, -1)} origin ${origin}`;
      this.origins.set(origin, pool);
    }
    return pool;
  }

  private sendUndici(req: HttpRequest, reason: string): Promise<HttpResponse> {
    this.sent.undici++;
    if (this.reasons.size < MAX_FALLBACK_REASONS) this.reasons.add(reason);
    return new Promise((resolve) => {
      const exchange = new Exchange(this.clock() + req.timeoutMs, req.timeoutMs, req.wantBody, req.bodyLimit, req.method === 'HEAD', (ex, res) => {
        this.pending.delete(ex);
        resolve(res);
      });
      this.pending.add(exchange);
      const headers = req.trace === undefined ? req.headers : { ...req.headers, traceparent: req.trace.value() };
      this.agent.dispatch({ origin: req.origin, path: req.path, method: req.method, headers, body: req.body }, exchange);
    });
  }

  /** Requests sent by each path so far, and why undici sent its share. */
  usage(): HttpClientUsage {
    return { lean: this.sent.lean, undici: this.sent.undici, undiciReasons: [...this.reasons] };
  }

  /** Requests waiting for a free connection (the connection cap is reached), all origins, both paths. */
  queued(): number {
    let n = 0;
    for (const pool of this.origins.values()) if (typeof pool !== 'string') n += pool.queuedCount;
    // With a cap of 1, undici gives an origin a Client, not a Pool: a Client
    // has no `queued`, and its `pending` (requests not yet written) are the
    // ones waiting for the connection. A Pool's `pending` also counts
    // requests its clients hold, so a Pool is read by `queued`.
    for (const stats of Object.values(this.agent.stats) as { queued?: number; pending?: number }[]) n += stats.queued ?? stats.pending ?? 0;
    return n;
  }

  /**
   * Most requests waiting for a free connection seen since the last call
   * (checked now and at every deadline sweep, so a wait shorter than the
   * reporting second is seen too), then starts over.
   */
  takeMostQueued(): number {
    const most = Math.max(this.mostQueued, this.queued());
    this.mostQueued = 0;
    return most;
  }

  private expireOverdue(): void {
    // Sampled here, every DEADLINE_SWEEP_MS: a queue seen only at the end of each second missed most waits.
    if (this.pending.size > 0) this.mostQueued = Math.max(this.mostQueued, this.queued());
    const now = this.clock();
    for (const exchange of this.pending) if (exchange.deadline <= now) exchange.expire();
  }

  async close(): Promise<void> {
    clearInterval(this.sweep);
    for (const pool of this.origins.values()) if (typeof pool !== 'string') pool.destroy();
    await this.agent.destroy();
  }
}

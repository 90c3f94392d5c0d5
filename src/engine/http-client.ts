import { Agent, buildConnector, type Dispatcher } from 'undici';
import type { TlsSettings } from '../scenarios/tls-files.js';
import { tlsConnectOptions, tlsReason } from './tls-trust.js';

/** The error kinds, as counted in `errorsByKind` (docs/scenarios.md "Errors, by kind" lists each; a test keeps them equal). */
export const ERROR_KINDS = ['timeout', 'refused', 'reset', 'dns', 'tls', 'expectation', 'capture', 'body_too_large', 'http_4xx', 'http_5xx', 'template', 'other'] as const;

/** How a request failed, as counted in `errorsByKind`. */
export type ErrorKind = (typeof ERROR_KINDS)[number];

export interface HttpRequest {
  origin: string;
  path: string;
  method: Dispatcher.HttpMethod;
  headers: Record<string, string>;
  body: string | undefined;
  timeoutMs: number;
  /** Whether the caller needs the body text (for captures); otherwise the body is read and discarded. */
  wantBody: boolean;
  /** With wantBody: most body bytes kept; a longer body fails the request as body_too_large. */
  bodyLimit: number;
}

export type HttpResponse =
  | { ok: true; status: number; headers: Record<string, string | string[] | undefined>; body: string | undefined }
  | { ok: false; kind: ErrorKind; message: string; status?: number };

const CODE_KINDS: Record<string, ErrorKind> = {
  UND_ERR_CONNECT_TIMEOUT: 'timeout',
  UND_ERR_HEADERS_TIMEOUT: 'timeout',
  UND_ERR_BODY_TIMEOUT: 'timeout',
  ETIMEDOUT: 'timeout',
  ECONNREFUSED: 'refused',
  ECONNRESET: 'reset',
  EPIPE: 'reset',
  UND_ERR_SOCKET: 'reset',
  UND_ERR_CLOSED: 'reset',
  ENOTFOUND: 'dns',
  EAI_AGAIN: 'dns',
};

/**
 * OpenSSL's certificate verification failures, as Node names them (the
 * error's code). Handshake failures are ERR_SSL_* (an alert, a protocol
 * mismatch: ERR_SSL_WRONG_VERSION_NUMBER when an https URL reaches a plain
 * HTTP port) and ERR_TLS_* (ERR_TLS_CERT_ALTNAME_INVALID: the certificate is
 * for another name). undici passes them on as the request's error.
 */
const CERT_CODES = new Set([
  'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_CRL', 'UNABLE_TO_DECRYPT_CERT_SIGNATURE', 'UNABLE_TO_DECRYPT_CRL_SIGNATURE',
  'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY', 'CERT_SIGNATURE_FAILURE', 'CRL_SIGNATURE_FAILURE', 'CERT_NOT_YET_VALID', 'CERT_HAS_EXPIRED',
  'CRL_NOT_YET_VALID', 'CRL_HAS_EXPIRED', 'ERROR_IN_CERT_NOT_BEFORE_FIELD', 'ERROR_IN_CERT_NOT_AFTER_FIELD', 'ERROR_IN_CRL_LAST_UPDATE_FIELD',
  'ERROR_IN_CRL_NEXT_UPDATE_FIELD', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'CERT_CHAIN_TOO_LONG', 'CERT_REVOKED', 'INVALID_CA', 'PATH_LENGTH_EXCEEDED', 'INVALID_PURPOSE',
  'CERT_UNTRUSTED', 'CERT_REJECTED', 'HOSTNAME_MISMATCH',
]);

/** True for a TLS certificate or handshake error code. */
export function isTlsCode(code: string): boolean {
  return CERT_CODES.has(code) || code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_') || code === 'EPROTO';
}

/** Maps a network error to an error kind. */
export function classifyError(err: unknown): ErrorKind {
  let kind: ErrorKind | undefined;
  let e: unknown = err;
  // undici wraps the socket error in `cause`; a TLS error anywhere in the chain
  // says more than the wrapper's "socket closed".
  for (let depth = 0; e instanceof Error && depth < 4; depth++) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code && isTlsCode(code)) return 'tls';
    kind ??= (code && CODE_KINDS[code]) || (e.name === 'TimeoutError' ? 'timeout' : undefined);
    e = e.cause;
  }
  return kind ?? 'other';
}

/**
 * A failure's message for its sample: a TLS error (anywhere in undici's cause
 * chain) as OpenSSL's reason in one line with its code, e.g. "wrong version
 * number (ERR_SSL_WRONG_VERSION_NUMBER)"; any other, its own message.
 */
export function errorMessage(err: Error): string {
  let e: unknown = err;
  for (let depth = 0; e instanceof Error && depth < 4; depth++) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code && isTlsCode(code)) return `${tlsReason(e.message)} (${code})`;
    e = e.cause;
  }
  return err.message;
}

class TimeoutError extends Error {
  override name = 'TimeoutError';
  readonly code = 'ETIMEDOUT';
}

const CONNECT_TIMEOUT_MS = 10_000;

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
 * Which HTTP client sends: 'auto' takes the lean HTTP/1.1 path (src/engine/lean-http.ts)
 * for every request it covers and undici for the rest; 'undici' sends everything with undici.
 * The scenario's `defaults.httpClient` chooses (its default is defined in the schema).
 */
export const HTTP_CLIENT_MODES = ['auto', 'undici'] as const;
export type HttpClientMode = (typeof HTTP_CLIENT_MODES)[number];

/** Requests sent by each path, and why the ones undici sent did not take the lean path (RunResult generator.httpClient). */
export interface HttpClientUsage {
  lean: number;
  undici: number;
  /** Distinct reasons, at most MAX_FALLBACK_REASONS, e.g. "https origin https://shop.example:443", "defaults.httpClient: undici". */
  undiciReasons: string[];
}

/** Most distinct fallback reasons kept. */
export const MAX_FALLBACK_REASONS = 10;

/** How often pending requests are checked against their deadlines, milliseconds. */
export const DEADLINE_SWEEP_MS = 25;

/**
 * One request in flight: an undici dispatch handler (no response stream, no
 * AbortController, no timer of its own) that settles a promise once.
 */
class Exchange implements Dispatcher.DispatchHandler {
  private controller: Dispatcher.DispatchController | undefined;
  private status = 0;
  private headers: Record<string, string | string[] | undefined> = {};
  private chunks: Buffer[] | undefined;
  private bytes = 0;
  private settled = false;

  constructor(
    readonly deadline: number,
    private readonly timeoutMs: number,
    wantBody: boolean,
    private readonly bodyLimit: number,
    private readonly done: (exchange: Exchange, res: HttpResponse) => void,
  ) {
    if (wantBody) this.chunks = [];
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.settled) controller.abort(new TimeoutError('deadline passed before sending'));
  }

  onResponseStart(_c: Dispatcher.DispatchController, statusCode: number, headers: Record<string, string | string[] | undefined>): void {
    this.status = statusCode;
    this.headers = headers;
    // A declared length past the limit fails at once: nothing of it is read.
    const length = Number(headers['content-length']);
    if (this.chunks && length > this.bodyLimit) this.tooLarge();
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
    this.settle({ ok: true, status: this.status, headers: this.headers, body });
  }

  onResponseError(_c: Dispatcher.DispatchController, err: Error): void {
    this.settle({ ok: false, kind: classifyError(err), message: errorMessage(err) });
  }

  /** Fails the request as a timeout and aborts it if it was sent. */
  expire(): void {
    const err = new TimeoutError(`no complete response within ${this.timeoutMs} ms`);
    this.settle({ ok: false, kind: 'timeout', message: err.message });
    this.controller?.abort(err);
  }

  private settle(res: HttpResponse): void {
    if (this.settled) return;
    this.settled = true;
    this.done(this, res);
  }
}

/**
 * HTTP via undici with keep-alive pooling: idle connections are reused, and
 * new ones are opened when every open one is busy, up to `connections` per
 * origin (null: no cap). Without a cap, a burst on a cold generator opens
 * thousands of sockets and the cost of opening them stalls the generator
 * (measured: 5,000 arrivals/s against a 1 ms target went to 5,400 in flight
 * and 400 ms event-loop stalls; with a cap of 128 it ran clean).
 * Each request has a whole-request deadline (connect to last body byte),
 * enforced within DEADLINE_SWEEP_MS by one sweep over the pending requests.
 */
export class HttpClient {
  private readonly agent: Agent;
  private readonly pending = new Set<Exchange>();
  private readonly sweep = setInterval(() => this.expireOverdue(), DEADLINE_SWEEP_MS).unref();
  /** Most requests seen waiting for a connection since the last takeMostQueued(). */
  private mostQueued = 0;

  private readonly sent = { lean: 0, undici: 0 };
  private readonly reasons = new Set<string>();

  constructor(
    private readonly clock: () => number,
    connections: number | null,
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
    return new Promise((resolve) => {
      const exchange = new Exchange(this.clock() + req.timeoutMs, req.timeoutMs, req.wantBody, req.bodyLimit, (ex, res) => {
        this.pending.delete(ex);
        resolve(res);
      });
      this.pending.add(exchange);
      this.sent.undici++;
      if (this.reasons.size < MAX_FALLBACK_REASONS) this.reasons.add(this.mode === 'undici' ? 'defaults.httpClient: undici' : 'lean path not built yet');
      this.agent.dispatch({ origin: req.origin, path: req.path, method: req.method, headers: req.headers, body: req.body }, exchange);
    });
  }

  /** Requests sent by each path so far, and why undici sent its share. */
  usage(): HttpClientUsage {
    return { lean: this.sent.lean, undici: this.sent.undici, undiciReasons: [...this.reasons] };
  }

  /** Requests waiting for a free connection (the connection cap is reached), all origins. */
  queued(): number {
    let n = 0;
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
    await this.agent.destroy();
  }
}

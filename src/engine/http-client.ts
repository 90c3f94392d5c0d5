import { Agent, type Dispatcher } from 'undici';

/** How a request failed, as counted in `errorsByKind`. */
export type ErrorKind = 'timeout' | 'refused' | 'reset' | 'dns' | 'expectation' | 'capture' | 'http_4xx' | 'http_5xx' | 'other';

export interface HttpRequest {
  origin: string;
  path: string;
  method: Dispatcher.HttpMethod;
  headers: Record<string, string>;
  body: string | undefined;
  timeoutMs: number;
  /** Whether the caller needs the body text (for captures). */
  wantBody: boolean;
}

export type HttpResponse =
  | { ok: true; status: number; headers: Record<string, string | string[] | undefined>; body: string | undefined }
  | { ok: false; kind: ErrorKind; message: string };

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

/** Maps a network error to an error kind. */
export function classifyError(err: unknown): ErrorKind {
  if (err instanceof Error) {
    let e: unknown = err;
    // undici wraps the socket error in `cause`.
    for (let depth = 0; e instanceof Error && depth < 4; depth++) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code && CODE_KINDS[code]) return CODE_KINDS[code];
      if (e.name === 'TimeoutError') return 'timeout';
      e = e.cause;
    }
  }
  return 'other';
}

class TimeoutError extends Error {
  override name = 'TimeoutError';
  readonly code = 'ETIMEDOUT';
}

/**
 * HTTP via undici with keep-alive pooling: idle connections are reused, and
 * new ones are opened when every open one is busy (no cap: the engine caps
 * in-flight iterations instead, so a slow target is measured, not hidden).
 */
export class HttpClient {
  private readonly agent = new Agent({
    keepAliveTimeout: 30_000,
    keepAliveMaxTimeout: 60_000,
    connections: null,
    pipelining: 1,
    // The engine enforces its own whole-request deadline below.
    headersTimeout: 0,
    bodyTimeout: 0,
    connect: { timeout: 10_000 },
  });

  async send(req: HttpRequest): Promise<HttpResponse> {
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(new TimeoutError(`no complete response within ${req.timeoutMs} ms`)), req.timeoutMs);
    try {
      const res = await this.agent.request({
        origin: req.origin,
        path: req.path,
        method: req.method,
        headers: req.headers,
        body: req.body,
        signal: ac.signal,
      });
      let body: string | undefined;
      if (req.wantBody) body = await res.body.text();
      else for await (const _chunk of res.body) { /* read to the end: latency covers the whole response */ }
      return { ok: true, status: res.statusCode, headers: res.headers, body };
    } catch (err) {
      const reason = ac.signal.aborted ? ac.signal.reason : err;
      return { ok: false, kind: classifyError(reason), message: reason instanceof Error ? reason.message : String(reason) };
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    await this.agent.destroy();
  }
}

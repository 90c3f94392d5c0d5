import type { Dispatcher } from 'undici';
import { tlsReason } from './tls-trust.js';
import type { TraceContext } from './traceparent.js';

/** The error kinds, as counted in `errorsByKind` (docs/scenarios.md "Errors, by kind" lists each; a test keeps them equal). */
export const ERROR_KINDS = ['timeout', 'refused', 'reset', 'dns', 'tls', 'expectation', 'capture', 'body_too_large', 'http_4xx', 'http_5xx', 'template', 'other'] as const;

/** How a request failed, as counted in `errorsByKind`. */
export type ErrorKind = (typeof ERROR_KINDS)[number];

export interface HttpRequest {
  origin: string;
  path: string;
  method: Dispatcher.HttpMethod;
  headers: Record<string, string>;
  /** The headers object is the step's own, the same for every request (the lean path serializes it once). */
  headersReused: boolean;
  body: string | undefined;
  timeoutMs: number;
  /** Whether the caller needs the body text (for captures); otherwise the body is read and discarded. */
  wantBody: boolean;
  /** With wantBody: most body bytes kept; a longer body fails the request as body_too_large. */
  bodyLimit: number;
  /** A traceparent to send besides `headers` (which hold none then): fresh for each request, so never in a cached head. */
  trace?: TraceContext;
}

export type HttpResponse =
  | {
    ok: true;
    status: number;
    /** Names lower-cased, a repeated header as a list (the lean path builds it when first read). */
    headers: Record<string, string | string[] | undefined>;
    /** The Set-Cookie header(s): the one header the engine reads on every response (cookie jars). */
    setCookie: string | string[] | undefined;
    body: string | undefined;
  }
  | {
    ok: false;
    kind: ErrorKind;
    message: string;
    status?: number;
    /**
     * True when the request was never written: it failed before a connection
     * took it (a wait for a free connection or a connect that ran out of time,
     * a refused connect). The target never saw it, nor its trace id.
     */
    unsent?: true;
  };

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
  /** Distinct reasons, at most MAX_FALLBACK_REASONS, e.g. "https origin https://shop.example", "defaults.httpClient: undici". */
  undiciReasons: string[];
}

/** Most distinct fallback reasons kept. */
export const MAX_FALLBACK_REASONS = 10;

/** A request that ran out of time (its deadline, or a connect timeout). */
export class TimeoutError extends Error {
  override name = 'TimeoutError';
  readonly code = 'ETIMEDOUT';
}

/** How long a new connection may take to open, milliseconds (both paths). */
export const CONNECT_TIMEOUT_MS = 10_000;

/** How often pending requests are checked against their deadlines, milliseconds. */
export const DEADLINE_SWEEP_MS = 25;

/** A request in flight, as the deadline sweep sees it (either path). */
export interface PendingRequest {
  readonly deadline: number;
  /** Fails the request as a timeout and aborts it if it was sent. */
  expire(): void;
}

/** The message of a request that ran past its deadline. */
export const deadlineMessage = (timeoutMs: number): string => `no complete response within ${timeoutMs} ms`;

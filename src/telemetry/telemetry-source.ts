import { request } from 'undici';
import type { SeriesSelector, Signal } from '../scenarios/telemetry-schema.js';
import { parseExposition, type Sample } from './exposition-parser.js';
import { maskCredentials, urlCredentials } from '../shared/mask-credentials.js';
import { UNLABELLED } from '../analyzers/telemetry.js';

/** One series of a signal at one scrape. */
export interface SeriesValue {
  /** Identifies the series across scrapes (for counter deltas and resets). */
  key: string;
  /** The `by` label's value (a worker, a pod), or '' when series are summed. */
  group: string;
  value: number;
}

/** What one scrape read: each signal's series, or undefined when none matched. */
export type Snapshot = Record<string, SeriesValue[] | undefined>;

/** What one reading of a source gave: each signal's series, and the signals whose own query failed, with why. */
export interface Reading {
  values: Snapshot;
  /** Signal name → why its query failed this time (Prometheus' own words); the other signals were read. */
  failed?: Record<string, string>;
}

/** Where telemetry comes from: scraped exposition text, or a Prometheus server's query API. */
export interface TelemetrySource {
  describe: string;
  /** Reads every signal once; throws when the source could not be read at all. */
  scrape: (timeoutMs: number) => Promise<Reading>;
}

/** A URL to read: where the request goes, its Authorization header, and how messages name it (credentials masked). */
export interface MetricsEndpoint {
  url: string;
  shown: string;
  authorization: string | undefined;
  /** The text with credentials masked: those of URLs, and the secret this endpoint sends, should a server echo it. */
  hide: (text: string) => string;
}

/** The secrets inside an Authorization header value: a bearer token, or Basic's encoded pair and its password. */
function secretsOf(authorization: string | undefined): string[] {
  const m = /^(Bearer|Basic)\s+(\S+)$/i.exec(authorization ?? '');
  if (!m) return [];
  if (m[1]!.toLowerCase() === 'bearer') return [m[2]!];
  const pair = Buffer.from(m[2]!, 'base64').toString('utf8');
  const password = pair.slice(pair.indexOf(':') + 1);
  return [m[2]!, password].filter((x) => x.length >= 3);
}

/** An endpoint for a URL: its own credentials (`user:pass@`) become HTTP Basic auth unless `authorization` is given. */
export function metricsEndpoint(url: string, authorization?: string): MetricsEndpoint {
  const split = urlCredentials(url);
  const sent = authorization ?? split.authorization;
  const secrets = secretsOf(sent);
  const hide = (text: string): string => secrets.reduce((t, secret) => t.split(secret).join('***'), maskCredentials(text));
  return { url: split.url, shown: maskCredentials(url), authorization: sent, hide };
}

/** How much of a server's error text is kept: enough for Prometheus' parse errors, not a whole HTML page. */
const MAX_DETAIL = 300;

/**
 * A server's own words for a failed request: Prometheus' JSON `errorType: error`,
 * or the start of any other body on one line; undefined for an empty body.
 */
export function errorDetail(body: string): string | undefined {
  try {
    const json = JSON.parse(body) as { error?: unknown; errorType?: unknown };
    if (typeof json.error === 'string') return typeof json.errorType === 'string' && json.errorType ? `${json.errorType}: ${json.error}` : json.error;
  } catch {
    // not JSON: the text itself
  }
  const text = body.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim();
  if (!text) return undefined;
  return text.length > MAX_DETAIL ? `${text.slice(0, MAX_DETAIL)}…` : text;
}

async function fetchBody(at: MetricsEndpoint, query: string, timeoutMs: number, accept: string): Promise<{ status: number; body: string }> {
  const headers: Record<string, string> = { accept };
  if (at.authorization !== undefined) headers.authorization = at.authorization;
  const res = await request(at.url + query, { headers, headersTimeout: timeoutMs, bodyTimeout: timeoutMs, signal: AbortSignal.timeout(timeoutMs) })
    .catch((err: unknown) => {
      const e = err as { name?: string; code?: string; message?: string };
      throw new Error(e.name === 'TimeoutError' || e.code === 'UND_ERR_HEADERS_TIMEOUT' || e.code === 'UND_ERR_BODY_TIMEOUT'
        ? `${at.shown}: no answer in ${timeoutMs} ms` : `${at.shown}: ${e.code ?? at.hide(e.message ?? String(err))}`);
    });
  return { status: res.statusCode, body: await res.body.text() };
}

/** Why a non-200 answer failed: its status, a hint for 401/403, and what the server said (credentials masked). */
function httpFailure(at: MetricsEndpoint, status: number, body: string): Error {
  const detail = errorDetail(body);
  const hint = status === 401 || status === 403 ? ' (check its credentials)' : '';
  return new Error(`${at.shown}: HTTP ${status}${hint}${detail === undefined ? '' : `: ${at.hide(detail)}`}`);
}

async function fetchText(at: MetricsEndpoint, query: string, timeoutMs: number, accept: string): Promise<string> {
  const { status, body } = await fetchBody(at, query, timeoutMs, accept);
  if (status !== 200) throw httpFailure(at, status, body);
  return body;
}

const labelKey = (labels: Record<string, string>): string =>
  Object.keys(labels).sort().map((k) => `${k}=${labels[k]}`).join(',');

function matches(s: Sample, sel: SeriesSelector): boolean {
  if (s.name !== sel.name) return false;
  for (const [k, want] of Object.entries(sel.labels)) {
    const have = s.labels[k];
    if (have === undefined || (Array.isArray(want) ? !want.includes(have) : have !== want)) return false;
  }
  return true;
}

/** Picks a signal's series out of scraped samples (from replica `replica` of `replicas`). */
export function selectSeries(samples: readonly Sample[], signal: Signal, replica: number, replicas: number): SeriesValue[] {
  if (!Array.isArray(signal) && 'query' in signal) throw new Error('a PromQL signal cannot select scraped samples');
  const selectors = Array.isArray(signal) ? signal : [signal];
  const out: SeriesValue[] = [];
  for (const sel of selectors) {
    for (const s of samples) {
      // NaN (a summary quantile with no observations) and infinities carry no reading.
      if (!Number.isFinite(s.value) || !matches(s, sel)) continue;
      const group = sel.by === undefined ? '' : `${replicas > 1 ? `${replica}/` : ''}${s.labels[sel.by] ?? UNLABELLED}`;
      out.push({ key: `${replica}|${s.name}|${labelKey(s.labels)}`, group, value: s.value });
    }
  }
  return out;
}

/** Scrapes every URL (a replica each); a scrape fails when any URL fails. A URL's `user:pass@` is sent as HTTP Basic auth. */
export function prometheusSource(urls: readonly string[], signals: Record<string, Signal>): TelemetrySource {
  const endpoints = urls.map((u) => metricsEndpoint(u));
  return {
    describe: endpoints.map((e) => e.shown).join(', '),
    async scrape(timeoutMs) {
      const texts = await Promise.all(endpoints.map((e) => fetchText(e, '', timeoutMs, 'text/plain;version=0.0.4')));
      const parsed = texts.map((t, i) => {
        try {
          return parseExposition(t);
        } catch (err) {
          throw new Error(`${endpoints[i]!.shown}: not the Prometheus text format (${(err as Error).message})`);
        }
      });
      const values: Snapshot = {};
      for (const [name, signal] of Object.entries(signals)) {
        const series = parsed.flatMap((samples, i) => selectSeries(samples, signal, i, urls.length));
        values[name] = series.length ? series : undefined;
      }
      return { values };
    },
  };
}

interface PromAnswer {
  status?: string;
  errorType?: string;
  error?: string;
  data?: { resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] };
}

/** Prometheus answered, and said that this query failed: only its signal fails. */
class QueryError extends Error {}

/**
 * Runs each signal's PromQL query against a Prometheus server's HTTP API
 * (instant queries), sending `authorization` (a Bearer or Basic header value) when given.
 * A query Prometheus refuses (bad syntax, a failed evaluation: its JSON
 * `status: "error"`) fails its own signal, with Prometheus' words; a server
 * that cannot be read (down, slow, credentials refused, not its API) fails the scrape.
 */
export function promqlSource(baseUrl: string, signals: Record<string, Signal>, authorization?: string): TelemetrySource {
  const api = metricsEndpoint(baseUrl.replace(/\/+$/, '') + '/api/v1/query', authorization);
  const query = async (name: string, signal: Signal, timeoutMs: number): Promise<SeriesValue[] | undefined> => {
    if (Array.isArray(signal) || !('query' in signal)) throw new Error(`${name}: a PromQL source needs a query`);
    const { status, body } = await fetchBody(api, `?query=${encodeURIComponent(signal.query)}`, timeoutMs, 'application/json');
    let answer: PromAnswer | undefined;
    try {
      answer = JSON.parse(body) as PromAnswer;
    } catch {
      answer = undefined;
    }
    if (answer?.status === 'error') throw new QueryError(`query failed: ${api.hide(errorDetail(body) ?? 'no reason given')} (HTTP ${status})`);
    if (status !== 200) throw httpFailure(api, status, body);
    if (!answer?.data || answer.status !== 'success') throw new Error(`${api.shown}: not an answer of the Prometheus query API`);
    if (answer.data.resultType !== 'vector') throw new QueryError(`expected an instant vector, got ${answer.data.resultType}`);
    const series = answer.data.result.filter((r) => Number.isFinite(Number(r.value[1]))).map((r) => ({
      key: labelKey(r.metric),
      group: signal.by === undefined ? '' : r.metric[signal.by] ?? UNLABELLED,
      value: Number(r.value[1]),
    }));
    return series.length ? series : undefined;
  };
  return {
    describe: `PromQL at ${maskCredentials(baseUrl)}`,
    async scrape(timeoutMs) {
      const names = Object.keys(signals);
      const settled = await Promise.allSettled(names.map((name) => query(name, signals[name]!, timeoutMs)));
      const unreadable = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected' && !(s.reason instanceof QueryError));
      if (unreadable) throw unreadable.reason;
      const values: Snapshot = {};
      const failed: Record<string, string> = {};
      settled.forEach((s, i) => {
        if (s.status === 'fulfilled') values[names[i]!] = s.value;
        else failed[names[i]!] = (s.reason as Error).message;
      });
      return Object.keys(failed).length ? { values, failed } : { values };
    },
  };
}

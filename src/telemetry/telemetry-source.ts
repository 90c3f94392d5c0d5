import { request } from 'undici';
import type { SeriesSelector, Signal } from '../scenarios/telemetry-schema.js';
import { parseExposition, type Sample } from './exposition-parser.js';
import { maskCredentials, urlCredentials } from '../mask-credentials.js';
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

/** Where telemetry comes from: scraped exposition text, or a Prometheus server's query API. */
export interface TelemetrySource {
  describe: string;
  scrape: (timeoutMs: number) => Promise<Snapshot>;
}

/** A URL to read: where the request goes, its Authorization header, and how messages name it (credentials masked). */
export interface MetricsEndpoint {
  url: string;
  shown: string;
  authorization: string | undefined;
}

/** An endpoint for a URL: its own credentials (`user:pass@`) become HTTP Basic auth unless `authorization` is given. */
export function metricsEndpoint(url: string, authorization?: string): MetricsEndpoint {
  const split = urlCredentials(url);
  return { url: split.url, shown: maskCredentials(url), authorization: authorization ?? split.authorization };
}

async function fetchText(at: MetricsEndpoint, query: string, timeoutMs: number, accept: string): Promise<string> {
  const headers: Record<string, string> = { accept };
  if (at.authorization !== undefined) headers.authorization = at.authorization;
  const res = await request(at.url + query, { headers, headersTimeout: timeoutMs, bodyTimeout: timeoutMs, signal: AbortSignal.timeout(timeoutMs) })
    .catch((err: unknown) => {
      const e = err as { name?: string; code?: string; message?: string };
      throw new Error(e.name === 'TimeoutError' || e.code === 'UND_ERR_HEADERS_TIMEOUT' || e.code === 'UND_ERR_BODY_TIMEOUT'
        ? `${at.shown}: no answer in ${timeoutMs} ms` : `${at.shown}: ${e.code ?? maskCredentials(e.message ?? String(err))}`);
    });
  const body = await res.body.text();
  if (res.statusCode !== 200) throw new Error(`${at.shown}: HTTP ${res.statusCode}${res.statusCode === 401 || res.statusCode === 403 ? ' (check its credentials)' : ''}`);
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
      const snap: Snapshot = {};
      for (const [name, signal] of Object.entries(signals)) {
        const series = parsed.flatMap((samples, i) => selectSeries(samples, signal, i, urls.length));
        snap[name] = series.length ? series : undefined;
      }
      return snap;
    },
  };
}

interface PromVector { status: string; error?: string; data?: { resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] } }

/**
 * Runs each signal's PromQL query against a Prometheus server's HTTP API
 * (instant queries), sending `authorization` (a Bearer or Basic header value) when given.
 */
export function promqlSource(baseUrl: string, signals: Record<string, Signal>, authorization?: string): TelemetrySource {
  const api = metricsEndpoint(baseUrl.replace(/\/+$/, '') + '/api/v1/query', authorization);
  return {
    describe: `PromQL at ${maskCredentials(baseUrl)}`,
    async scrape(timeoutMs) {
      const entries = await Promise.all(Object.entries(signals).map(async ([name, signal]) => {
        if (Array.isArray(signal) || !('query' in signal)) throw new Error(`${name}: a PromQL source needs a query`);
        const text = await fetchText(api, `?query=${encodeURIComponent(signal.query)}`, timeoutMs, 'application/json');
        let body: PromVector;
        try {
          body = JSON.parse(text) as PromVector;
        } catch {
          throw new Error(`${api.shown}: not JSON`);
        }
        if (body.status !== 'success' || !body.data) throw new Error(`${name}: query failed: ${body.error ?? body.status}`);
        if (body.data.resultType !== 'vector') throw new Error(`${name}: expected an instant vector, got ${body.data.resultType}`);
        const series = body.data.result.filter((r) => Number.isFinite(Number(r.value[1]))).map((r) => ({
          key: labelKey(r.metric),
          group: signal.by === undefined ? '' : r.metric[signal.by] ?? UNLABELLED,
          value: Number(r.value[1]),
        }));
        return [name, series.length ? series : undefined] as const;
      }));
      return Object.fromEntries(entries);
    },
  };
}

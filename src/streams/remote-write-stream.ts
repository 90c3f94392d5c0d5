import { maskCredentials, urlCredentials } from '../shared/mask-credentials.js';
import { printable } from '../shared/printable.js';
import { encodeWriteRequest, REMOTE_WRITE_HEADERS, type WriteSeries } from './remote-write-encode.js';
import { RemoteWriteSeries } from './remote-write-series.js';
import type { StreamSecond } from './stream-second.js';
import type { StreamSink } from './stream-sink.js';
import { pause } from '../shared/long-timeout.js';

/** How a remote write copes with an endpoint that is slow or away; defaults in REMOTE_WRITE_DEFAULTS. */
export interface RemoteWriteSettings {
  /** Seconds of samples kept while they cannot be sent; older ones are dropped (counted). */
  maxQueuedSeconds: number;
  /** Most seconds of samples in one request (a queue built up while the endpoint was away is sent in a few). */
  maxBatchSeconds: number;
  /** One request's limit, milliseconds. */
  requestTimeoutMs: number;
  /** First wait before a retry, milliseconds; doubled after each failure up to maxBackoffMs. */
  backoffMs: number;
  maxBackoffMs: number;
  /** After the run: the longest wait to send what is left, milliseconds. */
  closeTimeoutMs: number;
}

export const REMOTE_WRITE_DEFAULTS: RemoteWriteSettings = {
  maxQueuedSeconds: 120,
  maxBatchSeconds: 30,
  requestTimeoutMs: 5000,
  backoffMs: 250,
  maxBackoffMs: 5000,
  closeTimeoutMs: 5000,
};

type Outcome = 'sent' | 'refused' | 'retry';

/** The seconds of a batch as one request: each series once, its samples in time order. */
function mergeSeconds(seconds: readonly WriteSeries[][]): WriteSeries[] {
  const byKey = new Map<string, WriteSeries>();
  for (const second of seconds) {
    for (const s of second) {
      const key = JSON.stringify(Object.entries(s.labels).sort(([a], [b]) => (a < b ? -1 : 1)));
      const seen = byKey.get(key);
      if (seen) seen.samples.push(...s.samples);
      else byKey.set(key, { labels: s.labels, samples: [...s.samples] });
    }
  }
  return [...byKey.values()];
}

/** Why a fetch failed, in a few words: "ECONNREFUSED", "timed out", "HTTP 400: ...". */
function reasonOf(err: unknown): string {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError') return 'timed out';
  if (e?.name === 'AbortError') return 'cut short at the end of the run';
  return e?.cause?.code ?? e?.cause?.message ?? e?.message ?? String(err);
}

/**
 * `--stream prometheus-rw=<url>`: Prometheus remote write 1.0, one request
 * per second as each closes. Sending never blocks the load: seconds wait in
 * a bounded queue, one request is in flight at a time (so each series'
 * samples arrive in order, as Prometheus requires), failures are retried
 * with backoff and what the queue cannot hold is dropped and counted. The
 * first failure is said in one line; close() says what was sent and dropped.
 */
export class RemoteWriteStream implements StreamSink {
  private readonly series: RemoteWriteSeries;
  private readonly url: string;
  private readonly authorization: string | undefined;
  private readonly shown: string;
  private queue: WriteSeries[][] = [];
  private busy: Promise<Outcome> | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private failures = 0;
  private closing = false;
  /** Cuts a request still in flight when the close's wait is over. */
  private readonly cut = new AbortController();
  private readonly stats = { sentSeconds: 0, requests: 0, droppedSeconds: 0, lastError: undefined as string | undefined };
  private warned = false;

  constructor(
    url: string,
    labels: { runId: string; scenario: string },
    private readonly warn: (line: string) => void,
    private readonly settings: RemoteWriteSettings = REMOTE_WRITE_DEFAULTS,
  ) {
    ({ url: this.url, authorization: this.authorization } = urlCredentials(url));
    this.shown = printable(maskCredentials(url));
    this.series = new RemoteWriteSeries({ job: 'scalectl', run_id: labels.runId, scenario: labels.scenario });
  }

  write(second: StreamSecond): void {
    if (this.closing) return;
    this.queue.push(this.series.next(second));
    this.trim();
    this.pump();
  }

  async close(): Promise<{ summary: string; failed: boolean }> {
    this.closing = true;
    const wasFailing = this.failures > 0;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const timer = setTimeout(() => this.cut.abort(), this.settings.closeTimeoutMs);
    try {
      if (this.busy) await this.busy;
      // An endpoint that was failing gets one last try; one that was fine, a few (within the bound).
      let tries = wasFailing ? 1 : 3;
      while (this.queue.length > 0 && !this.cut.signal.aborted && tries > 0) {
        if ((await this.sendNext()) !== 'retry') continue;
        tries--;
        // Once cut, no pause: a pause left as the only thing pending would let Node exit mid-close.
        if (tries > 0 && !this.cut.signal.aborted) await this.pause(this.backoff());
      }
    } finally {
      clearTimeout(timer);
    }
    this.drop(this.queue.length);
    this.queue = [];
    const s = this.stats;
    const sent = `${s.sentSeconds} s of samples sent in ${s.requests} request${s.requests === 1 ? '' : 's'}`;
    const dropped = s.droppedSeconds ? `; ${s.droppedSeconds} s dropped (${s.lastError ?? 'not sent in time'})` : '';
    return { summary: `prometheus-rw ${this.shown}: ${sent}${dropped}`, failed: false };
  }

  /** A wait between close()'s tries that ends early when the close's time is up (kept ref'd: the run waits on it). */
  private pause(ms: number): Promise<void> {
    return pause(ms, this.cut.signal);
  }

  private backoff(): number {
    return Math.min(this.settings.maxBackoffMs, this.settings.backoffMs * 2 ** Math.max(0, this.failures - 1));
  }

  private drop(seconds: number): void {
    this.stats.droppedSeconds += seconds;
  }

  /** The oldest seconds beyond what the queue holds are dropped. */
  private trim(): void {
    const excess = this.queue.length - this.settings.maxQueuedSeconds;
    if (excess > 0) {
      this.queue.splice(0, excess);
      this.drop(excess);
    }
  }

  /** Sends the next batch in the background unless one is in flight or waiting for its retry. */
  private pump(): void {
    if (this.busy || this.retryTimer || this.closing || this.queue.length === 0) return;
    this.busy = this.sendNext();
    void this.busy.then((outcome) => {
      this.busy = undefined;
      if (this.closing) return;
      if (outcome !== 'retry') return this.pump();
      this.retryTimer = setTimeout(() => {
        this.retryTimer = undefined;
        this.pump();
      }, this.backoff());
      this.retryTimer.unref();
    });
  }

  /** Sends the oldest seconds; on a failure worth retrying they go back to the queue's head. */
  private async sendNext(): Promise<Outcome> {
    const batch = this.queue.splice(0, this.settings.maxBatchSeconds);
    const outcome = await this.post(encodeWriteRequest(mergeSeconds(batch)));
    if (outcome === 'sent') {
      this.stats.sentSeconds += batch.length;
      this.failures = 0;
    } else if (outcome === 'refused') {
      this.drop(batch.length);
    } else {
      this.failures++;
      this.queue.unshift(...batch);
      this.trim();
    }
    return outcome;
  }

  private async post(body: Uint8Array): Promise<Outcome> {
    this.stats.requests++;
    try {
      const res = await fetch(this.url, {
        method: 'POST',
        headers: { ...REMOTE_WRITE_HEADERS, ...(this.authorization ? { Authorization: this.authorization } : {}) },
        body,
        signal: AbortSignal.any([this.cut.signal, AbortSignal.timeout(this.settings.requestTimeoutMs)]),
      });
      const text = await res.text().catch(() => '');
      if (res.ok) return 'sent';
      const why = `HTTP ${res.status}${text.trim() ? `: ${printable(text.trim().slice(0, 200))}` : ''}`;
      // The specification: a 4xx other than 429 will fail again, so it is not retried.
      const outcome = res.status >= 400 && res.status < 500 && res.status !== 429 ? 'refused' : 'retry';
      this.failed(why, outcome);
      return outcome;
    } catch (err) {
      this.failed(reasonOf(err), 'retry');
      return 'retry';
    }
  }

  private failed(why: string, outcome: Outcome): void {
    this.stats.lastError = why;
    if (this.warned) return;
    this.warned = true;
    const next = outcome === 'refused' ? 'what it refuses is dropped' : 'retrying in the background';
    this.warn(`scalectl: --stream prometheus-rw=${this.shown}: cannot send (${why}); ${next}, the load goes on (a summary comes at the end)`);
  }
}

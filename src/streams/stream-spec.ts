import { normalize } from 'node:path';
import { targetUrlProblem } from '../scenarios/target-url.js';
import { echo } from '../shared/printable.js';

/** The kinds `--stream <kind>=<destination>` takes (docs/streaming.md). */
export const STREAM_KINDS = ['ndjson', 'prometheus-rw'] as const;
export type StreamKind = (typeof STREAM_KINDS)[number];

/** One `--stream` value, checked. */
export interface StreamSpec {
  kind: StreamKind;
  /** A file name (ndjson) or an http(s) URL (prometheus-rw), as given. */
  destination: string;
}

/** Kinds people may try that we do not have, and what to say. */
const NOT_BUILT: Record<string, string> = {
  otlp: 'OpenTelemetry (OTLP) is not supported yet (docs/streaming.md); use prometheus-rw or ndjson',
  opentelemetry: 'OpenTelemetry (OTLP) is not supported yet (docs/streaming.md); use prometheus-rw or ndjson',
  json: 'did you mean ndjson=<file>?',
  prometheus: 'did you mean prometheus-rw=<url> (Prometheus remote write)?',
};

/**
 * Parses `<kind>=<destination>`. Throws an Error whose message says what is
 * wrong; the CLI turns it into a usage error (exit 2).
 */
export function parseStreamSpec(value: string): StreamSpec {
  const eq = value.indexOf('=');
  if (eq < 0) throw new Error(`expected <kind>=<destination> with a kind among ${STREAM_KINDS.join(', ')}, e.g. ndjson=live.ndjson`);
  const kind = value.slice(0, eq).trim().toLowerCase();
  const destination = value.slice(eq + 1).trim();
  if (!(STREAM_KINDS as readonly string[]).includes(kind)) {
    const hint = NOT_BUILT[kind];
    throw new Error(`unknown kind ${echo(kind)}${hint ? `: ${hint}` : ''} (kinds: ${STREAM_KINDS.join(', ')})`);
  }
  if (destination === '') throw new Error(`${kind} needs a ${kind === 'ndjson' ? 'file name' : 'URL'} after the =`);
  if (kind === 'ndjson' && destination === '-') {
    throw new Error('ndjson=- (standard output) is not supported: standard output carries the summary; give a file name and `tail -f` it');
  }
  if (kind === 'prometheus-rw') {
    const problem = targetUrlProblem(destination);
    if (problem) throw new Error(`${problem} (e.g. http://127.0.0.1:9090/api/v1/write)`);
  }
  return { kind: kind as StreamKind, destination };
}

/** Adds a parsed spec to those before it; the same destination twice (two handles on one file, samples sent twice) is refused. */
export function addStreamSpec(previous: readonly StreamSpec[], spec: StreamSpec): StreamSpec[] {
  const key = (s: StreamSpec): string => `${s.kind}=${s.kind === 'ndjson' ? normalize(s.destination) : s.destination}`;
  if (previous.some((p) => key(p) === key(spec))) throw new Error(`${spec.kind}=${echo(spec.destination)} is given twice`);
  return [...previous, spec];
}

/** One sample of the Prometheus text exposition format. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const NAME_RE = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME_RE = /^[a-zA-Z_][a-zA-Z0-9_]*/;

function parseValue(text: string): number | undefined {
  const lower = text.toLowerCase();
  if (lower === 'nan') return NaN;
  if (lower === '+inf' || lower === 'inf' || lower === '+infinity' || lower === 'infinity') return Infinity;
  if (lower === '-inf' || lower === '-infinity') return -Infinity;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) return undefined;
  return Number(text);
}

/** Reads `{a="x",b="y"}` from `line` at `i`; returns the labels and where they end. */
function parseLabels(line: string, start: number): { labels: Record<string, string>; end: number } {
  const labels: Record<string, string> = {};
  let i = start + 1;
  for (;;) {
    while (line[i] === ' ') i++;
    if (line[i] === '}') return { labels, end: i + 1 };
    const name = LABEL_NAME_RE.exec(line.slice(i))?.[0];
    if (!name) throw new Error(`expected a label name at column ${i + 1}`);
    i += name.length;
    while (line[i] === ' ') i++;
    if (line[i] !== '=') throw new Error(`expected ="..." after label ${name}`);
    i++;
    while (line[i] === ' ') i++;
    if (line[i] !== '"') throw new Error(`expected ="..." after label ${name}`);
    i++;
    let value = '';
    for (;;) {
      const ch = line[i];
      if (ch === undefined) throw new Error(`unterminated value of label ${name}`);
      if (ch === '"') break;
      if (ch === '\\') {
        const next = line[i + 1];
        value += next === 'n' ? '\n' : next === '\\' ? '\\' : next === '"' ? '"' : `\\${next ?? ''}`;
        i += 2;
        continue;
      }
      value += ch;
      i++;
    }
    if (name in labels) throw new Error(`label ${name} given twice`);
    labels[name] = value;
    i++;
    while (line[i] === ' ') i++;
    if (line[i] === ',') i++;
    else if (line[i] !== '}') throw new Error(`expected , or } after label ${name}`);
  }
}

/**
 * Parses the Prometheus text exposition format (version 0.0.4): comments and
 * HELP/TYPE lines are skipped, each sample line becomes a Sample. Strict: a
 * malformed line throws with its line number, so a wrong endpoint (an HTML
 * page, say) is reported instead of read as no data.
 */
export function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  const lines = text.split('\n');
  for (const [n, raw] of lines.entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    try {
      const name = NAME_RE.exec(line)?.[0];
      if (!name) throw new Error('expected a metric name');
      let i = name.length;
      while (line[i] === ' ' || line[i] === '\t') i++;
      let labels: Record<string, string> = {};
      if (line[i] === '{') ({ labels, end: i } = parseLabels(line, i));
      let tail = line.slice(i);
      // An OpenMetrics exemplar (` # {trace_id="..."} 1`) follows the value; it is not part of the sample.
      const exemplar = tail.indexOf(' # ');
      if (exemplar >= 0) tail = tail.slice(0, exemplar);
      const rest = tail.trim().split(/\s+/);
      if (rest.length < 1 || rest.length > 2 || rest[0] === '') throw new Error('expected a value (and an optional timestamp)');
      const value = parseValue(rest[0]!);
      if (value === undefined) throw new Error(`not a number: ${JSON.stringify(rest[0])}`);
      if (rest[1] !== undefined && !/^-?\d+(\.\d+)?$/.test(rest[1])) throw new Error(`not a timestamp: ${JSON.stringify(rest[1])}`);
      samples.push({ name, labels, value });
    } catch (err) {
      throw new Error(`line ${n + 1}: ${(err as Error).message}: ${JSON.stringify(line.slice(0, 120))}`);
    }
  }
  return samples;
}

import type { ImportNotes, NotePath } from './import-notes.js';

/** Artillery's response-time aggregates and our latency metrics (arbitrary percentiles like p75 are ours too). */
const LATENCY: Record<string, string> = { min: 'min', max: 'max', mean: 'mean', median: 'p50' };

function latencyMetric(aggregate: string): string | undefined {
  if (LATENCY[aggregate]) return LATENCY[aggregate];
  return /^p\d+$/.test(aggregate) ? aggregate : undefined;
}

/** `http.response_time.p99 < 100` → `p99 < 100ms`; undefined for a metric we have no counterpart of. */
function comparison(metric: string, op: string, value: number): string | undefined {
  const m = /^http\.response_time\.(\w+)$/.exec(metric);
  const ours = m ? latencyMetric(m[1]!) : undefined;
  return ours ? `${ours} ${op} ${value}ms` : undefined;
}

function number(v: unknown): number | undefined {
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  return typeof n === 'number' && Number.isFinite(n) ? n : undefined;
}

/** One condition: `metric < 100 and metric2 < 5`; undefined unless every part translates. */
function condition(expr: string): string[] | undefined {
  const parts = expr.split(/\s+and\s+/);
  const out: string[] = [];
  for (const part of parts) {
    const m = /^\s*\(?\s*([\w.]+)\s*(<=|>=|<|>)\s*(\d+(?:\.\d+)?)\s*\)?\s*$/.exec(part);
    const t = m ? comparison(m[1]!, m[2]!, Number(m[3])) : undefined;
    if (!t) return undefined;
    out.push(t);
  }
  return out;
}

/**
 * config.ensure (and config.plugins.ensure) → thresholds: the legacy keys
 * (p95: 200, maxErrorRate: 1), `thresholds` (- http.response_time.p99: 100)
 * and `conditions` whose expression is comparisons joined by `and`.
 * Artillery's checks are "metric < value", kept as such.
 */
export function translateEnsure(ensure: unknown, at: NotePath, notes: ImportNotes): string[] {
  if (ensure === null || typeof ensure !== 'object' || Array.isArray(ensure)) {
    if (ensure !== undefined) notes.untranslated(at, 'expected a mapping');
    return [];
  }
  const out: string[] = [];
  for (const [key, value] of Object.entries(ensure as Record<string, unknown>)) {
    const here = [...at, key];
    if (['min', 'max', 'median', 'p95', 'p99'].includes(key)) {
      const n = number(value);
      if (n === undefined) notes.untranslated(here, `${key}: expected a number of milliseconds`);
      else out.push(`${latencyMetric(key)} < ${n}ms`);
    } else if (key === 'maxErrorRate') {
      const n = number(value);
      if (n === undefined) notes.untranslated(here, 'maxErrorRate: expected a percentage');
      else {
        out.push(`error_rate <= ${n}%`);
        notes.note(here, "Artillery's maxErrorRate is the share of virtual users that failed; error_rate is the share of requests that failed");
      }
    } else if (key === 'thresholds' && Array.isArray(value)) {
      value.forEach((t: unknown, i) => {
        const [metric, limit] = t !== null && typeof t === 'object' ? (Object.entries(t)[0] ?? []) : [];
        const n = number(limit);
        const translated = typeof metric === 'string' && n !== undefined ? comparison(metric, '<', n) : undefined;
        if (translated) out.push(translated);
        else notes.untranslated([...here, i], `threshold ${JSON.stringify(t)} not translated: only http.response_time.<min|max|mean|median|pNN> have a counterpart`);
      });
    } else if (key === 'conditions' && Array.isArray(value)) {
      value.forEach((c: { expression?: unknown; strict?: unknown }, i) => {
        const expr = typeof c?.expression === 'string' ? c.expression : undefined;
        const parts = expr ? condition(expr) : undefined;
        if (!parts) return notes.untranslated([...here, i], `condition ${JSON.stringify(expr ?? c)} not translated: only http.response_time comparisons joined by "and" have a counterpart`);
        if (c.strict === false) return notes.untranslated([...here, i, 'strict'], 'a condition with strict: false only warns in Artillery; scalectl thresholds always gate, so it is left out');
        out.push(...parts);
      });
    } else notes.untranslated(here, `ensure key "${key}" not translated`);
  }
  return out;
}

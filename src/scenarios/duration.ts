const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const DURATION_RE = /^\s*(\d+(?:\.\d+)?)\s*(us|ms|s|m|h)?\s*$/;

/**
 * Parses a duration: `500ms`, `15s`, `2m`, `1h`, `250us`, or a bare number of
 * seconds (`30` or `"30"`). Returns milliseconds, or undefined when malformed.
 */
export function parseDuration(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value * 1000 : undefined;
  if (typeof value !== 'string') return undefined;
  const m = DURATION_RE.exec(value);
  if (!m) return undefined;
  const unit = UNIT_MS[m[2] ?? 's'];
  return unit === undefined ? undefined : Number(m[1]) * unit;
}

/** Formats milliseconds for people: `850us`, `12.3ms`, `1.25s`, `2m30s`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  if (ms < 1) return `${Math.round(ms * 1000)}us`;
  if (ms < 1000) return `${trim(ms < 10 ? ms.toFixed(2) : ms.toFixed(1))}ms`;
  if (ms < 60_000) return `${trim((ms / 1000).toFixed(2))}s`;
  const m = Math.floor(ms / 60_000);
  const s = Math.round((ms - m * 60_000) / 1000);
  return s ? `${m}m${s}s` : `${m}m`;
}

function trim(n: string): string {
  return n.includes('.') ? n.replace(/\.?0+$/, '') : n;
}

/** Milliseconds per unit; `m` and `min` are both minutes. */
const UNIT_MS = { h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 0.001 } as const;

const NUM = String.raw`\d+(?:\.\d+)?`;

/**
 * The duration grammar as a regular expression source, shared with the editor
 * JSON Schema: a bare number of seconds (`30`, `1.5`), or one or more
 * `<number><unit>` parts with units in decreasing order, each at most once
 * (`1h5m`, `1m30s`, `1m0.5s`, `10min`, `500ms`, `250us`). Units: h, m or min,
 * s, ms, us. Spaces are allowed around the whole and between parts.
 * Capture groups: 1 bare seconds, 2 hours, 3 minutes, 4 seconds, 5 ms, 6 us.
 */
export const DURATION_PATTERN =
  String.raw`^\s*(?:(${NUM})|(?=\d)(?:(${NUM})\s*h\s*)?(?:(${NUM})\s*(?:min|m)\s*)?(?:(${NUM})\s*s\s*)?(?:(${NUM})\s*ms\s*)?(?:(${NUM})\s*us\s*)?)\s*$`;
const DURATION_RE = new RegExp(DURATION_PATTERN);
const PART_UNITS = [UNIT_MS.h, UNIT_MS.m, UNIT_MS.s, UNIT_MS.ms, UNIT_MS.us];

/**
 * Parses a duration: `500ms`, `15s`, `2m`, `10min`, `1h`, `250us`, compound
 * ones such as `1m30s` or `1h5m`, or a bare number of seconds (`30` or
 * `"30"`). Returns milliseconds, or undefined when malformed.
 */
export function parseDuration(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value * 1000 : undefined;
  if (typeof value !== 'string') return undefined;
  const m = DURATION_RE.exec(value);
  if (!m) return undefined;
  if (m[1] !== undefined) return Number(m[1]) * 1000;
  // Sum from the smallest part up, so that `1m0.5s` is exactly 60500.
  let ms = 0;
  for (let i = PART_UNITS.length - 1; i >= 0; i--) {
    const part = m[i + 2];
    if (part !== undefined) ms += Number(part) * PART_UNITS[i]!;
  }
  return ms;
}

/**
 * Formats milliseconds for people: `850us`, `12.3ms`, `1.25s`, `2m30s`,
 * `1h5m`. Each unit is used only while the rounded figure stays below the
 * next one (999.96 ms is `1s`, not `1000ms`); from a minute on, the time is
 * rounded to whole seconds first, then split into h, m and s (119.6 s is
 * `2m`, not `1m60s`).
 */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  if (ms < 1 && Math.round(ms * 1000) < 1000) return `${Math.round(ms * 1000)}us`;
  if (ms < 1000) {
    const t = ms < 10 ? ms.toFixed(2) : ms.toFixed(1);
    if (Number(t) < 1000) return `${trim(t)}ms`;
  }
  if (ms < 60_000) {
    const t = (ms / 1000).toFixed(2);
    if (Number(t) < 60) return `${trim(t)}s`;
  }
  const total = Math.round(ms / 1000);
  const parts: [number, string][] = [[Math.floor(total / 3600), 'h'], [Math.floor((total % 3600) / 60), 'm'], [total % 60, 's']];
  return parts.filter(([n]) => n > 0).map(([n, u]) => `${n}${u}`).join('');
}

function trim(n: string): string {
  return n.includes('.') ? n.replace(/\.?0+$/, '') : n;
}

/** Milliseconds per unit of the `ms` package's duration strings, which Artillery accepts ("10min", "1.5h"). */
const UNITS: [RegExp, number][] = [
  [/^(ms|msecs?|milliseconds?)$/, 1],
  [/^(s|secs?|seconds?)$/, 1000],
  [/^(m|mins?|minutes?)$/, 60_000],
  [/^(h|hrs?|hours?)$/, 3_600_000],
  [/^(d|days?)$/, 86_400_000],
  [/^(w|weeks?)$/, 604_800_000],
];

/**
 * An Artillery duration in milliseconds: a number of seconds (`60`, `"60"`)
 * or a string the `ms` package reads (`5min`, `1.5h`, `500ms`, `2 days`).
 * Undefined for anything else (a template, a negative number).
 */
export function artilleryDurationMs(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value * 1000 : undefined;
  if (typeof value !== 'string') return undefined;
  const m = /^\s*(\d*\.?\d+)\s*([a-z]*)\s*$/i.exec(value);
  if (!m) return undefined;
  const n = Number(m[1]);
  if (m[2] === '') return n * 1000;
  const unit = UNITS.find(([re]) => re.test(m[2]!.toLowerCase()));
  return unit ? n * unit[1] : undefined;
}

/** Milliseconds as a scalectl duration, exactly, in the largest unit that divides them: `10m`, `90s`, `1500ms`. */
export function scalectlDuration(ms: number): string {
  for (const [unit, size] of [['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  if (Number.isInteger(ms)) return `${ms}ms`;
  return `${Math.round(ms * 1000)}us`;
}

/** A parsed JSONPath subset: `$`, `.key`, `['key']`, `[0]`. */
export type JsonPath = (string | number)[];

const SEGMENT_RE = /^(?:\.([A-Za-z_$][\w$-]*)|\[\s*(\d+)\s*\]|\[\s*'([^']*)'\s*\]|\[\s*"([^"]*)"\s*\])/;

/** Parses `$.a.b[0]`; returns undefined when the path is outside the subset. */
export function parseJsonPath(expr: string): JsonPath | undefined {
  if (!expr.startsWith('$')) return undefined;
  const path: JsonPath = [];
  let rest = expr.slice(1);
  while (rest.length > 0) {
    const m = SEGMENT_RE.exec(rest);
    if (!m) return undefined;
    if (m[1] !== undefined) path.push(m[1]);
    else if (m[2] !== undefined) path.push(Number(m[2]));
    else path.push((m[3] ?? m[4])!);
    rest = rest.slice(m[0].length);
  }
  return path;
}

/** Reads a parsed path from a value; undefined when any step is missing. */
export function readJsonPath(value: unknown, path: JsonPath): unknown {
  let v = value;
  for (const p of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string | number, unknown>)[p];
  }
  return v;
}

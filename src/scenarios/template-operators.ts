/** The binary operators of template expressions. */
export type BinaryOperator = '||' | '&&' | '==' | '!=' | '<' | '<=' | '>' | '>=';

type Render = (vars: Record<string, unknown>) => unknown;

/** Truth as JavaScript judges it: false, 0, "", null and undefined (and NaN) are false, anything else true. */
export function truthy(v: unknown): boolean {
  return Boolean(v);
}

/** A number from a number or a numeric string (surrounding spaces allowed); undefined otherwise. */
function numeric(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.trim() !== '') {
    const n = Number(v);
    return Number.isNaN(n) ? undefined : n;
  }
  return undefined;
}

/**
 * Equality for templates and checks: the same value, or a number and a
 * string that reads as that number (environment variables and headers are
 * strings, JSON gives numbers), or lists and objects with equal contents.
 */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a == null || b == null) return a == null && b == null;
  if (typeof a === 'number' || typeof b === 'number') {
    if (typeof a === 'string' || typeof b === 'string') {
      const [x, y] = [numeric(a), numeric(b)];
      return x !== undefined && x === y;
    }
    return false;
  }
  if (typeof a === 'boolean' && typeof b === 'string') return String(a) === b;
  if (typeof b === 'boolean' && typeof a === 'string') return String(b) === a;
  if (typeof a === 'object' && typeof b === 'object') return sameContents(a as object, b as object);
  return false;
}

/** Lists: the same length and equal elements in order; objects: the same keys and equal values (in any order). */
function sameContents(a: object, b: object): boolean {
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => sameValue(x, b[i]));
  }
  const [x, y] = [a as Record<string, unknown>, b as Record<string, unknown>];
  const keys = Object.keys(x);
  return keys.length === Object.keys(y).length && keys.every((k) => Object.hasOwn(y, k) && sameValue(x[k], y[k]));
}

/**
 * Ordering: two strings compare as text, anything else as numbers (a
 * numeric string counts as its number); false when either side is not a
 * number (undefined, an object, a word).
 */
export function compareValues(op: '<' | '<=' | '>' | '>=', a: unknown, b: unknown): boolean {
  let x: unknown = a;
  let y: unknown = b;
  if (typeof a !== 'string' || typeof b !== 'string') {
    x = numeric(a);
    y = numeric(b);
    if (x === undefined || y === undefined) return false;
  }
  const [l, r] = [x as number | string, y as number | string];
  switch (op) {
    case '<': return l < r;
    case '<=': return l <= r;
    case '>': return l > r;
    case '>=': return l >= r;
  }
}

/** A compiled binary expression. `&&` and `||` give one of their operands, as in JavaScript. */
export function compileBinary(op: BinaryOperator, left: Render, right: Render): Render {
  switch (op) {
    case '||': return (vars) => {
      const l = left(vars);
      return truthy(l) ? l : right(vars);
    };
    case '&&': return (vars) => {
      const l = left(vars);
      return truthy(l) ? right(vars) : l;
    };
    case '==': return (vars) => sameValue(left(vars), right(vars));
    case '!=': return (vars) => !sameValue(left(vars), right(vars));
    default: return (vars) => compareValues(op, left(vars), right(vars));
  }
}

/*
 * User-provided text on its way to a terminal: names, keys and values from a
 * scenario, a data file or a results file. A flow named "\x1b[2J" must not
 * clear the screen, and a 50 MB value must not become a 50 MB error line.
 * Every printer of user-provided strings should go through here.
 */

/** How many characters of a value an error message echoes. */
export const ECHO_MAX_CHARS = 60;

// C0 controls, DEL, C1 controls (U+009B is CSI on some terminals), and the
// invisible characters that reorder or break text (bidi overrides, U+2028/9).
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/g;

const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function escapeChar(c: string): string {
  const code = c.charCodeAt(0);
  return NAMED[c] ?? (code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`);
}

/**
 * Text safe to print on one terminal line: control characters and terminal
 * escapes are written as `\x1b`, `\n`, `\u202e`, and text longer than `max`
 * characters is cut with "…" (no cut when max is Infinity).
 */
export function printable(text: string, max = Infinity): string {
  const cut = text.length > max ? text.slice(0, max) + '…' : text;
  return cut.replace(UNPRINTABLE, escapeChar);
}

/**
 * A value echoed in an error message: strings quoted (escaped, and cut to
 * ECHO_MAX_CHARS with their length given), numbers as YAML writes them
 * (`.inf`, `.nan`), anything else described in words.
 */
export function echo(value: unknown, max = ECHO_MAX_CHARS): string {
  if (typeof value === 'string') {
    const shown = printable((value.length > max ? value.slice(0, max) : value).replace(/[\\"]/g, '\\$&'));
    return value.length > max ? `"${shown}…" (${value.length} characters)` : `"${shown}"`;
  }
  if (typeof value === 'number') {
    if (Number.isNaN(value)) return '.nan';
    if (!Number.isFinite(value)) return value > 0 ? '.inf' : '-.inf';
    return String(value);
  }
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return printable(String(value), max);
}

/** Names listed in a message: each escaped, at most `max` of them, then "… (N more)". */
export function nameList(names: readonly string[], max = 20): string {
  const shown = names.slice(0, max).map((n) => printable(n, ECHO_MAX_CHARS));
  return names.length > max ? `${shown.join(', ')}, … (${names.length - max} more)` : shown.join(', ');
}

/** A message of several lines (a UserError's), each line escaped: its own line breaks kept, nothing else raw. */
export function printableLines(text: string): string {
  return text.split('\n').map((line) => printable(line)).join('\n');
}

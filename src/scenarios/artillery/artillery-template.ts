import type { ImportNotes, NotePath } from './import-notes.js';

/** What a name in an Artillery template stands for in the translated scenario. */
export interface TemplateScope {
  /** Payload fields, by name: the feeder expression that reads them (`urls.url`). */
  fields: ReadonlyMap<string, string>;
  /** Variables holding a list, of which Artillery picks one element per virtual user. */
  lists: ReadonlySet<string>;
  /** Loops around this place: $loopElement and $loopCount need one. */
  loopDepth: number;
  /** The innermost loop's kind: in a `count` loop Artillery's $loopElement is 0 in every round. */
  loopKind?: 'count' | 'over';
  /** Variables already declared (config.variables, payload variables). */
  declared?: ReadonlySet<string>;
  /** Filled in: names of captures left out, declared empty so that later uses still validate. */
  placeholders?: Set<string>;
}

const TOKEN = /(["'])(?:(?!\1).)*\1|\$?[A-Za-z_][\w$]*|\d+(?:\.\d+)?|\s+|&&|\|\||[=!<>]=?|./g;

/**
 * The tokens of one expression with Artillery's names replaced by ours:
 * $loopElement → item (0 in a count loop, as in Artillery, which sets it
 * once and advances it only over a list), $loopCount (0-based in Artillery)
 * → loopIndex, $randomNumber(a, b) →
 * randomInt(a, b), $randomString() and $uuid → uuid(), $processEnvironment.X
 * and $env.X → env.X, a payload field → its feeder column, a list variable →
 * randomItem(list) (unless `keepLists`). Returns undefined, with a note, when
 * a name has no counterpart.
 */
function rewriteTokens(expr: string, scope: TemplateScope, notes: ImportNotes, at: NotePath, keepLists = false): string[] | undefined {
  const tokens = expr.match(TOKEN) ?? [];
  const out: string[] = [];
  const prevSignificant = (): string | undefined => [...out].reverse().find((t) => t.trim() !== '');
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    const next = tokens.slice(i + 1).find((x) => x.trim() !== '');
    if (!/^\$?[A-Za-z_]/.test(t) || prevSignificant() === '.') {
      out.push(t);
      continue;
    }
    const loopOnly = (name: string): boolean => {
      if (scope.loopDepth > 0) return true;
      notes.untranslated(at, `${t} outside a loop has no counterpart; left as written`);
      out.push(name);
      return false;
    };
    if (t === '$loopElement') {
      if (!loopOnly(t)) continue;
      if (scope.loopKind === 'count') {
        notes.note(at, '$loopElement in a count loop is 0 in every round in Artillery (it advances only over a list); translated as 0: {{ loopIndex }} is the round');
        out.push('0');
      } else out.push('item');
    } else if (t === '$loopCount') {
      // 0-based in Artillery (0, 1, 2, ...), as our loopIndex; our loopCount is 1-based.
      if (loopOnly(t)) out.push('loopIndex');
    } else if (t === '$randomNumber' && next === '(') out.push('randomInt');
    else if ((t === '$randomString' && next === '(') || t === '$uuid') {
      if (t === '$randomString') {
        // Its arguments (a length) have no counterpart: skip to the closing parenthesis.
        while (i < tokens.length && tokens[i] !== ')') i++;
      }
      notes.note(at, t === '$uuid'
        ? '$uuid is one value per virtual user in Artillery; uuid() gives a new one at each use'
        : '$randomString() became uuid(): a random string too, 36 characters long');
      out.push('uuid()');
    } else if ((t === '$processEnvironment' || t === '$env') && next === '.') out.push('env');
    else if (t.startsWith('$')) {
      notes.untranslated(at, `${t} has no counterpart in scalectl templates; left as written`);
      return undefined;
    } else if (scope.fields.has(t)) out.push(scope.fields.get(t)!);
    else if (scope.lists.has(t) && !keepLists && next !== '.' && next !== '[') out.push(`randomItem(${t})`);
    else out.push(t);
  }
  return out;
}

/** Rewrites every `{{ ... }}` of an Artillery string into our names; other text is kept. */
export function rewriteTemplate(text: string, scope: TemplateScope, notes: ImportNotes, at: NotePath, keepLists = false): string {
  return text.replace(/\{\{(.*?)\}\}/gs, (whole, inner: string) => {
    const tokens = rewriteTokens(inner.trim(), scope, notes, at, keepLists);
    return tokens ? `{{ ${tokens.join('')} }}` : whole;
  });
}

/** Rewrites the templates in every string of a JSON-like value (a json body, a cookie map). */
export function rewriteValue(value: unknown, scope: TemplateScope, notes: ImportNotes, at: NotePath): unknown {
  if (typeof value === 'string') return rewriteTemplate(value, scope, notes, at);
  if (Array.isArray(value)) return value.map((v, i) => rewriteValue(v, scope, notes, [...at, i]));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, rewriteValue(v, scope, notes, [...at, k])]));
  }
  return value;
}

const WORD_OPS: Record<string, string> = { and: '&&', or: '||', not: '!' };

/**
 * An Artillery `ifTrue` expression (filtrex syntax) as our `if:` expression,
 * when it uses only names, numbers, strings, comparisons, and/or/not and
 * parentheses; undefined otherwise (arithmetic, `in`, function calls).
 */
export function translateCondition(expr: string, scope: TemplateScope, notes: ImportNotes, at: NotePath): string | undefined {
  const inner = /^\s*\{\{(.*)\}\}\s*$/s.exec(expr)?.[1] ?? expr;
  const tokens = rewriteTokens(inner.trim(), scope, notes, at);
  if (!tokens) return undefined;
  const out: string[] = [];
  for (const t of tokens) {
    if (t.trim() === '') out.push(' ');
    else if (WORD_OPS[t] !== undefined) out.push(WORD_OPS[t]!);
    else if (t === '=') out.push('==');
    else if (/^(["']).*\1$|^\d|^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)*$|^(==|!=|<=?|>=?|&&|\|\||!|\(|\)|\.)$/.test(t)) out.push(t);
    else return undefined;
  }
  return out.join('').replace(/\s+/g, ' ').replace(/! /g, '!').trim();
}

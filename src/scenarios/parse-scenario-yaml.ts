import { isCollection, isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import { formatPath, type ScenarioIssue } from './scenario-issue.js';
import { printable } from '../shared/printable.js';

/** Deepest nesting of mappings and lists a scenario may have (a real one needs about 8). */
export const MAX_NESTING = 64;

export interface ParsedYaml {
  doc: Document;
  lines: LineCounter;
  /** Problems found in the YAML itself; when `fatal`, the document cannot be read as data. */
  issues: ScenarioIssue[];
  fatal: boolean;
  /** Paths of nodes already reported (a schema error below them would say the same thing again). */
  reported: PropertyKey[][];
}

/** `"text"` as the user should write it in YAML: quoted, on one line. */
function quoteForYaml(text: string): string {
  const t = text.replace(/\s+/g, ' ').trim();
  if (!t.includes('"')) return printable(`"${t}"`, 80);
  if (!t.includes("'")) return printable(`'${t}'`, 80);
  return printable(`"${t.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`, 80);
}

/** The extent of a plain value starting at j: up to a `,` or closing bracket of the enclosing flow collection. */
function valueEnd(line: string, j: number, inFlow: boolean): number {
  let depth = 0;
  let k = j;
  for (; k < line.length; k++) {
    const c = line[k]!;
    if (c === '#' && /\s/.test(line[k - 1] ?? '')) break;
    if (c === '[' || c === '{') depth++;
    else if (c === ']' || c === '}') {
      if (depth === 0) break;
      depth--;
    } else if (c === ',' && inFlow && depth === 0) break;
  }
  return k;
}

interface QuoteHint { offset: number; message: string }

/**
 * Finds, in one line, the values YAML misreads unless quoted: one that starts
 * with `{{` (read as a mapping), and one holding [ ] { } inside a { } mapping
 * (`capture: { id: $.items[0].id }`: the [ starts a list).
 */
function lineHints(line: string, lineStart: number): QuoteHint[] {
  const hints: QuoteHint[] = [];
  const stack: string[] = [];
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote) {
      if (c === '\\' && quote === '"') i++;
      else if (c === quote) quote = undefined;
      continue;
    }
    if (c === '#' && (i === 0 || /\s/.test(line[i - 1]!))) break;
    if ((c === '"' || c === "'") && (i === 0 || /[\s:[{,]/.test(line[i - 1]!))) quote = c;
    else if (c === '{' || c === '[') stack.push(c);
    else if (c === '}' || c === ']') stack.pop();
    else if (c === ':' && (i + 1 === line.length || /\s/.test(line[i + 1]!)) && (stack.length === 0 || stack.at(-1) === '{')) {
      let j = i + 1;
      while (j < line.length && /\s/.test(line[j]!)) j++;
      const inFlow = stack.length > 0;
      const templated = line.startsWith('{{', j);
      if (!templated && (!inFlow || j >= line.length || /[[{'"&*!|>%@`#,}\]]/.test(line[j]!))) continue;
      const end = valueEnd(line, j, inFlow);
      const value = line.slice(j, end).trimEnd();
      if (templated) {
        hints.push({ offset: lineStart + j, message: `YAML reads an unquoted {{ as the start of a mapping; quote it: ${quoteForYaml(value)}` });
      } else if (/[[\]{}]/.test(value)) {
        const bracket = /[[\]{}]/.exec(value)![0];
        const what = `the ${'[{'.includes(bracket) ? 'start' : 'end'} of a ${'[]'.includes(bracket) ? 'list' : 'mapping'}`;
        hints.push({ offset: lineStart + j, message: `inside { }, YAML reads this ${bracket} as ${what}; quote the value: ${quoteForYaml(value)}` });
      } else continue;
      i = end - 1;
    }
  }
  return hints;
}

/**
 * Nesting too deep for the parser: yaml reports a stack overflow while
 * composing as RESOURCE_EXHAUSTION, and one in its lexer or parser as a plain
 * error whose message is the RangeError's. Where it overflows first depends on
 * how much stack V8's frames take at that moment (JIT state), so both are one case.
 */
function tooDeep(e: Document['errors'][number]): boolean {
  return e.code === 'RESOURCE_EXHAUSTION' || /Maximum call stack size exceeded/.test(e.message);
}

function syntaxIssues(file: string, text: string, lines: LineCounter, errors: Document['errors']): ScenarioIssue[] {
  const at = (offset: number, message: string): ScenarioIssue => ({ file, ...lines.linePos(offset), path: '', message });
  const out: ScenarioIssue[] = [];
  for (const e of errors) {
    if (e.code === 'MULTIPLE_DOCS') {
      out.push(at(e.pos[0], 'a second YAML document starts here ("---"); a scenario file holds one: remove the "---", or put each scenario in its own file'));
    } else if (tooDeep(e) && !out.some((i) => i.message.startsWith('nested'))) {
      out.push(at(e.pos[0], `nested too deeply; a scenario may nest mappings and lists ${MAX_NESTING} levels deep`));
    }
  }
  const syntax = errors.filter((e) => e.code !== 'MULTIPLE_DOCS' && !tooDeep(e));
  if (syntax.length === 0) return out;
  // A syntax error throws the parser off for the rest of the file: report the
  // values it is known to misread (every one, with what to write instead) and
  // the first error unless it comes after them; the rest usually follow from it.
  const hints: QuoteHint[] = [];
  let offset = 0;
  for (const line of text.split('\n')) {
    hints.push(...lineHints(line, offset));
    offset += line.length + 1;
  }
  for (const h of hints) out.push(at(h.offset, h.message));
  const first = syntax[0]!;
  const firstLine = lines.linePos(first.pos[0]).line;
  if (hints.length === 0 || firstLine < lines.linePos(hints[0]!.offset).line) {
    out.push(at(first.pos[0], `YAML: ${printable(first.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, ''))}`));
  }
  return out;
}

/** Walks the document: nesting depth, keys given twice, and {{ }} read as a mapping. */
function treeIssues(file: string, text: string, lines: LineCounter, doc: Document): { issues: ScenarioIssue[]; reported: PropertyKey[][] } {
  const issues: ScenarioIssue[] = [];
  const reported: PropertyKey[][] = [];
  const add = (node: Node | null | undefined, path: PropertyKey[], message: string) => {
    issues.push({ file, ...lines.linePos(node?.range?.[0] ?? 0), path: formatPath(path), message });
    reported.push(path);
  };
  const walk = (node: unknown, path: PropertyKey[], depth: number): boolean => {
    if (!isCollection(node)) return true;
    if (depth > MAX_NESTING) {
      add(node, path, `nested too deeply; a scenario may nest mappings and lists ${MAX_NESTING} levels deep`);
      return false;
    }
    if (isSeq(node)) return node.items.every((item, i) => walk(item, [...path, i], depth + 1));
    if (!isMap(node)) return true;
    if (node.items.some((p) => isCollection(p.key))) {
      const [start, end] = node.range ?? [0, 0];
      const source = text.slice(start, end);
      add(node, path, source.trimStart().startsWith('{{')
        ? `YAML reads an unquoted {{ }} as a mapping; quote it: ${quoteForYaml(source)}`
        : 'a key must be a name, not a list or mapping');
      return true;
    }
    const seen = new Map<string, number>();
    for (const pair of node.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
      const keyAt = (pair.key as Node | null)?.range?.[0] ?? 0;
      const first = seen.get(key);
      if (first !== undefined) add(pair.key as Node, [...path, key], `the key "${printable(key, 60)}" is given twice (first on line ${lines.linePos(first).line}); YAML would keep only the last`);
      else seen.set(key, keyAt);
      if (!walk(pair.value, [...path, key], depth + 1)) return false;
    }
    return true;
  };
  walk(doc.contents, [], 1);
  return { issues, reported };
}

/**
 * Parses a scenario's YAML with positions. Problems in the YAML itself come
 * back as one-line issues that say what to write instead where the mistake is
 * a known one (an unquoted template, a [ inside { }).
 */
export function parseScenarioYaml(file: string, text: string): ParsedYaml {
  const lines = new LineCounter();
  // uniqueKeys: false, logLevel 'error': duplicates are reported by the walk
  // (with the key's name), and the parser never writes warnings to stderr.
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: false, logLevel: 'error' });
  if (doc.errors.length > 0) return { doc, lines, issues: syntaxIssues(file, text, lines, doc.errors), fatal: true, reported: [] };
  const { issues, reported } = treeIssues(file, text, lines, doc);
  const fatal = issues.some((i) => i.message.startsWith('nested'));
  return { doc, lines, issues, fatal, reported };
}

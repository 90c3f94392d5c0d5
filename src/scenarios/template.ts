import { TEMPLATE_HELPERS } from './template-helpers.js';
import { ECHO_MAX_CHARS, printable } from '../shared/printable.js';
import { compileBinary, truthy, type BinaryOperator } from './template-operators.js';

/** Variables visible to a template while an iteration runs. */
export type TemplateVars = Record<string, unknown>;

type Expr =
  | { kind: 'literal'; value: unknown }
  | { kind: 'ref'; name: string; path: (string | number)[] }
  | { kind: 'call'; name: string; args: Expr[] }
  | { kind: 'not'; arg: Expr }
  | { kind: 'binary'; op: BinaryOperator; left: Expr; right: Expr };

/** Binary operators from the loosest binding to the tightest, as in JavaScript. */
const PRECEDENCE: readonly (readonly BinaryOperator[])[] = [['||'], ['&&'], ['==', '!='], ['<=', '>=', '<', '>']];

const KEYWORDS: Record<string, unknown> = { true: true, false: false, null: null };

/** A compiled template: call it with the iteration's variables. */
export type Render = (vars: TemplateVars) => unknown;

/** What a template refers to, for validation against what is defined. */
export interface TemplateRefs {
  variables: Set<string>;
  /** `feeder.column` style references (first two path parts). */
  paths: { name: string; field: string | undefined }[];
  helpers: { name: string; argc: number }[];
}

export class TemplateSyntaxError extends Error {}

const OPEN = '{{';
const CLOSE = '}}';

/** True when the string contains a `{{ ... }}` expression. */
export function hasTemplate(s: string): boolean {
  return s.includes(OPEN);
}

class Parser {
  private pos = 0;
  constructor(private readonly src: string) {}

  parse(): Expr {
    const e = this.expr();
    this.ws();
    if (this.pos < this.src.length) this.fail(`unexpected "${printable(this.src.slice(this.pos), ECHO_MAX_CHARS)}"`);
    return e;
  }

  private fail(msg: string): never {
    throw new TemplateSyntaxError(`in "{{ ${printable(this.src.trim(), ECHO_MAX_CHARS)} }}": ${msg}`);
  }

  private ws(): void {
    while (this.pos < this.src.length && /\s/.test(this.src[this.pos]!)) this.pos++;
  }

  /** An expression: operands joined by binary operators, loosest first (precedence climbing). */
  private expr(level = 0): Expr {
    if (level === PRECEDENCE.length) return this.unary();
    let left = this.expr(level + 1);
    for (;;) {
      this.ws();
      const op = PRECEDENCE[level]!.find((o) => this.src.startsWith(o, this.pos));
      if (op === undefined) return left;
      this.pos += op.length;
      left = { kind: 'binary', op, left, right: this.expr(level + 1) };
    }
  }

  private unary(): Expr {
    this.ws();
    if (this.src[this.pos] === '!' && this.src[this.pos + 1] !== '=') {
      this.pos++;
      return { kind: 'not', arg: this.unary() };
    }
    return this.primary();
  }

  private primary(): Expr {
    this.ws();
    const c = this.src[this.pos];
    if (c === undefined) this.fail('empty expression');
    if (c === '(') {
      this.pos++;
      const e = this.expr();
      this.ws();
      if (this.src[this.pos] !== ')') this.fail('expected ")"');
      this.pos++;
      return e;
    }
    if (c === '"' || c === "'") return this.string(c);
    if (/[-\d]/.test(c)) return this.number();
    const name = this.ident();
    if (name in KEYWORDS) return { kind: 'literal', value: KEYWORDS[name] };
    this.ws();
    if (this.src[this.pos] === '(') return this.call(name);
    return this.ref(name);
  }

  private string(quote: string): Expr {
    const end = this.src.indexOf(quote, this.pos + 1);
    if (end < 0) this.fail('unterminated string');
    const value = this.src.slice(this.pos + 1, end);
    this.pos = end + 1;
    return { kind: 'literal', value };
  }

  private number(): Expr {
    const m = /^-?\d+(\.\d+)?/.exec(this.src.slice(this.pos));
    if (!m) this.fail(`expected a number at "${printable(this.src.slice(this.pos), ECHO_MAX_CHARS)}"`);
    this.pos += m[0].length;
    return { kind: 'literal', value: Number(m[0]) };
  }

  private ident(): string {
    const m = /^[A-Za-z_$][\w$]*/.exec(this.src.slice(this.pos));
    if (!m) this.fail(`expected a name at "${printable(this.src.slice(this.pos), ECHO_MAX_CHARS)}"`);
    this.pos += m[0].length;
    return m[0];
  }

  private call(name: string): Expr {
    this.pos++; // (
    const args: Expr[] = [];
    this.ws();
    if (this.src[this.pos] === ')') {
      this.pos++;
      return { kind: 'call', name, args };
    }
    for (;;) {
      args.push(this.expr());
      this.ws();
      const c = this.src[this.pos++];
      if (c === ')') return { kind: 'call', name, args };
      if (c !== ',') this.fail(`expected "," or ")" in call to ${name}`);
    }
  }

  private ref(name: string): Expr {
    const path: (string | number)[] = [];
    for (;;) {
      const c = this.src[this.pos];
      if (c === '.') {
        this.pos++;
        path.push(this.ident());
      } else if (c === '[') {
        const m = /^\[\s*(\d+)\s*\]/.exec(this.src.slice(this.pos));
        if (!m) this.fail('expected [index]');
        path.push(Number(m[1]));
        this.pos += m[0].length;
      } else return { kind: 'ref', name, path };
    }
  }
}

type Part = string | Expr;

function split(template: string): Part[] {
  const parts: Part[] = [];
  let i = 0;
  while (i < template.length) {
    const open = template.indexOf(OPEN, i);
    if (open < 0) {
      parts.push(template.slice(i));
      break;
    }
    if (open > i) parts.push(template.slice(i, open));
    const close = template.indexOf(CLOSE, open + 2);
    if (close < 0) throw new TemplateSyntaxError(`unclosed "{{" in "${printable(template, ECHO_MAX_CHARS)}"`);
    parts.push(new Parser(template.slice(open + 2, close)).parse());
    i = close + 2;
  }
  return parts;
}

function collect(e: Expr, refs: TemplateRefs): void {
  if (e.kind === 'ref') {
    refs.variables.add(e.name);
    const field = e.path[0];
    refs.paths.push({ name: e.name, field: typeof field === 'string' ? field : undefined });
  } else if (e.kind === 'call') {
    refs.helpers.push({ name: e.name, argc: e.args.length });
    for (const a of e.args) collect(a, refs);
  } else if (e.kind === 'not') collect(e.arg, refs);
  else if (e.kind === 'binary') {
    collect(e.left, refs);
    collect(e.right, refs);
  }
}

function compileExpr(e: Expr): Render {
  switch (e.kind) {
    case 'literal': {
      const v = e.value;
      return () => v;
    }
    case 'ref': {
      const { name, path } = e;
      if (path.length === 0) return (vars) => vars[name];
      return (vars) => {
        let v: unknown = vars[name];
        for (const p of path) v = v == null ? undefined : (v as Record<string | number, unknown>)[p];
        return v;
      };
    }
    case 'call': {
      const helper = TEMPLATE_HELPERS[e.name];
      if (!helper) throw new TemplateSyntaxError(`unknown helper ${e.name}()`);
      const args = e.args.map(compileExpr);
      const fn = helper.fn;
      return (vars) => fn(args.map((a) => a(vars)));
    }
    case 'not': {
      const arg = compileExpr(e.arg);
      return (vars) => !truthy(arg(vars));
    }
    case 'binary':
      return compileBinary(e.op, compileExpr(e.left), compileExpr(e.right));
  }
}

/** Parses a template string; throws TemplateSyntaxError when malformed. */
export function templateRefs(template: string): TemplateRefs {
  const refs: TemplateRefs = { variables: new Set(), paths: [], helpers: [] };
  for (const p of split(template)) if (typeof p !== 'string') collect(p, refs);
  return refs;
}

/**
 * A condition (`if:`): an expression with or without its braces
 * (`cart.total > 0` is `{{ cart.total > 0 }}`), as a one-expression template.
 */
export function conditionTemplate(text: string): string {
  const t = text.trim();
  return t.startsWith(OPEN) && t.endsWith(CLOSE) && t.indexOf(OPEN, 2) < 0 ? t : `${OPEN} ${t} ${CLOSE}`;
}

/** Compiles a condition (see conditionTemplate) to a test of its value's truth, as JavaScript judges it. */
export function compileCondition(text: string): (vars: TemplateVars) => boolean {
  const render = compileTemplate(conditionTemplate(text));
  return (vars) => truthy(render(vars));
}

/**
 * Compiles a template string. A string that is exactly one `{{ expr }}` keeps
 * the value's type (a captured number stays a number in a JSON body); anything
 * else renders to a string.
 */
export function compileTemplate(template: string): Render {
  const parts = split(template);
  if (parts.length === 1 && typeof parts[0] !== 'string') return compileExpr(parts[0]!);
  const compiled = parts.map((p) => (typeof p === 'string' ? p : compileExpr(p)));
  if (compiled.every((p) => typeof p === 'string')) {
    const s = compiled.join('');
    return () => s;
  }
  return (vars) => {
    let out = '';
    for (const p of compiled) {
      if (typeof p === 'string') out += p;
      else {
        const v = p(vars);
        out += v == null ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
      }
    }
    return out;
  };
}

/**
 * Compiles a JSON value whose strings may hold templates. Returns undefined
 * when nothing in it is templated, so callers can serialise it once.
 */
export function compileJsonTemplate(value: unknown): Render | undefined {
  if (typeof value === 'string') return hasTemplate(value) ? compileTemplate(value) : undefined;
  if (Array.isArray(value)) {
    const items = value.map(compileJsonTemplate);
    if (items.every((i) => i === undefined)) return undefined;
    return (vars) => value.map((v, i) => (items[i] ? items[i](vars) : v));
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).map(([k, v]) => [k, v, compileJsonTemplate(v)] as const);
    if (entries.every((e) => e[2] === undefined)) return undefined;
    return (vars) => {
      const out: Record<string, unknown> = {};
      for (const [k, v, r] of entries) out[k] = r ? r(vars) : v;
      return out;
    };
  }
  return undefined;
}

/** Every template string inside a JSON value, with its path below the value. */
export function templateStrings(value: unknown, path: (string | number)[] = []): { path: (string | number)[]; text: string }[] {
  if (typeof value === 'string') return hasTemplate(value) ? [{ path, text: value }] : [];
  if (Array.isArray(value)) return value.flatMap((v, i) => templateStrings(v, [...path, i]));
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).flatMap(([k, v]) => templateStrings(v, [...path, k]));
  }
  return [];
}

import type { CheckOperator, CheckSpec, CheckSubject } from '../scenarios/check-schema.js';
import { readJsonPath } from '../scenarios/json-path.js';
import { compileJsonTemplate, type Render, type TemplateVars } from '../scenarios/template.js';
import { compareValues, sameValue } from '../scenarios/template-operators.js';

/** One operator of a check, ready to test a value. */
type Test = (actual: unknown, vars: TemplateVars) => boolean;

/** A check compiled once: its templates and regular expression ready. */
export interface CompiledCheck {
  /** Index into CompiledScenario.checkNames (the recorder counts by it). */
  index: number;
  abort: boolean;
  subject: CheckSubject;
  tests: Test[];
}

/** What a check can look at: the response, and how long it took. */
export interface CheckedResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** Kept when a check or capture needs it. */
  body: string | undefined;
  latencyMs: number;
  /** The body already parsed as JSON (by the step's captures), so that it is not parsed twice. */
  json?: { value: unknown };
}

function compileTest(op: CheckOperator, value: unknown): Test {
  if (op === 'matches') {
    const re = new RegExp(value as string);
    return (a) => (typeof a === 'string' || typeof a === 'number') && re.test(String(a));
  }
  if (op === 'exists') return (a) => (a !== undefined) === value;
  const render: Render = compileJsonTemplate(value) ?? (() => value);
  switch (op) {
    // A missing value equals nothing, not even null: `notEquals: null` holds on a missing field.
    case 'equals': return (a, vars) => a !== undefined && sameValue(a, render(vars));
    case 'notEquals': return (a, vars) => a === undefined || !sameValue(a, render(vars));
    case 'lt': return (a, vars) => compareValues('<', a, render(vars));
    case 'lte': return (a, vars) => compareValues('<=', a, render(vars));
    case 'gt': return (a, vars) => compareValues('>', a, render(vars));
    case 'gte': return (a, vars) => compareValues('>=', a, render(vars));
    case 'contains': return (a, vars) => {
      const v = render(vars);
      if (typeof a === 'string') return a.includes(String(v));
      return Array.isArray(a) && a.some((x) => sameValue(x, v));
    };
    case 'in': return (a, vars) => a !== undefined && (render(vars) as unknown[]).some((x) => sameValue(a, x));
  }
}

export function compileCheck(spec: CheckSpec, index: number): CompiledCheck {
  return { index, abort: spec.abort, subject: spec.subject, tests: spec.ops.map((o) => compileTest(o.op, o.value)) };
}

/** True when a check needs the response body kept. */
export function needsBody(c: CheckSpec): boolean {
  return c.subject.kind === 'json' || c.subject.kind === 'body';
}

/**
 * Runs a response's checks in order, telling `record` each outcome. Returns
 * true when a failed check has `abort: true` (the iteration then ends as
 * failed). Every check of the response is evaluated and counted either way:
 * a check whose value template throws counts as failed, and the first such
 * error is thrown once all checks are counted.
 * The body is parsed as JSON at most once; a body that is not JSON has nothing
 * at any path.
 */
export function runChecks(checks: readonly CompiledCheck[], res: CheckedResponse, vars: TemplateVars, record: (index: number, pass: boolean) => void): boolean {
  let json = res.json?.value;
  let parsed = res.json !== undefined;
  let abort = false;
  let failure: { err: unknown } | undefined;
  for (const c of checks) {
    const s = c.subject;
    let actual: unknown;
    switch (s.kind) {
      case 'status': actual = res.status; break;
      case 'duration': actual = res.latencyMs; break;
      case 'body': actual = res.body || undefined; break;
      case 'header': {
        const h = res.headers[s.header];
        actual = Array.isArray(h) ? h.join(', ') : h;
        break;
      }
      case 'json': {
        if (!parsed) {
          parsed = true;
          try {
            json = res.body ? JSON.parse(res.body) : undefined;
          } catch {
            json = undefined;
          }
        }
        actual = readJsonPath(json, s.path);
      }
    }
    let pass = true;
    try {
      for (const t of c.tests) {
        if (!t(actual, vars)) {
          pass = false;
          break;
        }
      }
    } catch (err) {
      // A value's template failed: the check fails, and the others still run.
      pass = false;
      failure ??= { err };
    }
    record(c.index, pass);
    if (!pass && c.abort) abort = true;
  }
  if (failure) throw failure.err;
  return abort;
}

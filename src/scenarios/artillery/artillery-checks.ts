import { parseJsonPath } from '../json-path.js';
import { rewriteTemplate, type TemplateScope } from './artillery-template.js';
import type { ImportNotes, NotePath } from './import-notes.js';

/** A check of the translated step, in the contract's syntax (`- json: { path: $.id, exists: true }`). */
export type OutCheck = Record<string, unknown>;

/** What the expect plugin's and match's expectations become. */
export interface ResponseRules {
  status?: number[];
  checks: OutCheck[];
}

/** A lodash property path (`data.items[0].id`, what hasProperty takes) as our JSON path. */
export function propertyPath(prop: string): string {
  let out = '$';
  for (const part of prop.split('.')) {
    const m = /^([^[\]]*)((?:\[\d+\])*)$/.exec(part);
    const key = m ? m[1]! : part;
    if (key !== '') out += /^[A-Za-z_$][\w$-]*$/.test(key) ? `.${key}` : `['${key.replace(/'/g, "\\'")}']`;
    if (m) out += m[2];
  }
  return out;
}

function statusList(v: unknown): number[] | undefined {
  const list = Array.isArray(v) ? v : [v];
  const nums = list.map((x) => (typeof x === 'string' && /^\d{3}$/.test(x.trim()) ? Number(x) : x));
  return nums.every((n) => typeof n === 'number' && Number.isInteger(n) && n >= 100 && n <= 599) ? (nums as number[]) : undefined;
}

/**
 * The expect plugin's expectations (a list, or one mapping of several) →
 * expect.status and checks. statusCode becomes expect.status, so another
 * status is an `expectation` error that ends the iteration (as Artillery
 * does with reportFailuresAsErrors); the others become checks, counted and
 * not ending it (as Artillery does by default).
 */
export function translateExpect(expect: unknown, at: NotePath, scope: TemplateScope, notes: ImportNotes, rules: ResponseRules): void {
  const items: [Record<string, unknown>, NotePath][] = Array.isArray(expect)
    ? expect.map((e, i) => [e as Record<string, unknown>, [...at, i]])
    : expect !== null && typeof expect === 'object'
      ? Object.entries(expect).map(([k, v]) => [{ [k]: v }, at])
      : [];
  if (items.length === 0) notes.untranslated(at, 'expected a list of expectations');
  const t = (v: unknown, here: NotePath): string => rewriteTemplate(String(v), scope, notes, here);
  for (const [item, here0] of items) {
    for (const [key, value] of Object.entries(item ?? {})) {
      const here = [...here0, key];
      switch (key) {
        case 'statusCode': {
          const list = statusList(value);
          if (list) rules.status = [...(rules.status ?? []), ...list];
          else rules.checks.push({ status: { equals: t(value, here) } });
          break;
        }
        case 'notStatusCode':
          for (const v of Array.isArray(value) ? value : [value]) rules.checks.push({ status: { notEquals: statusList(v)?.[0] ?? t(v, here) } });
          break;
        case 'contentType':
          rules.checks.push({ header: { name: 'content-type', contains: t(value, here) } });
          break;
        case 'hasProperty':
        case 'notHasProperty':
          rules.checks.push({ json: { path: propertyPath(String(value)), exists: key === 'hasProperty' } });
          break;
        case 'hasHeader':
          rules.checks.push({ header: { name: String(value).toLowerCase(), exists: true } });
          break;
        case 'headerEquals':
          if (Array.isArray(value) && value.length === 2) rules.checks.push({ header: { name: String(value[0]).toLowerCase(), equals: t(value[1], here) } });
          else notes.untranslated(here, 'headerEquals: expected [name, value]');
          break;
        case 'matchesRegexp':
          rules.checks.push({ body: { matches: String(value) } });
          break;
        default:
          notes.untranslated(here, key === 'equals'
            ? 'equals compares template values with each other, not the response; scalectl checks test the response (json, body, header, status, duration)'
            : `expectation "${key}" not translated`);
      }
    }
  }
}

/** The deprecated `match: { json, value }` (or a list of them) → json checks. */
export function translateMatch(match: unknown, at: NotePath, scope: TemplateScope, notes: ImportNotes, rules: ResponseRules): void {
  const list = Array.isArray(match) ? match : [match];
  list.forEach((m: Record<string, unknown>, i) => {
    const here = Array.isArray(match) ? [...at, i] : at;
    const path = typeof m?.json === 'string' ? m.json : undefined;
    if (!path || !parseJsonPath(path) || m.value === undefined) return notes.untranslated(here, 'match: only { json: <simple JSON path>, value } is translated');
    rules.checks.push({ json: { path, equals: typeof m.value === 'string' ? rewriteTemplate(m.value, scope, notes, here) : m.value } });
  });
}

/**
 * capture (one or a list): json (simple paths) and header; regexp, xpath and
 * selector have no counterpart. A capture left out is declared as an empty
 * variable (added to `scope.placeholders`), so later `{{ name }}` still validate.
 */
export function translateCapture(capture: unknown, at: NotePath, notes: ImportNotes, scope: Pick<TemplateScope, 'declared' | 'placeholders'> = {}): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const list = Array.isArray(capture) ? capture : [capture];
  list.forEach((c: Record<string, unknown>, i) => {
    const here = Array.isArray(capture) ? [...at, i] : at;
    const as = typeof c?.as === 'string' ? c.as : undefined;
    if (!as || !/^[A-Za-z_$][\w$]*$/.test(as)) return notes.untranslated(here, 'a capture needs "as", a name made of letters, digits and _');
    for (const k of ['transform', 'group', 'flags', 'attr', 'index']) if (c[k] !== undefined) notes.untranslated([...here, k], `capture option "${k}" not translated`);
    if (c.strict === false) notes.note([...here, 'strict'], 'strict: false: a scalectl capture that finds nothing fails the iteration (error kind capture)');
    const placeholder = (): string => {
      if (scope.declared?.has(as)) return '';
      scope.placeholders?.add(as);
      return `; ${as} is declared empty instead (variables: { ${as}: "" }) so that the steps using it still validate`;
    };
    if (typeof c.json === 'string') {
      if (parseJsonPath(c.json)) out[as] = c.json;
      else notes.untranslated([...here, 'json'], `JSON path ${c.json} not translated: scalectl paths take $, .key, [0] and ['key'] (no wildcards, filters or ..)${placeholder()}`);
    } else if (typeof c.header === 'string') out[as] = { header: c.header.toLowerCase() };
    else {
      const kind = ['regexp', 'xpath', 'selector'].find((k) => c[k] !== undefined) ?? 'this';
      notes.untranslated(here, `${kind} capture not translated: scalectl captures read a JSON path or a header${placeholder()}`);
    }
  });
  return out;
}

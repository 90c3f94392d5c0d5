import { z } from 'zod';
import { DURATION_PATTERN, formatDuration } from '../shared/duration.js';
import { durationSchema } from '../shared/duration-schema.js';
import { parseJsonPath, type JsonPath } from './json-path.js';
import { echo } from '../shared/printable.js';
import { atLeastOneOf, exactlyOneOf } from './json-schema-rules.js';

/*
 * Checks on a response (`check:` on a request step): one subject (json, body,
 * header, duration, status) and one or more operators that must all hold.
 * A failed check is counted, not a request error (docs/scenarios.md#checks).
 */

export const CHECK_OPERATORS = ['equals', 'notEquals', 'lt', 'lte', 'gt', 'gte', 'contains', 'matches', 'exists', 'in'] as const;
export type CheckOperator = (typeof CHECK_OPERATORS)[number];

export const CHECK_SUBJECTS = ['json', 'body', 'header', 'duration', 'status'] as const;
export type CheckSubjectKey = (typeof CHECK_SUBJECTS)[number];

/** What a check looks at. */
export type CheckSubject =
  | { kind: 'json'; path: JsonPath; expr: string }
  | { kind: 'body' }
  | { kind: 'header'; header: string }
  | { kind: 'duration' }
  | { kind: 'status' };

/** A validated check. Values are as written (strings may hold templates); durations are milliseconds. */
export interface CheckSpec {
  /** Counted under this name; the step's transform fills in the default. */
  name: string;
  /** A failed check ends the iteration as failed. */
  abort: boolean;
  subject: CheckSubject;
  ops: { op: CheckOperator; value: unknown }[];
}

/** A JavaScript regular expression source, compiled here so that a bad one is a validation error. */
const regexSchema = z.string().superRefine((src, ctx) => {
  try {
    new RegExp(src);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: `not a valid regular expression: ${(err as Error).message.replace(/^Invalid regular expression: /, '')}` });
  }
}).meta({ description: 'A JavaScript regular expression (source, no slashes); templates are not expanded in it.' });

const scalar = z.union([z.string(), z.number(), z.boolean()]);
const ordered = z.union([z.number(), z.string()]).meta({ description: 'A number (or a string, compared as text; may hold a template).' });
const anyValue = z.unknown().meta({ description: 'Any value; strings may hold templates.' });
const listValue = z.array(z.unknown()).min(1).meta({ description: 'Accepted values; strings may hold templates.' });
const existsValue = z.boolean().meta({ description: 'true: present; false: absent.' });
const statusCode = z.number().int().min(100).max(599);

const jsonOps = { equals: anyValue, notEquals: anyValue, lt: ordered, lte: ordered, gt: ordered, gte: ordered, contains: anyValue, matches: regexSchema, exists: existsValue, in: listValue };
const textOps = { equals: scalar, notEquals: scalar, contains: scalar, matches: regexSchema, exists: existsValue };
/** A check's duration: the unit is required, since a bare number (seconds elsewhere) reads as milliseconds to k6 users. */
function checkDuration(op: string) {
  const hint = (v: unknown) => `give duration a unit, e.g. ${op}: ${String(v).trim()}ms`;
  return z.union([z.number(), z.string().meta({ pattern: DURATION_PATTERN })])
    .superRefine((v, ctx) => {
      if (typeof v === 'number' || /^\s*\d+(\.\d+)?\s*$/.test(v)) ctx.addIssue({ code: 'custom', message: hint(v) });
    })
    .pipe(durationSchema)
    .meta({ description: 'A duration with its unit: 300ms, 2s, 1m30s (a bare number is refused).' });
}
const durationOps = { lt: checkDuration('lt'), lte: checkDuration('lte'), gt: checkDuration('gt'), gte: checkDuration('gte') };
const statusOps = { equals: statusCode, notEquals: statusCode, lt: statusCode, lte: statusCode, gt: statusCode, gte: statusCode, in: z.array(statusCode).min(1) };

/** A subject's mapping: its own keys plus its operators, at least one operator. */
function subject<K extends z.core.$ZodLooseShape, O extends z.core.$ZodLooseShape>(what: string, keys: K, ops: O) {
  const names = Object.keys(ops);
  // Judged only when the mapping is otherwise valid: a misspelt operator is reported once, as an unknown key.
  return z.strictObject({ ...keys, ...ops }).refine((v) => names.some((k) => (v as Record<string, unknown>)[k] !== undefined),
    { message: `a ${what} check needs an operator: ${names.join(', ')}`, when: (p) => p.issues.length === 0 })
    // The same rule for the editor schema.
    .meta(atLeastOneOf(names));
}

const optional = <T extends z.core.$ZodLooseShape>(shape: T) =>
  Object.fromEntries(Object.entries(shape).map(([k, s]) => [k, (s as z.ZodType).optional()])) as { [P in keyof T]: z.ZodOptional<T[P]> };

const jsonPathSchema = z.string().superRefine((expr, ctx) => {
  if (!parseJsonPath(expr)) ctx.addIssue({ code: 'custom', message: `expected a JSON path like $.id or $.items[0].sku, got ${echo(expr)}` });
});

const subjects = {
  json: subject('json', { path: jsonPathSchema.meta({ description: 'A JSON path into the response body ($.a.b[0]).' }) }, optional(jsonOps)),
  body: subject('body', {}, optional(textOps)),
  header: subject('header', { name: z.string().min(1).meta({ description: 'The header name (any case).' }) }, optional({ ...textOps, lt: ordered, lte: ordered, gt: ordered, gte: ordered, in: listValue })),
  duration: subject('duration', {}, optional(durationOps)),
  status: subject('status', {}, optional(statusOps)),
};

export const checkSchema = z
  .strictObject({
    name: z.string().min(1).optional().meta({ description: 'Counted under this name; default: the endpoint name and the check, e.g. "GET /api/x: status in [200]".' }),
    abort: z.boolean().default(false).meta({ description: 'A failed check ends the iteration (counted as failed). Default false: counted, and the iteration goes on.' }),
    ...optional(subjects),
  })
  .meta({ description: 'A check on the response: one of json, body, header, duration, status, with one or more operators (all must hold).' })
  .superRefine((c, ctx) => {
    const given = CHECK_SUBJECTS.filter((k) => c[k] !== undefined);
    if (given.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        message: given.length === 0 ? `a check needs one of ${CHECK_SUBJECTS.join(', ')}` : `a check takes only one of ${given.join(', ')}`,
      });
    }
  })
  // The same rule for the editor schema: one subject.
  .meta(exactlyOneOf(CHECK_SUBJECTS))
  .transform((c): Omit<CheckSpec, 'name'> & { name: string | undefined } => {
    const key = CHECK_SUBJECTS.find((k) => c[k] !== undefined)!;
    const v = c[key] as Record<string, unknown>;
    const ops = CHECK_OPERATORS.filter((op) => v[op] !== undefined).map((op) => ({ op, value: v[op] }));
    const subject: CheckSubject = key === 'json' ? { kind: 'json', path: parseJsonPath(v.path as string)!, expr: v.path as string }
      : key === 'header' ? { kind: 'header', header: (v.name as string).toLowerCase() }
        : { kind: key };
    return { name: c.name, abort: c.abort, subject, ops };
  });

/** What the check looks at and tests, for its default name: `json $.id equals 42`, `duration lt 300ms`. */
export function describeCheck(c: Pick<CheckSpec, 'subject' | 'ops'>): string {
  const s = c.subject;
  const what = s.kind === 'json' ? `json ${s.expr}` : s.kind === 'header' ? `header ${s.header}` : s.kind;
  const value = (v: unknown): string => (s.kind === 'duration' ? formatDuration(v as number) : JSON.stringify(v) ?? String(v));
  return `${what} ${c.ops.map((o) => `${o.op} ${value(o.value)}`).join(', ')}`;
}

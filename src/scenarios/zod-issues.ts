import type { z } from 'zod';
import { didYouMean } from './scenario-issue.js';
import { echo, printable } from '../shared/printable.js';

/** A zod issue turned into a path and a one-line message for people. */
export interface PlainIssue {
  path: PropertyKey[];
  message: string;
  /** For unknown keys: point at the key itself, not its value. */
  atKey?: boolean;
}

type ZodIssue = z.core.$ZodIssue;

/** The value as the message shows it: quoted and cut if long, `.inf`/`.nan` as YAML writes them. */
const describe = echo;

const ARTICLE: Record<string, string> = {
  number: 'a number', string: 'a string', boolean: 'true or false', object: 'a mapping', record: 'a mapping', array: 'a list', int: 'an integer',
};

/** Shape keys at a path inside a zod schema, for "did you mean". */
function keysAt(schema: z.core.$ZodType, path: PropertyKey[]): string[] {
  let s: z.core.$ZodType | undefined = schema;
  let i = 0;
  for (;;) {
    if (!s) return [];
    const def = s._zod.def as unknown as Record<string, unknown> & { type: string };
    switch (def.type) {
      case 'optional': case 'default': case 'nullable': case 'prefault':
        s = def.innerType as z.core.$ZodType; continue;
      case 'pipe': s = def.in as z.core.$ZodType; continue;
      case 'lazy': s = (def.getter as () => z.core.$ZodType)(); continue;
      case 'object': {
        const shape = def.shape as Record<string, z.core.$ZodType>;
        if (i === path.length) return Object.keys(shape);
        s = shape[String(path[i++])]; continue;
      }
      case 'array': i++; s = def.element as z.core.$ZodType; continue;
      case 'record': i++; s = def.valueType as z.core.$ZodType; continue;
      case 'union': {
        const objects = (def.options as z.core.$ZodType[]).map((o) => keysAt(o, path.slice(i)));
        return [...new Set(objects.flat())];
      }
      default: return [];
    }
  }
}

/** Flattens zod issues into one-line messages (unknown keys: one issue per key). */
export function plainIssues(schema: z.core.$ZodType, issues: readonly ZodIssue[]): PlainIssue[] {
  const out: PlainIssue[] = [];
  for (const issue of issues) {
    const path = [...issue.path];
    const input = (issue as { input?: unknown }).input;
    switch (issue.code) {
      case 'unrecognized_keys': {
        const allowed = keysAt(schema, path);
        for (const key of issue.keys) {
          out.push({ path: [...path, key], atKey: true, message: `unknown key ${echo(key)}${didYouMean(key, allowed)}` });
        }
        break;
      }
      case 'invalid_type':
        out.push({
          path,
          message: input === undefined ? 'required' : `expected ${ARTICLE[issue.expected] ?? issue.expected}, got ${describe(input)}`,
        });
        break;
      case 'invalid_union': {
        const expected = new Set<string>();
        for (const branch of issue.errors) for (const e of branch) if (e.code === 'invalid_type' && e.path.length === 0) expected.add(ARTICLE[e.expected] ?? e.expected);
        // When one branch got further than a type mismatch, its problems are the useful ones.
        const deeper = issue.errors.find((b) => b.length > 0 && b.every((e) => e.code !== 'invalid_type' || e.path.length > 0));
        if (deeper) out.push(...plainIssues(schema, deeper.map((e) => ({ ...e, path: [...path, ...e.path] }) as ZodIssue)));
        else out.push({ path, message: `expected ${[...expected].join(' or ') || 'another value'}, got ${describe(input)}` });
        break;
      }
      case 'too_small':
        out.push({
          path,
          message: issue.origin === 'array' ? `needs at least ${String(issue.minimum)} item${issue.minimum === 1 ? '' : 's'}`
            : issue.origin === 'string' ? 'must not be empty'
              : `must be ${issue.inclusive ? '>=' : '>'} ${String(issue.minimum)}, got ${describe(input)}`,
        });
        break;
      case 'too_big':
        out.push({ path, message: `must be ${issue.inclusive ? '<=' : '<'} ${String(issue.maximum)}, got ${describe(input)}` });
        break;
      case 'invalid_value':
        out.push({ path, message: `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}, got ${describe(input)}` });
        break;
      case 'invalid_format':
        out.push({ path, message: issue.message });
        break;
      case 'invalid_key':
        // A record key that fails its pattern (a variable name, a header name): point at the key.
        out.push({ path, atKey: true, message: `${issue.issues[0]?.message ?? 'invalid key'}, got ${echo(String(path.at(-1)))}` });
        break;
      default:
        out.push({ path, message: printable(issue.message) });
    }
  }
  return out;
}

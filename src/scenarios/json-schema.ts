import { z } from 'zod';
import { scenarioSchema } from './schema.js';

/**
 * The editor JSON Schema for scenario files, generated from the zod schema
 * (docs/scenario.schema.json; `npm run gen:schema` rewrites it and a test
 * fails when the committed copy drifts). It is made to compile in ajv's
 * strict mode (see strictJsonSchema), so editors and CI can use it as is.
 */
export function scenarioJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(scenarioSchema, { io: 'input', unrepresentable: 'any', target: 'draft-2020-12' }) as Record<string, unknown>;
  return {
    $schema: schema.$schema,
    title: 'scalectl scenario',
    ...(strictJsonSchema(schema) as Record<string, unknown>),
  };
}

export function renderScenarioJsonSchema(): string {
  return JSON.stringify(scenarioJsonSchema(), null, 2) + '\n';
}

/** The keywords that apply to values of one JSON type only (ajv's strictTypes wants each beside its type). */
const TYPE_KEYWORDS: Record<string, readonly string[]> = {
  string: ['minLength', 'maxLength', 'pattern', 'format'],
  number: ['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'multipleOf'],
  integer: ['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'multipleOf'],
  object: ['properties', 'required', 'additionalProperties', 'propertyNames', 'patternProperties', 'minProperties', 'maxProperties', 'dependentRequired'],
  array: ['items', 'prefixItems', 'minItems', 'maxItems', 'uniqueItems', 'contains'],
};

type Json = unknown;

/**
 * Rewrites what zod emits into what ajv accepts with `strict: true`, by
 * shape, wherever it occurs (so schema fields added later are covered too):
 * a list of types (`type: [string, number]`, which strict mode refuses
 * without allowUnionTypes) becomes an `anyOf` with one branch per type, each
 * with the keywords of its type; a required key gets a `properties` entry.
 */
export function strictJsonSchema(node: Json): Json {
  if (Array.isArray(node)) return node.map(strictJsonSchema);
  if (node === null || typeof node !== 'object') return node;
  const out: Record<string, Json> = {};
  for (const [k, v] of Object.entries(node)) {
    // Values under these keys are data or names, not schemas.
    out[k] = k === 'enum' || k === 'const' || k === 'default' || k === 'examples' || k === 'required' ? v : strictJsonSchema(v);
  }
  defineRequired(out);
  if (Array.isArray(out.type)) return splitTypes(out, out.type as string[]);
  return out;
}

/**
 * A required key not under `properties` (a record with enum keys gives one),
 * which strictRequired refuses, gets a `properties` entry holding the schema
 * it was held to already: the `additionalProperties` one.
 */
function defineRequired(schema: Record<string, Json>): void {
  if (!Array.isArray(schema.required)) return;
  const properties = (schema.properties ?? {}) as Record<string, Json>;
  const missing = (schema.required as string[]).filter((k) => !(k in properties));
  if (!missing.length) return;
  schema.properties = { ...properties, ...Object.fromEntries(missing.map((k) => [k, schema.additionalProperties ?? true])) };
}

function splitTypes(schema: Record<string, Json>, types: string[]): Record<string, Json> {
  const { type: _type, ...rest } = schema;
  const shared: Record<string, Json> = {};
  const specific = new Set(Object.values(TYPE_KEYWORDS).flat());
  for (const [k, v] of Object.entries(rest)) if (!specific.has(k)) shared[k] = v;
  const branches = types.map((t) => {
    const branch: Record<string, Json> = { type: t };
    for (const k of TYPE_KEYWORDS[t] ?? []) if (k in rest) branch[k] = rest[k];
    return branch;
  });
  // A schema with an anyOf of its own keeps it, beside the one for the types.
  if (!('anyOf' in shared)) return { ...shared, anyOf: branches };
  const { anyOf, ...others } = shared;
  return { ...others, allOf: [{ anyOf }, { anyOf: branches }] };
}

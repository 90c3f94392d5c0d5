import { z } from 'zod';
import { scenarioSchema } from './schema.js';

/**
 * The editor JSON Schema for scenario files, generated from the zod schema
 * (docs/scenario.schema.json; `npm run gen:schema` rewrites it and a test
 * fails when the committed copy drifts).
 */
export function scenarioJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(scenarioSchema, { io: 'input', unrepresentable: 'any', target: 'draft-2020-12' }) as Record<string, unknown>;
  return {
    $schema: schema.$schema,
    title: 'scalectl scenario',
    ...schema,
  };
}

export function renderScenarioJsonSchema(): string {
  return JSON.stringify(scenarioJsonSchema(), null, 2) + '\n';
}

// Regenerates docs/scenario.schema.json from the zod schema (run after `npm run build`).
import { writeFileSync } from 'node:fs';
import { renderScenarioJsonSchema } from '../dist/scenarios/json-schema.js';

writeFileSync(new URL('../docs/scenario.schema.json', import.meta.url), renderScenarioJsonSchema());
console.log('wrote docs/scenario.schema.json');

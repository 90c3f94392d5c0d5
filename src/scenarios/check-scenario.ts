import type { Scenario } from './schema.js';
import { templateRefs, templateStrings, TemplateSyntaxError } from './template.js';
import { TEMPLATE_HELPERS } from './template-helpers.js';
import { customMetric, isTelemetryMetric, parseThreshold } from './threshold-expression.js';
import { didYouMean } from './scenario-issue.js';

/** Variables every template can use without declaring them. */
export const BUILTIN_VARIABLES = ['iteration', 'env'] as const;

export interface SemanticIssue {
  path: (string | number)[];
  message: string;
}

interface Context {
  known: Set<string>;
  /** Columns of each data feeder. */
  columns: Record<string, string[]>;
  env: Readonly<Record<string, string | undefined>>;
  issues: SemanticIssue[];
}

function checkTemplate(text: string, path: (string | number)[], ctx: Context): void {
  let refs;
  try {
    refs = templateRefs(text);
  } catch (err) {
    if (err instanceof TemplateSyntaxError) {
      ctx.issues.push({ path, message: err.message });
      return;
    }
    throw err;
  }
  for (const h of refs.helpers) {
    const helper = TEMPLATE_HELPERS[h.name];
    if (!helper) {
      ctx.issues.push({ path, message: `unknown helper ${h.name}()${didYouMean(h.name, Object.keys(TEMPLATE_HELPERS))}; helpers: ${Object.keys(TEMPLATE_HELPERS).join(', ')}` });
    } else if (h.argc < helper.arity[0] || h.argc > helper.arity[1]) {
      ctx.issues.push({ path, message: `${h.name}() takes ${helper.usage}, got ${h.argc} argument${h.argc === 1 ? '' : 's'}` });
    }
  }
  for (const { name, field } of refs.paths) {
    if (!ctx.known.has(name)) {
      ctx.issues.push({ path, message: `unknown variable "${name}"${didYouMean(name, [...ctx.known])} (define it under variables, data, or capture it in an earlier step)` });
    } else if (name === 'env') {
      if (field === undefined) ctx.issues.push({ path, message: 'use env.NAME for an environment variable' });
      else if (ctx.env[field] === undefined) ctx.issues.push({ path, message: `environment variable ${field} is not set` });
    } else if (field !== undefined && ctx.columns[name] && !ctx.columns[name].includes(field)) {
      ctx.issues.push({ path, message: `data "${name}" has no column "${field}"${didYouMean(field, ctx.columns[name])}; columns: ${ctx.columns[name].join(', ')}` });
    }
  }
}

/**
 * Checks what the schema cannot: templates refer to helpers, variables,
 * feeder columns and earlier captures that exist; thresholds parse and their
 * scopes name an endpoint or flow; names are unique. Collects every issue.
 */
export function checkScenario(scenario: Scenario, columns: Record<string, string[]>, env: Readonly<Record<string, string | undefined>>): SemanticIssue[] {
  const issues: SemanticIssue[] = [];
  const base = new Set<string>([...BUILTIN_VARIABLES, ...Object.keys(scenario.variables), ...Object.keys(scenario.data)]);
  for (const name of Object.keys(scenario.data)) {
    if (name in scenario.variables || (BUILTIN_VARIABLES as readonly string[]).includes(name)) issues.push({ path: ['data', name], message: `"${name}" is already a variable name` });
  }
  for (const [key, value] of Object.entries(scenario.defaults.headers)) checkTemplate(value, ['defaults', 'headers', key], { known: base, columns, env, issues });

  const flowNames = new Set<string>();
  const endpointNames = new Set<string>();
  scenario.flows.forEach((flow, fi) => {
    if (flowNames.has(flow.name)) issues.push({ path: ['flows', fi, 'name'], message: `flow name "${flow.name}" is used twice` });
    flowNames.add(flow.name);
    const ctx: Context = { known: new Set(base), columns, env, issues };
    flow.steps.forEach((step, si) => {
      if (step.kind !== 'request') return;
      const at = ['flows', fi, 'steps', si];
      endpointNames.add(step.name);
      checkTemplate(step.url, [...at, ...step.urlField], ctx);
      for (const [key, value] of Object.entries(step.headers)) checkTemplate(value, [...at, 'headers', key], ctx);
      if (step.body !== undefined) checkTemplate(step.body, [...at, 'body'], ctx);
      for (const t of templateStrings(step.json)) checkTemplate(t.text, [...at, 'json', ...t.path], ctx);
      for (const c of step.capture) ctx.known.add(c.name);
    });
  });

  scenario.thresholds.forEach(({ text, at }) => {
    const t = parseThreshold(text);
    if (typeof t === 'string') issues.push({ path: at, message: t });
    else if (t.scope !== undefined && !flowNames.has(t.scope) && !endpointNames.has(t.scope)) {
      const names = [...flowNames, ...endpointNames];
      issues.push({ path: at, message: `no endpoint or flow named "${t.scope}"${didYouMean(t.scope, names)}; names: ${names.join(', ')}` });
    } else if (isTelemetryMetric(t.metric) && !scenario.telemetry && scenario.target !== 'reference') {
      issues.push({ path: at, message: `${t.metric} comes from the target's metrics: add a telemetry: section (docs/telemetry.md)` });
    } else {
      const custom = customMetric(t.metric);
      const names = Object.keys(scenario.telemetry?.custom ?? {});
      if (custom && !names.includes(custom.name)) {
        issues.push({ path: at, message: `no custom telemetry series named "${custom.name}"${didYouMean(custom.name, names)}; define it under telemetry.custom` });
      } else if (custom) {
        const type = scenario.telemetry!.custom[custom.name]!.type;
        const allowed = type === 'counter' ? ['rate', 'increase'] : ['min', 'mean', 'max', 'final'];
        if (!allowed.includes(custom.aggregate)) issues.push({ path: at, message: `${custom.name} is a ${type}: use ${allowed.map((a) => `${custom.name}.${a}`).join(', ')}` });
      }
    }
  });
  return issues;
}

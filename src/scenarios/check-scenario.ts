import type { Phase, RequestStep, Scenario, ThresholdSource } from './schema.js';
import { conditionTemplate, templateRefs, templateStrings, TemplateSyntaxError } from './template.js';
import { TEMPLATE_HELPERS } from './template-helpers.js';
import { customMetric, isTelemetryMetric, parseThreshold, type ThresholdExpression } from './threshold-expression.js';
import { didYouMean } from './scenario-issue.js';
import { requestUrlProblem } from './target-url.js';
import { echo, nameList } from '../shared/printable.js';
import { headerValueProblem, isHeaderName } from './header-schema.js';

/** Variables every template can use without declaring them. */
export const BUILTIN_VARIABLES = ['iteration', 'env'] as const;

/** Variables set inside a loop besides its loop variable. */
export const LOOP_VARIABLES = ['loopIndex', 'loopCount'] as const;

export interface SemanticIssue {
  path: (string | number)[];
  message: string;
  /** Point at the key itself (a name), not its value. */
  atKey?: boolean;
}

/** A string of a step that may hold templates, and where it was written in the step. */
export interface StepText {
  field: (string | number)[];
  text: string;
}

/**
 * A step the schema refused: what it was written with that can still be
 * checked (its URLs, headers, body and JSON templates, capture names), so
 * that `validate` reports those problems in the same pass.
 */
export interface UncheckedStep {
  kind: 'unchecked';
  /** Its endpoint name, when one was written. */
  name: string | undefined;
  /** Each URL written (one per method key or request.url; more than one is itself refused). */
  urls: StepText[];
  /** Header values, with the header's name last in the field. */
  headers: StepText[];
  /** Body strings and strings in its json. */
  bodies: StepText[];
  captures: string[];
  /** Strings of its checks' values. */
  checks?: StepText[];
  if?: string;
}

/** A loop as the checks read it (a validated one, or the readable parts of a refused one). */
export interface CheckLoop {
  kind: 'loop';
  /** A template giving the list, a literal list, or undefined. */
  over: unknown;
  as: string;
  if?: string;
  steps: CheckStep[];
}

/** A step as the semantic checks read it. */
export type CheckStep = RequestStep | { kind: 'think'; if?: string } | CheckLoop | UncheckedStep;

/**
 * What the semantic checks read: a whole validated scenario, or, when the
 * schema refused parts of it, the parts that passed (so that `validate`
 * reports every problem in one pass). Undefined means "not known": skip.
 */
export interface CheckInput {
  target: string | undefined;
  /** The telemetry section; 'invalid' when it failed the schema. */
  telemetry: Scenario['telemetry'] | 'invalid';
  variables: string[];
  data: string[];
  /** False when variables or data were not mappings: an unknown variable is then not reported. */
  namesComplete: boolean;
  defaultHeaders: Record<string, string> | undefined;
  phases: Phase[] | undefined;
  flows: { name: string | undefined; steps: CheckStep[] }[];
  thresholds: ThresholdSource[];
  /** The scenario's check names, when known: a `checks` threshold scoped to another name is refused. */
  checkNames?: string[];
}

/** The check input of a scenario the schema accepted whole. */
export function checkInputOf(s: Scenario): CheckInput {
  return {
    target: s.target,
    telemetry: s.telemetry,
    variables: Object.keys(s.variables),
    data: Object.keys(s.data),
    namesComplete: true,
    defaultHeaders: s.defaults.headers,
    phases: s.phases,
    flows: s.flows,
    thresholds: s.thresholds,
  };
}

interface Context {
  known: Set<string>;
  namesComplete: boolean;
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
      if (ctx.namesComplete) ctx.issues.push({ path, message: `unknown variable ${echo(name)}${didYouMean(name, [...ctx.known])} (define it under variables, data, or capture it in an earlier step)` });
    } else if (name === 'env') {
      if (field === undefined) ctx.issues.push({ path, message: 'use env.NAME for an environment variable' });
      else if (ctx.env[field] === undefined) ctx.issues.push({ path, message: `environment variable ${echo(field).slice(1, -1)} is not set` });
    } else if (field !== undefined && ctx.columns[name] && !ctx.columns[name].includes(field)) {
      ctx.issues.push({ path, message: `data ${echo(name)} has no column ${echo(field)}${didYouMean(field, ctx.columns[name])}; columns: ${nameList(ctx.columns[name])}` });
    }
  }
}

function isBuiltin(name: string): boolean {
  return (BUILTIN_VARIABLES as readonly string[]).includes(name);
}

/** True when some phase starts an iteration (a vus phase, or a rate above 0 at some point). */
function sendsAnything(phases: readonly Phase[]): boolean {
  return phases.some((p) => p.durationMs > 0 && (p.kind === 'vus' || (p.kind === 'arrivalRate' && (p.arrivalRate > 0 || p.rampTo > 0))));
}

/** The checkable parts of a step the schema accepted, in the shape of a refused one's. */
function partsOf(step: RequestStep): Omit<UncheckedStep, 'kind'> {
  return {
    name: step.name,
    urls: [{ field: step.urlField, text: step.url }],
    // A cookie value ends up in a header: its templates are checked as a header's.
    headers: [
      ...Object.entries(step.headers).map(([key, text]) => ({ field: ['headers', key], text })),
      ...Object.entries(step.cookies).map(([key, text]) => ({ field: ['cookies', key], text })),
    ],
    bodies: [
      ...(step.body === undefined ? [] : [{ field: ['body'], text: step.body }]),
      ...templateStrings(step.json).map((t) => ({ field: ['json', ...t.path], text: t.text })),
    ],
    captures: step.capture.map((c) => c.name),
    // A regular expression is not a template: `matches` is left as written.
    checks: step.checks.flatMap((c, i) => c.ops.filter((o) => o.op !== 'matches')
      .flatMap((o) => templateStrings(o.value).map((t) => ({ field: ['check', i, c.subject.kind, o.op, ...t.path], text: t.text })))),
  };
}

interface Names {
  flowNames: Set<string>;
  endpointNames: Set<string>;
  checkNames: Set<string>;
  /** False when a step the schema refused may hold checks not listed in checkNames. */
  checksComplete: boolean;
  allNamed: boolean;
}

/** Checks a loop: its list, its variable's name, and its steps with the loop's variables known. */
function checkLoop(step: CheckLoop, at: (string | number)[], ctx: Context, names: Names): void {
  if (typeof step.over === 'string') checkTemplate(step.over, [...at, 'loop', 'over'], ctx);
  else for (const t of templateStrings(step.over)) checkTemplate(t.text, [...at, 'loop', 'over', ...t.path], ctx);
  if (isBuiltin(step.as) || (LOOP_VARIABLES as readonly string[]).includes(step.as)) {
    ctx.issues.push({ path: [...at, 'loop', 'as'], message: `${step.as} is a built-in variable; choose another name` });
  }
  const own = [step.as, ...LOOP_VARIABLES].filter((n) => !ctx.known.has(n));
  const inner: Context = { ...ctx, known: new Set([...ctx.known, step.as, ...LOOP_VARIABLES]) };
  checkSteps(step.steps, [...at, 'loop', 'steps'], inner, names);
  // What the loop captured is known after it; its own variables are not.
  for (const n of inner.known) if (!own.includes(n)) ctx.known.add(n);
}

function checkSteps(steps: readonly CheckStep[], at: (string | number)[], ctx: Context, names: Names): void {
  steps.forEach((step, si) => {
    const here = [...at, si];
    // An empty one is the schema's to report.
    if (step.if !== undefined && step.if !== '') checkTemplate(conditionTemplate(step.if), [...here, 'if'], ctx);
    if (step.kind === 'think') return;
    if (step.kind === 'loop') {
      checkLoop(step, here, ctx, names);
      return;
    }
    const parts = step.kind === 'unchecked' ? step : partsOf(step);
    if (parts.name === undefined) names.allNamed = false;
    else names.endpointNames.add(parts.name);
    if (step.kind === 'request') for (const c of step.checks) names.checkNames.add(c.name);
    else names.checksComplete = false;
    for (const url of parts.urls) {
      const urlProblem = requestUrlProblem(url.text);
      if (urlProblem) ctx.issues.push({ path: [...here, ...url.field], message: urlProblem });
      checkTemplate(url.text, [...here, ...url.field], ctx);
    }
    for (const h of parts.headers) {
      checkTemplate(h.text, [...here, ...h.field], ctx);
      // The schema checks a value only under a valid name; under a refused name, check it here.
      const name = String(h.field[h.field.length - 1]);
      const valueProblem = isHeaderName(name) ? undefined : headerValueProblem(h.text);
      if (valueProblem) ctx.issues.push({ path: [...here, ...h.field], message: valueProblem });
    }
    for (const b of parts.bodies) checkTemplate(b.text, [...here, ...b.field], ctx);
    for (const c of parts.captures) {
      if (isBuiltin(c)) ctx.issues.push({ path: [...here, 'capture', c], atKey: true, message: `${c} is a built-in variable; capture it under another name` });
      ctx.known.add(c);
    }
    // Checks run after the captures, so they may use what this step captured.
    for (const c of parts.checks ?? []) checkTemplate(c.text, [...here, ...c.field], ctx);
  });
}

function checkFlows(input: CheckInput, base: Set<string>, columns: Record<string, string[]>, env: Context['env'], issues: SemanticIssue[]): Names {
  const names: Names = { flowNames: new Set(), endpointNames: new Set(), checkNames: new Set(), checksComplete: true, allNamed: true };
  input.flows.forEach((flow, fi) => {
    if (flow.name === undefined) names.allNamed = false;
    else if (names.flowNames.has(flow.name)) issues.push({ path: ['flows', fi, 'name'], message: `flow name ${echo(flow.name)} is used twice` });
    else names.flowNames.add(flow.name);
    const ctx: Context = { known: new Set(base), namesComplete: input.namesComplete, columns, env, issues };
    checkSteps(flow.steps, ['flows', fi, 'steps'], ctx, names);
  });
  return names;
}

/** Whether a threshold's scope names what it should: an endpoint, a flow, or either (endpoints first); undefined when it does. */
function scopeProblem(t: ThresholdExpression, names: ReturnType<typeof checkFlows>, checkNames: readonly string[] | undefined): string | undefined {
  const { flowNames, endpointNames, allNamed } = names;
  const scope = t.scope!;
  if (t.scopeKind === 'check') {
    return checkNames && !checkNames.includes(scope) ? `no check named ${echo(scope)}${didYouMean(scope, checkNames)}; checks: ${nameList(checkNames)}` : undefined;
  }
  // A scope is checked only when every flow and endpoint name is known.
  if (!allNamed) return undefined;
  if (t.scopeKind === 'endpoint' && !endpointNames.has(scope)) {
    const flow = flowNames.has(scope) ? ` (${echo(scope)} is a flow: iteration_duration{flow:...} or iterations{flow:...})` : '';
    return `no endpoint named ${echo(scope)}${flow || didYouMean(scope, [...endpointNames])}; endpoints: ${nameList([...endpointNames])}`;
  }
  if (t.scopeKind === 'flow' && !flowNames.has(scope)) return `no flow named ${echo(scope)}${didYouMean(scope, [...flowNames])}; flows: ${nameList([...flowNames])}`;
  // Thresholds read an endpoint first when a name is both, so a flow's k6 tag filter could not reach its flow.
  if (t.scopeKind === 'flow' && endpointNames.has(scope)) return `${echo(scope)} names an endpoint as well as the flow, and thresholds read the endpoint: rename one`;
  if (t.scopeKind === undefined && !flowNames.has(scope) && !endpointNames.has(scope)) {
    const all = [...flowNames, ...endpointNames];
    return `no endpoint or flow named ${echo(scope)}${didYouMean(scope, all)}; names: ${nameList(all)}`;
  }
  return undefined;
}

function checkThresholds(input: CheckInput, names: ReturnType<typeof checkFlows>, issues: SemanticIssue[]): void {
  const checkNames = input.checkNames ?? (names.checksComplete ? [...names.checkNames] : undefined);
  input.thresholds.forEach(({ text, at, k6Key }) => {
    const t = parseThreshold(text, k6Key);
    if (typeof t === 'string') issues.push({ path: at, message: t });
    else if (t.scope !== undefined) {
      const problem = scopeProblem(t, names, checkNames);
      if (problem) issues.push({ path: at, message: problem });
    } else if (t.metric === 'checks') {
      // It would fail every run ("no checks ran").
      if (checkNames?.length === 0) issues.push({ path: at, message: 'a checks threshold needs checks, and this scenario has none: add check: to a request step (docs/scenarios.md#checks)' });
    } else if (isTelemetryMetric(t.metric) && input.telemetry === undefined) {
      if (input.target !== undefined && input.target !== 'reference') issues.push({ path: at, message: `${t.metric} comes from the target's metrics: add a telemetry: section (docs/telemetry.md)` });
    } else if (input.telemetry !== 'invalid') {
      const custom = customMetric(t.metric);
      const series = input.telemetry?.custom ?? {};
      const known = Object.keys(series);
      if (custom && !known.includes(custom.name)) {
        issues.push({ path: at, message: `no custom telemetry series named ${echo(custom.name)}${didYouMean(custom.name, known)}; define it under telemetry.custom` });
      } else if (custom) {
        const type = series[custom.name]!.type;
        const allowed = type === 'counter' ? ['rate', 'increase'] : ['min', 'mean', 'max', 'final'];
        if (!allowed.includes(custom.aggregate)) issues.push({ path: at, message: `${custom.name} is a ${type}: use ${allowed.map((a) => `${custom.name}.${a}`).join(', ')}` });
      }
    }
  });
}

/**
 * Checks what the schema cannot: templates refer to helpers, variables,
 * feeder columns and earlier captures that exist; step URLs can be sent;
 * thresholds parse and their scopes name an endpoint or flow; names are
 * unique and do not hide a built-in; some phase sends load. Collects every issue.
 */
export function checkScenario(input: CheckInput, columns: Record<string, string[]>, env: Readonly<Record<string, string | undefined>>): SemanticIssue[] {
  const issues: SemanticIssue[] = [];
  const base = new Set<string>([...BUILTIN_VARIABLES, ...input.variables, ...input.data]);
  for (const name of input.variables) {
    if (isBuiltin(name)) issues.push({ path: ['variables', name], atKey: true, message: `${name} is a built-in variable; choose another name` });
  }
  for (const name of input.data) {
    if (input.variables.includes(name) || isBuiltin(name)) issues.push({ path: ['data', name], atKey: true, message: `${echo(name)} is already a variable name` });
  }
  for (const [key, value] of Object.entries(input.defaultHeaders ?? {})) checkTemplate(value, ['defaults', 'headers', key], { known: base, namesComplete: input.namesComplete, columns, env, issues });
  if (input.phases && !sendsAnything(input.phases)) {
    issues.push({ path: ['phases'], message: 'no phase starts an iteration (each is a pause or has a rate of 0), so the run would send nothing' });
  }
  checkThresholds(input, checkFlows(input, base, columns, env, issues), issues);
  return issues;
}

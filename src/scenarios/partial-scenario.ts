import { feederSchema, HTTP_METHODS, scenarioSchema, stepSchema, type FeederSpec, type ThresholdSource } from './schema.js';
import type { CheckInput, StepText, UncheckedStep } from './check-scenario.js';
import { templateStrings } from './template.js';

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

const fields = scenarioSchema.shape;

/** The strings (numbers too, as headers take them) of a mapping's values, each at `[...at, key]`. */
function strings(v: unknown, at: string[]): StepText[] {
  if (!isRecord(v)) return [];
  return Object.entries(v).flatMap(([key, value]) =>
    typeof value === 'string' || typeof value === 'number' ? [{ field: [...at, key], text: String(value) }] : []);
}

/** A body, and the strings of a json body, of a step or its request. */
function bodies(r: Record<string, unknown>, at: string[]): StepText[] {
  return [
    ...(typeof r.body === 'string' ? [{ field: [...at, 'body'], text: r.body }] : []),
    ...templateStrings(r.json).map((t) => ({ field: [...at, 'json', ...t.path], text: t.text })),
  ];
}

/** A step the schema accepted, or the parts of a refused one that can still be checked. */
function step(raw: unknown): CheckInput['flows'][number]['steps'][number] {
  const parsed = stepSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const r = isRecord(raw) ? raw : {};
  const when = typeof r.if === 'string' ? { if: r.if } : {};
  // A refused loop: its steps are still checked, each on its own.
  const l = isRecord(r.loop) ? r.loop : undefined;
  if (l && Array.isArray(l.steps)) {
    return { kind: 'loop', over: typeof l.over === 'string' || Array.isArray(l.over) ? l.over : undefined, as: typeof l.as === 'string' ? l.as : 'item', steps: l.steps.map(step), ...when };
  }
  const request = isRecord(r.request) ? r.request : {};
  const urls: StepText[] = HTTP_METHODS.flatMap((m) => (typeof r[m] === 'string' ? [{ field: [m], text: r[m] }] : []));
  if (typeof request.url === 'string') urls.push({ field: ['request', 'url'], text: request.url });
  return {
    kind: 'unchecked',
    name: typeof r.name === 'string' ? r.name : undefined,
    urls,
    headers: [...strings(r.headers, ['headers']), ...strings(request.headers, ['request', 'headers']), ...strings(r.cookies, ['cookies'])],
    bodies: [...bodies(r, []), ...bodies(request, ['request'])],
    captures: isRecord(r.capture) ? Object.keys(r.capture) : [],
    ...when,
  } satisfies UncheckedStep;
}

function thresholds(raw: unknown): ThresholdSource[] {
  const whole = fields.thresholds.safeParse(raw);
  if (whole.success) return whole.data;
  // The k6-style mapping: each threshold of each key on its own, renumbered to its place in the key's list.
  if (isRecord(raw)) {
    return Object.entries(raw).flatMap(([key, v]) => (Array.isArray(v) ? v : [v]).flatMap((item: unknown, j) =>
      (fields.thresholds.safeParse({ [key]: item }).data ?? []).map((t) => ({ ...t, at: Array.isArray(v) ? ['thresholds', key, j, ...t.at.slice(2)] : t.at }))));
  }
  if (!Array.isArray(raw)) return [];
  // Each item on its own, renumbered to its place in the list.
  return raw.flatMap((item, i) => {
    const one = fields.thresholds.safeParse([item]);
    return one.success ? one.data.map((t) => ({ ...t, at: ['thresholds', i, ...t.at.slice(2)] })) : [];
  });
}

/**
 * The parts of a scenario the schema accepts, taken one by one, for the
 * semantic checks to run on when the whole was refused: `validate` then
 * reports template and threshold problems in the same pass as schema ones.
 */
export function partialCheckInput(raw: unknown): CheckInput {
  const r = isRecord(raw) ? raw : {};
  const defaults = fields.defaults.safeParse(r.defaults);
  const phases = fields.phases.safeParse(r.phases);
  const telemetry = fields.telemetry.safeParse(r.telemetry);
  return {
    target: typeof r.target === 'string' ? r.target : undefined,
    telemetry: telemetry.success ? telemetry.data : 'invalid',
    variables: isRecord(r.variables) ? Object.keys(r.variables) : [],
    data: isRecord(r.data) ? Object.keys(r.data) : [],
    namesComplete: (r.variables === undefined || isRecord(r.variables)) && (r.data === undefined || isRecord(r.data)),
    defaultHeaders: defaults.success ? defaults.data.headers : undefined,
    phases: phases.success ? phases.data : undefined,
    flows: (Array.isArray(r.flows) ? r.flows : []).map((f: unknown) => {
      const flow = isRecord(f) ? f : {};
      return {
        name: typeof flow.name === 'string' ? flow.name : undefined,
        steps: (Array.isArray(flow.steps) ? flow.steps : []).map(step),
      };
    }),
    thresholds: thresholds(r.thresholds),
  };
}

/** The data feeders whose settings the schema accepts, to load even when other parts were refused. */
export function partialFeederSpecs(raw: unknown): [string, FeederSpec][] {
  const data = isRecord(raw) && isRecord(raw.data) ? raw.data : {};
  return Object.entries(data).flatMap(([name, v]) => {
    const spec = feederSchema.safeParse(v);
    return spec.success ? [[name, spec.data] as [string, FeederSpec]] : [];
  });
}

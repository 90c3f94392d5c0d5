import { z } from 'zod';
import { durationSchema, positiveDurationSchema } from '../shared/duration-schema.js';
import { parseJsonPath, type JsonPath } from './json-path.js';
import { targetUrlProblem } from './target-url.js';
import { stackScenarioSchema } from '../stack/contract.js';
import { telemetrySchema } from './telemetry-schema.js';
import { headersSchema } from './header-schema.js';
import { hasTemplate } from './template.js';
import { cookiesSchema } from './cookie-schema.js';
import { tlsSchema } from './tls-schema.js';
import { maskCredentials } from '../shared/mask-credentials.js';
import { echo } from '../shared/printable.js';
import { exactlyOneOf, notTogether } from './json-schema-rules.js';
import { k6KeyText, thresholdText } from './threshold-pattern.js';
import { checkSchema, describeCheck, type CheckSpec } from './check-schema.js';
import { HTTP_CLIENT_MODES, type HttpClientMode } from '../engine/http-exchange.js';

export { durationSchema };

/*
 * The scenario schema: the only model of a scenario. Types are inferred from
 * it, defaults live in it, and docs/scenario.schema.json is generated from it
 * (`npm run gen:schema`; a test fails when the committed copy drifts).
 */

/** A timeout: a duration above zero. */
const timeoutSchema = positiveDurationSchema('a timeout must be above 0');

export const HTTP_METHODS = ['get', 'post', 'put', 'patch', 'delete', 'head', 'options'] as const;
export type HttpMethod = Uppercase<(typeof HTTP_METHODS)[number]>;

/**
 * Bounds on load values. Past them one generator runs out of memory before it
 * runs out of anything else (10^9 arrivals/s or VUs took it to 4 GB and a
 * crash): an iteration in flight holds a few KB (40,000 waiting on a hung
 * target: 230 MB), a VU holds one iteration and one connection.
 */
export const LOAD_LIMITS = { arrivalRate: 1_000_000, vus: 100_000, maxInFlight: 100_000 } as const;

/** `schema` up to `max`, refused with a sentence saying why and what to do (a plain .max() is worded "must be <= N"). */
function atMost(schema: z.ZodNumber, max: number, why: string): z.ZodNumber {
  return schema
    .refine((v) => v <= max, { error: (issue) => `at most ${max}, got ${String(issue.input)}: ${why}`, abort: true })
    .meta({ maximum: max });
}

const rateSchema = atMost(z.number().nonnegative(), LOAD_LIMITS.arrivalRate,
  'one generator starts tens of thousands of iterations per second; to find the highest rate the target sustains, ' +
  'use scalectl capacity; for more load, run several generators');

/**
 * Bytes of a response body kept for captures, by default (10 MiB) and at most
 * (256 MiB: a kept body becomes one string, and V8's longest is about 512 MiB).
 */
const CAPTURE_BODY_LIMIT_DEFAULT = 10 * 1024 * 1024;

/** defaults.httpClient when the scenario sets none. */
const HTTP_CLIENT_DEFAULT: HttpClientMode = 'auto';
/** Whether each request carries a fresh traceparent: read by the field's default and the defaults block's. */
const TRACEPARENT_DEFAULT = true;
const CAPTURE_BODY_LIMIT_MAX = 256 * 1024 * 1024;

/** A vus phase's ramp: rampTo counts virtual users (a whole number within the bound), and some VU must run. */
function vusRampIssues(vus: number, rampTo: number | undefined, ctx: z.RefinementCtx): void {
  if (rampTo !== undefined && !Number.isInteger(rampTo)) ctx.addIssue({ code: 'custom', path: ['rampTo'], message: `with vus, rampTo is a number of virtual users: a whole number, got ${rampTo}` });
  else if (rampTo !== undefined && rampTo > LOAD_LIMITS.vus) {
    ctx.addIssue({ code: 'custom', path: ['rampTo'], message: `at most ${LOAD_LIMITS.vus} virtual users, got ${rampTo}: each holds an iteration and a connection; for more load use arrivalRate, or run several generators` });
  }
  if (vus === 0 && !rampTo) ctx.addIssue({ code: 'custom', path: ['vus'], message: 'must be above 0 (a ramp may start at 0: vus: 0, rampTo: 10)' });
}

const phaseSchema = z
  .strictObject({
    name: z.string().min(1).optional().meta({ description: 'Shown in progress and reports.' }),
    duration: positiveDurationSchema('must be above 0: a phase of 0s sends nothing').optional(),
    arrivalRate: rateSchema.optional().meta({ description: `Open model: flow iterations started per second (at most ${LOAD_LIMITS.arrivalRate}).` }),
    rampTo: rateSchema.optional().meta({ description: `Linear ramp: with arrivalRate, the rate at the end of the phase; with vus, the virtual users at its end (a whole number, at most ${LOAD_LIMITS.vus}).` }),
    vus: atMost(z.number().int().nonnegative(), LOAD_LIMITS.vus,
      'each virtual user holds an iteration and a connection; for more load use arrivalRate, or run several generators')
      .optional().meta({ description: `Closed model: virtual users, each looping its flow (at most ${LOAD_LIMITS.vus}); with rampTo, the number at the start of the phase (may be 0).` }),
    pause: positiveDurationSchema('must be above 0').optional().meta({ description: 'A phase with no traffic, this long.' }),
  })
  .superRefine((p, ctx) => {
    const kinds = (['arrivalRate', 'vus', 'pause'] as const).filter((k) => p[k] !== undefined);
    if (kinds.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        message: kinds.length === 0
          ? 'a phase needs one of arrivalRate (open model), vus (closed model) or pause'
          : `a phase takes only one of ${kinds.join(', ')}`,
      });
      return;
    }
    if (kinds[0] !== 'pause' && p.duration === undefined) ctx.addIssue({ code: 'custom', path: ['duration'], message: `required with ${kinds[0]}` });
    if (kinds[0] === 'pause' && p.duration !== undefined) ctx.addIssue({ code: 'custom', path: ['duration'], message: 'a pause phase takes its length from pause' });
    if (p.rampTo !== undefined && kinds[0] === 'pause') ctx.addIssue({ code: 'custom', path: ['rampTo'], message: 'rampTo goes with arrivalRate or vus' });
    if (kinds[0] === 'vus') vusRampIssues(p.vus!, p.rampTo, ctx);
  })
  // The same rule for the editor schema: one load model, a duration with arrivalRate or vus, none with pause.
  .meta(exactlyOneOf(['arrivalRate', 'vus', 'pause'], { needs: { arrivalRate: ['duration'], vus: ['duration'] }, refuses: { pause: ['duration'] } }))
  .transform((p): Phase => {
    const name = p.name;
    if (p.pause !== undefined) return { kind: 'pause', name, durationMs: p.pause };
    if (p.vus !== undefined) return { kind: 'vus', name, durationMs: p.duration!, vus: p.vus, rampTo: p.rampTo ?? p.vus };
    return { kind: 'arrivalRate', name, durationMs: p.duration!, arrivalRate: p.arrivalRate!, rampTo: p.rampTo ?? p.arrivalRate! };
  });

/** A phase after validation, tagged by its load model (the YAML keyword). */
export type Phase =
  | { kind: 'arrivalRate'; name: string | undefined; durationMs: number; arrivalRate: number; rampTo: number }
  /** Closed model: the running virtual users go linearly from vus to rampTo (equal without a ramp). */
  | { kind: 'vus'; name: string | undefined; durationMs: number; vus: number; rampTo: number }
  | { kind: 'pause'; name: string | undefined; durationMs: number };

const captureSchema = z
  .union([z.string(), z.strictObject({ json: z.string() }), z.strictObject({ header: z.string().min(1) })])
  .meta({ description: 'A JSON path into the response body ($.a.b[0]), or {json: path} or {header: name}.' })
  .transform((c, ctx): Capture => {
    if (typeof c === 'object' && 'header' in c) return { from: 'header', header: c.header.toLowerCase() };
    const expr = typeof c === 'string' ? c : c.json;
    const path = parseJsonPath(expr);
    if (!path) {
      ctx.addIssue({ code: 'custom', message: `expected a JSON path like $.id or $.items[0].sku, got ${echo(expr)}` });
      return z.NEVER;
    }
    return { from: 'json', path, expr };
  });

export type Capture = { from: 'json'; path: JsonPath; expr: string } | { from: 'header'; header: string };

const expectSchema = z.strictObject({
  status: z.union([z.number().int().min(100).max(599), z.array(z.number().int().min(100).max(599)).min(1)])
    .meta({ description: 'Accepted status codes; any other is an "expectation" error.' }),
});

const requestFields = {
  headers: headersSchema.optional(),
  json: z.unknown().optional().meta({ description: 'A JSON body; strings in it may hold templates.' }),
  body: z.string().optional().meta({ description: 'A raw body (string template).' }),
  timeout: timeoutSchema.optional().meta({ description: 'Overrides defaults.timeout for this request.' }),
};

/**
 * Most rounds of one loop: a count, or the length of the list it goes over
 * (a longer list rendered at run time fails the iteration as a template error).
 */
export const LOOP_MAX = 100_000;

const loopSchema = z
  .strictObject({
    count: atMost(z.number().int().nonnegative(), LOOP_MAX, 'a loop this long is better written as more iterations (a higher rate or more vus)')
      .optional().meta({ description: `Rounds (at most ${LOOP_MAX}); the loop variable is the 0-based index.` }),
    over: z.union([z.array(z.unknown()).max(LOOP_MAX), z.string()]).optional()
      .meta({ description: 'A list, or a template giving one ("{{ cart.items }}"); the loop variable is each element.' }),
    as: z.string().regex(/^[A-Za-z_$][\w$]*$/, 'a loop variable name must be an identifier').default('item')
      .meta({ description: 'The loop variable. Default "item". Also set: loopIndex (0-based), loopCount (1-based).' }),
    get steps() {
      return z.array(stepSchema).min(1);
    },
  })
  .superRefine((l, ctx) => {
    if ((l.count === undefined) === (l.over === undefined)) ctx.addIssue({ code: 'custom', message: 'a loop takes one of count or over' });
    if (typeof l.over === 'string' && !hasTemplate(l.over)) {
      ctx.addIssue({ code: 'custom', path: ['over'], message: `expected a list or a template giving one, like "{{ cart.items }}", got ${echo(l.over)}` });
    }
  })
  // The same rule for the editor schema: one of count or over.
  .meta(exactlyOneOf(['count', 'over']));

/** The keys of a request step that a think or loop step refuses. */
const STEP_REQUEST_KEYS = ['name', 'headers', 'json', 'body', 'capture', 'expect', 'timeout', 'check', 'cookies'] as const;

export const stepSchema: z.ZodType<Step, unknown> = z
  .strictObject({
    name: z.string().min(1).optional().meta({ description: 'Endpoint name in metrics; default "METHOD path".' }),
    get: z.string().optional(),
    post: z.string().optional(),
    put: z.string().optional(),
    patch: z.string().optional(),
    delete: z.string().optional(),
    head: z.string().optional(),
    options: z.string().optional(),
    request: z.strictObject({ method: z.enum(HTTP_METHODS.map((m) => m.toUpperCase()) as [string, ...string[]]), url: z.string(), ...requestFields })
      .meta(notTogether(['json', 'body'])).optional(),
    think: durationSchema.optional().meta({ description: 'Pause this long before the next step.' }),
    ...requestFields,
    capture: z.record(z.string().regex(/^[A-Za-z_$][\w$]*$/, 'capture names must be identifiers'), captureSchema).optional(),
    expect: expectSchema.optional(),
    check: z.array(checkSchema).optional().meta({ description: 'Checks on the response, counted per check (passes, fails); see docs/scenarios.md#checks.' }),
    if: z.string().min(1).optional().meta({ description: 'Run the step only when this expression is true, e.g. "cart.total > 0" (braces optional).' }),
    loop: loopSchema.optional().meta({ description: 'Repeat steps: count or over a list; loops nest.' }),
    cookies: cookiesSchema.optional(),
  })
  .superRefine((s, ctx) => {
    const actions = [...HTTP_METHODS.filter((m) => s[m] !== undefined), ...(s.request ? ['request'] : []),
      ...(s.think !== undefined ? ['think'] : []), ...(s.loop ? ['loop'] : [])];
    if (actions.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        message: actions.length === 0
          ? `a step needs one of ${HTTP_METHODS.join(', ')}, request, think or loop`
          : `a step takes only one of ${actions.join(', ')}`,
      });
    } else if (actions[0] === 'think' || actions[0] === 'loop') {
      const extra = STEP_REQUEST_KEYS.filter((k) => (s as Record<string, unknown>)[k] !== undefined);
      if (extra.length) ctx.addIssue({ code: 'custom', message: `a ${actions[0]} step takes no ${extra.join(', ')}` });
    }
    if (s.json !== undefined && s.body !== undefined) ctx.addIssue({ code: 'custom', path: ['body'], message: 'use json or body, not both' });
    if (s.request) {
      if (s.request.json !== undefined && s.request.body !== undefined) ctx.addIssue({ code: 'custom', path: ['request', 'body'], message: 'use json or body, not both' });
      for (const k of ['json', 'body', 'timeout'] as const) {
        if (s[k] !== undefined) ctx.addIssue({ code: 'custom', path: [k], message: `with request, put ${k} inside request` });
      }
    }
  })
  // The same rules for the editor schema: one action; think and loop steps take no request keys; request takes its body inside; json or body.
  .meta({
    ...exactlyOneOf([...HTTP_METHODS, 'request', 'think', 'loop'],
      { refuses: { think: [...STEP_REQUEST_KEYS], loop: [...STEP_REQUEST_KEYS], request: ['json', 'body', 'timeout'] } }),
    ...notTogether(['json', 'body']),
  })
  .transform((s): Step => {
    const when = s.if === undefined ? {} : { if: s.if };
    if (s.think !== undefined) return { kind: 'think', ms: s.think, ...when };
    if (s.loop) return { kind: 'loop', count: s.loop.count, over: s.loop.over, as: s.loop.as, steps: s.loop.steps, ...when };
    const r = s.request;
    const method = (r?.method ?? HTTP_METHODS.find((m) => s[m] !== undefined)!.toUpperCase()) as HttpMethod;
    const url = r?.url ?? s[method.toLowerCase() as (typeof HTTP_METHODS)[number]]!;
    const status = s.expect?.status;
    const name = s.name ?? `${method} ${maskCredentials(url)}`;
    return {
      kind: 'request',
      name,
      method,
      url,
      urlField: r ? ['request', 'url'] : [method.toLowerCase()],
      headers: { ...s.headers, ...r?.headers },
      json: r?.json ?? s.json,
      body: r?.body ?? s.body,
      timeoutMs: r?.timeout ?? s.timeout,
      capture: Object.entries(s.capture ?? {}).map(([name, c]) => ({ name, ...c })),
      expectStatus: status === undefined ? undefined : Array.isArray(status) ? status : [status],
      checks: (s.check ?? []).map((c): CheckSpec => ({ ...c, name: c.name ?? `${name}: ${describeCheck(c)}` })),
      ...when,
      cookies: s.cookies ?? {},
    };
  })
  // Named, as loops make it recursive: the editor schema refers to it as #/$defs/step.
  .meta({ id: 'step' });

export type RequestStep = {
  kind: 'request';
  /** Endpoint name in metrics. */
  name: string;
  method: HttpMethod;
  /** Path (joined to the target) or absolute URL; may hold templates. */
  url: string;
  /** Where the URL was written in the step, for error positions. */
  urlField: string[];
  headers: Record<string, string>;
  json: unknown;
  body: string | undefined;
  timeoutMs: number | undefined;
  capture: (Capture & { name: string })[];
  /** Accepted statuses; undefined means any status below 400. */
  expectStatus: number[] | undefined;
  /** Checks on the response, in the order written. */
  checks: CheckSpec[];
  /** Run only when this expression is true (braces optional). */
  if?: string;
  /** Cookies the step sets (values may hold templates): added to the jar for its URL, or sent as a Cookie header with the jar off. */
  cookies: Record<string, string>;
};
export type ThinkStep = { kind: 'think'; ms: number; if?: string };
export type LoopStep = {
  kind: 'loop';
  /** Rounds, or undefined with over. */
  count: number | undefined;
  /** A list, or a template giving one. */
  over: unknown[] | string | undefined;
  /** The loop variable's name. */
  as: string;
  steps: Step[];
  if?: string;
};
export type Step = RequestStep | ThinkStep | LoopStep;

const flowSchema = z.strictObject({
  name: z.string().min(1),
  weight: z.number().positive().default(1).meta({ description: 'Relative share of iterations.' }),
  steps: z.array(stepSchema).min(1),
});

export const feederSchema = z.strictObject({
  file: z.string().min(1).meta({ description: 'CSV (with a header row) or JSON (an array of objects), relative to the scenario file.' }),
  order: z.enum(['sequential', 'random']).default('sequential'),
});
export type FeederSpec = z.output<typeof feederSchema>;

/** k6's object form of a threshold; scalectl judges thresholds when the run ends, so it cannot abort on one. */
const k6ThresholdObject = z
  .strictObject({
    threshold: thresholdText().meta({ description: "A k6 threshold such as 'p(95)<500'." }),
    abortOnFail: z.boolean().optional().meta({ description: 'Only false: scalectl judges thresholds when the run ends and never stops a run on one.' }),
    delayAbortEval: z.string().optional().meta({ description: 'Accepted for k6 scripts; no effect (nothing aborts).' }),
  })
  .superRefine((o, ctx) => {
    if (o.abortOnFail) {
      ctx.addIssue({ code: 'custom', path: ['abortOnFail'], message: 'scalectl judges thresholds when the run ends and never stops a run on one: remove abortOnFail (a failed threshold still fails the run, exit 4)' });
    }
  });
const thresholdValue = z.union([thresholdText(), k6ThresholdObject]);
// One union (not a union in a union), so that a mistake inside a list is reported where it is.
const thresholdValues = z.union([thresholdText(), k6ThresholdObject, z.array(thresholdValue)]);

/** `scope: expr`, `scope: [expr, …]` (either may be k6's `{ threshold: expr }`) as sources `scope: expr`. */
function thresholdSources(scope: string, e: z.output<typeof thresholdValues>, at: (string | number)[]): ThresholdSource[] {
  const one = (x: z.output<typeof thresholdValue>, where: (string | number)[]): ThresholdSource =>
    (typeof x === 'string' ? { text: `${scope}: ${x}`, at: where } : { text: `${scope}: ${x.threshold}`, at: [...where, 'threshold'] });
  return Array.isArray(e) ? e.map((x, j) => one(x, [...at, j])) : [one(e, at)];
}

/**
 * Thresholds a run with an arrivalRate phase is judged by even when the
 * scenario sets none; a threshold of its own on the same thing (unscoped;
 * dropped_rate or dropped_iterations for drops) replaces the default. 1%: a dropped arrival is a user who got no answer
 * at all, and the latencies describe only the arrivals that started, so
 * with more than 1% dropped a p99 (the percentile gated most) can hide every
 * slow answer. Drops begin only when iterations already wait ~5 s on average
 * (the default maxInFlight), so a healthy run drops none.
 */
export const DEFAULT_THRESHOLDS: readonly string[] = ['dropped_rate <= 1%'];

export const scenarioSchema = z
  .strictObject({
    name: z.string().min(1),
    description: z.string().optional(),
    target: z
      .string()
      .superRefine((t, ctx) => {
        const problem = t === 'reference' ? undefined : targetUrlProblem(t);
        if (problem) ctx.addIssue({ code: 'custom', message: `${problem}; expected a URL such as http://127.0.0.1:3000, or "reference"` });
      })
      .meta({ description: 'Base URL of the service, or "reference" to start the reference flash-sale stack for the run.' }),
    telemetry: telemetrySchema.optional()
      .meta({ description: "Watch the target's metrics during the run: cache hit ratio, queue depth and drain time, CPU (docs/telemetry.md). On by default with target: reference." }),
    stack: stackScenarioSchema.optional()
      .meta({ description: 'target: reference only: settings of the stack started for the run (docs/reference-stack.md).' }),
    defaults: z
      .strictObject({
        headers: headersSchema.default({}),
        timeout: timeoutSchema.default(10_000).meta({ description: 'Whole-request deadline. Default 10s.' }),
        connections: z.number().int().positive().optional()
          .meta({ description: 'Most open connections per origin per engine worker; requests beyond wait (and the wait counts in their latency). Default: max(256, peak vus per worker).' }),
        captureBodyLimit: atMost(z.number().int().positive(), CAPTURE_BODY_LIMIT_MAX,
          'a body kept for a capture is held whole in memory as one string (V8 strings end near 512 MiB), and 256 MiB is far past any JSON a capture needs')
          .default(CAPTURE_BODY_LIMIT_DEFAULT)
          .meta({ description: `Most bytes of a response body kept for JSON captures and body or json checks; a longer body fails that request as body_too_large. Other bodies are never kept. Default ${CAPTURE_BODY_LIMIT_DEFAULT} (10 MiB).` }),
        cookies: z.boolean().default(true)
          .meta({ description: 'Keep cookies the server sets (RFC 6265), in a jar per virtual user (closed model) or per iteration (open model), and send them back. Default true.' }),
        tls: tlsSchema.optional().meta({ description: 'HTTPS settings: insecure, ca, cert, key, passphrase, servername (files relative to the scenario file).' }),
        httpClient: z.enum(HTTP_CLIENT_MODES).default(HTTP_CLIENT_DEFAULT)
          .meta({ description: `Which HTTP client sends the requests. auto: the lean HTTP/1.1 path for plain http:// requests, undici for https and anything the lean path does not cover; undici: everything through undici, the escape hatch if the lean path misbehaves. The split is in the result (generator.httpClient). Default ${HTTP_CLIENT_DEFAULT}.` }),
        traceparent: z.boolean().default(TRACEPARENT_DEFAULT)
          .meta({ description: `Send a fresh W3C traceparent header (00-<trace id>-<span id>-01) with each request, and keep the trace ids of the slowest requests per endpoint (RunResult exemplars). A step or defaults.headers that sets its own traceparent sends it as written. false: send none (a step or defaults.headers that sets its own still sends it, and keeps its exemplars). Default ${TRACEPARENT_DEFAULT}.` }),
      })
      .default({ headers: {}, timeout: 10_000, captureBodyLimit: CAPTURE_BODY_LIMIT_DEFAULT, cookies: true, httpClient: HTTP_CLIENT_DEFAULT, traceparent: TRACEPARENT_DEFAULT }),
    maxInFlight: atMost(z.number().int().positive(), LOAD_LIMITS.maxInFlight,
      "each iteration in flight holds a few KB of the generator's memory; for more, run several generators")
      .optional()
      .meta({ description: `Open model: most iterations in flight at once; more are dropped and reported. Default: sized to the peak rate, at most ${LOAD_LIMITS.maxInFlight}.` }),
    variables: z.record(z.string().regex(/^[A-Za-z_$][\w$]*$/, 'variable names must be identifiers'), z.unknown()).default({}),
    data: z.record(z.string().regex(/^[A-Za-z_$][\w$]*$/, 'data names must be identifiers'), feederSchema).default({}),
    phases: z.array(phaseSchema).min(1),
    flows: z.array(flowSchema).min(1),
    thresholds: z
      .union([z.array(z.union([thresholdText(), z.record(z.string(), thresholdValues)])), z.record(k6KeyText(), thresholdValues)])
      .default([])
      .meta({ description: 'e.g. "p99 < 200ms", "p(95)<500", "error_rate < 1%"; scoped to an endpoint or flow: "checkout: p95 < 300ms" (YAML reads that as a mapping, which is accepted too). ' +
        "Or a k6-style mapping of k6 metric names to k6 thresholds: { http_req_duration: ['p(95)<500'], 'http_req_failed{name:checkout}': ['rate<0.01'] }. " +
        `Default, with an arrivalRate phase: ${DEFAULT_THRESHOLDS.join(', ')}; a dropped_rate or dropped_iterations threshold of your own replaces it.` })
      .transform((t): ThresholdSource[] => (Array.isArray(t)
        ? t.flatMap((x, i) => (typeof x === 'string' ? [{ text: x, at: ['thresholds', i] }] : Object.entries(x).flatMap(([scope, e]) => thresholdSources(scope, e, ['thresholds', i, scope]))))
        : Object.entries(t).flatMap(([key, e]) => thresholdSources(key, e, ['thresholds', key]).map((x) => ({ ...x, k6Key: true as const }))))),
  })
  .superRefine((s, ctx) => {
    if (s.stack && s.target !== 'reference') ctx.addIssue({ code: 'custom', path: ['stack'], message: 'only with target: reference (it configures the stack scalectl starts)' });
  })
  // The same rule for the editor schema: stack only with target: reference.
  .meta({ if: { required: ['stack'], properties: { stack: true } }, then: { properties: { target: { const: 'reference' } } } });

/** A threshold as written, with where it was written (for error positions). */
export interface ThresholdSource {
  text: string;
  at: (string | number)[];
  /** Written in the k6-style `thresholds:` mapping: its scope is a k6 metric key. */
  k6Key?: true;
}

/** A validated scenario (defaults applied, durations in milliseconds). */
export type Scenario = z.output<typeof scenarioSchema>;
export type Flow = Scenario['flows'][number];

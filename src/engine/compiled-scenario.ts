import type { Dispatcher } from 'undici';
import type { LoadedScenario } from '../scenarios/load-scenario.js';
import type { Capture, RequestStep, Step } from '../scenarios/schema.js';
import { compileCondition, compileJsonTemplate, compileTemplate, hasTemplate, type Render, type TemplateVars } from '../scenarios/template.js';
import { urlCredentials } from '../shared/mask-credentials.js';
import { listCheckNames, requestSteps, thinkMsOf } from '../scenarios/walk-steps.js';
import { compileCheck, needsBody, type CompiledCheck } from './response-checks.js';
import type { HttpClientMode } from './http-exchange.js';

type RenderString = (vars: TemplateVars) => string;

export interface CompiledRequest {
  kind: 'request';
  /** Index into CompiledScenario.endpoints. */
  endpoint: number;
  method: Dispatcher.HttpMethod;
  url: Render;
  headers: Record<string, string>;
  dynamicHeaders: [string, RenderString][];
  /** A body that never changes is serialised once. */
  staticBody: string | undefined;
  body: RenderString | undefined;
  timeoutMs: number;
  captures: (Capture & { name: string })[];
  wantBody: boolean;
  /** Most body bytes kept when wantBody (defaults.captureBodyLimit). */
  bodyLimit: number;
  expectStatus: ReadonlySet<number> | undefined;
  /** Evaluated after a response that is not an error. */
  checks: CompiledCheck[];
  when: Condition | undefined;
  /** The step's `cookies`, by name; undefined when it sets none. */
  cookies: [string, RenderString][] | undefined;
  /**
   * Where its trace id comes from: 'fresh', a new traceparent per request
   * (defaults.traceparent); 'own', the traceparent header the step or
   * defaults.headers sets, sent as written; 'none': defaults.traceparent false.
   */
  trace: 'fresh' | 'own' | 'none';
}

/** A step's `if:`, compiled; undefined (the common case) costs one comparison per step. */
export type Condition = (vars: TemplateVars) => boolean;

export interface CompiledLoop {
  kind: 'loop';
  /** Rounds, or undefined when the loop goes over a list. */
  count: number | undefined;
  /** The list (a literal, or a template rendered once when the loop starts). */
  over: Render | undefined;
  as: string;
  steps: CompiledStep[];
  when: Condition | undefined;
}

export type CompiledStep = CompiledRequest | { kind: 'think'; ms: number; when: Condition | undefined } | CompiledLoop;

export interface CompiledFlow {
  name: string;
  index: number;
  steps: CompiledStep[];
  /** Sum of the flow's think times, milliseconds. */
  thinkMs: number;
}

export interface Endpoint {
  name: string;
  method: string;
}

/** A scenario turned into closures the engine can run quickly. */
export interface CompiledScenario {
  flows: CompiledFlow[];
  endpoints: Endpoint[];
  /** Check names; checks are counted by index into this (each name once). */
  checkNames: string[];
  /** Cumulative flow weights, normalised to end at 1. */
  cumulativeWeights: number[];
  /** Variables every iteration starts from (scenario variables and env). */
  baseVars: TemplateVars;
  /** Origin and path prefix of the target. */
  origin: string;
  basePath: string;
  /**
   * HTTP Basic credentials from the target URL (`http://user:pass@host`), as
   * an Authorization header value: sent to the target's origin only, unless
   * a step sets its own Authorization header.
   */
  authorization: string | undefined;
  /** Whether cookies are kept in jars (defaults.cookies). */
  cookies: boolean;
  /** Which HTTP client sends (defaults.httpClient). */
  httpClient: HttpClientMode;
}

function splitTarget(target: string): { origin: string; basePath: string; authorization: string | undefined } {
  const { url, authorization } = urlCredentials(target);
  const u = new URL(url);
  return { origin: u.origin, basePath: u.pathname.replace(/\/+$/, ''), authorization };
}

function compileRequest(step: RequestStep, endpoint: number, defaults: LoadedScenario['scenario']['defaults'], checkIndex: ReadonlyMap<string, number>): CompiledRequest {
  const headers: Record<string, string> = {};
  const dynamicHeaders: [string, RenderString][] = [];
  const all: Record<string, string> = { ...defaults.headers, ...step.headers };
  let staticBody: string | undefined;
  let body: RenderString | undefined;
  if (step.json !== undefined) {
    if (!Object.keys(all).some((k) => k.toLowerCase() === 'content-type')) all['content-type'] = 'application/json';
    const render = compileJsonTemplate(step.json);
    if (render) body = (vars) => JSON.stringify(render(vars));
    else staticBody = JSON.stringify(step.json);
  } else if (step.body !== undefined) {
    if (hasTemplate(step.body)) {
      const render = compileTemplate(step.body);
      body = (vars) => String(render(vars) ?? '');
    } else staticBody = step.body;
  }
  for (const [k, v] of Object.entries(all)) {
    if (hasTemplate(v)) {
      const render = compileTemplate(v);
      dynamicHeaders.push([k.toLowerCase(), (vars) => String(render(vars) ?? '')]);
    } else headers[k.toLowerCase()] = v;
  }
  return {
    kind: 'request',
    endpoint,
    method: step.method,
    url: compileTemplate(step.url),
    headers,
    dynamicHeaders,
    staticBody,
    body,
    timeoutMs: step.timeoutMs ?? defaults.timeout,
    captures: step.capture,
    wantBody: step.capture.some((c) => c.from === 'json') || step.checks.some(needsBody),
    bodyLimit: defaults.captureBodyLimit,
    expectStatus: step.expectStatus ? new Set(step.expectStatus) : undefined,
    checks: step.checks.map((c) => compileCheck(c, checkIndex.get(c.name)!)),
    when: undefined,
    cookies: compileCookies(step.cookies),
    trace: Object.keys(all).some((k) => k.toLowerCase() === 'traceparent') ? 'own' : defaults.traceparent ? 'fresh' : 'none',
  };
}

interface StepContext {
  endpointIndex: ReadonlyMap<string, number>;
  checkIndex: ReadonlyMap<string, number>;
  defaults: LoadedScenario['scenario']['defaults'];
}

function compileStep(step: Step, ctx: StepContext): CompiledStep {
  const when = step.if === undefined ? undefined : compileCondition(step.if);
  switch (step.kind) {
    case 'think': return { kind: 'think', ms: step.ms, when };
    case 'loop': {
      const over = step.over === undefined ? undefined : typeof step.over === 'string' ? compileTemplate(step.over) : (compileJsonTemplate(step.over) ?? (() => step.over));
      return { kind: 'loop', count: step.count, over, as: step.as, steps: step.steps.map((s) => compileStep(s, ctx)), when };
    }
    case 'request': return { ...compileRequest(step, ctx.endpointIndex.get(step.name)!, ctx.defaults, ctx.checkIndex), when };
  }
}

function compileCookies(cookies: Record<string, string>): [string, RenderString][] | undefined {
  const entries = Object.entries(cookies);
  if (entries.length === 0) return undefined;
  return entries.map(([name, value]) => {
    if (!hasTemplate(value)) return [name, () => value];
    const render = compileTemplate(value);
    return [name, (vars) => String(render(vars) ?? '')];
  });
}

/** Endpoints by name, numbered in order of first appearance across flows. */
export function listEndpoints(scenario: LoadedScenario['scenario']): Endpoint[] {
  const seen = new Map<string, string>();
  for (const f of scenario.flows) for (const s of requestSteps(f.steps)) if (!seen.has(s.name)) seen.set(s.name, s.method);
  return [...seen].map(([name, method]) => ({ name, method }));
}

export function compileScenario(loaded: LoadedScenario, target: string): CompiledScenario {
  const { scenario } = loaded;
  const endpoints = listEndpoints(scenario);
  const checkNames = listCheckNames(scenario.flows);
  const ctx: StepContext = {
    endpointIndex: new Map(endpoints.map((e, i) => [e.name, i])),
    checkIndex: new Map(checkNames.map((n, i) => [n, i])),
    defaults: scenario.defaults,
  };
  const flows = scenario.flows.map((flow, index): CompiledFlow => ({
    name: flow.name, index, steps: flow.steps.map((s) => compileStep(s, ctx)), thinkMs: thinkMsOf(flow.steps),
  }));
  const totalWeight = scenario.flows.reduce((s, f) => s + f.weight, 0);
  let acc = 0;
  const cumulativeWeights = scenario.flows.map((f) => (acc += f.weight / totalWeight));
  cumulativeWeights[cumulativeWeights.length - 1] = 1;
  return {
    flows,
    endpoints,
    checkNames,
    cumulativeWeights,
    baseVars: { ...scenario.variables, env: loaded.env },
    cookies: scenario.defaults.cookies,
    httpClient: scenario.defaults.httpClient,
    ...splitTarget(target),
  };
}

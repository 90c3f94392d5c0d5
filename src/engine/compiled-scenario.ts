import type { Dispatcher } from 'undici';
import type { LoadedScenario } from '../scenarios/load-scenario.js';
import type { Capture, RequestStep } from '../scenarios/schema.js';
import { compileJsonTemplate, compileTemplate, hasTemplate, type Render, type TemplateVars } from '../scenarios/template.js';
import { urlCredentials } from '../mask-credentials.js';

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
  /** The step's `cookies`, by name; undefined when it sets none. */
  cookies: [string, RenderString][] | undefined;
}

export type CompiledStep = CompiledRequest | { kind: 'think'; ms: number };

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
}

function splitTarget(target: string): { origin: string; basePath: string; authorization: string | undefined } {
  const { url, authorization } = urlCredentials(target);
  const u = new URL(url);
  return { origin: u.origin, basePath: u.pathname.replace(/\/+$/, ''), authorization };
}

function compileRequest(step: RequestStep, endpoint: number, defaults: LoadedScenario['scenario']['defaults']): CompiledRequest {
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
    wantBody: step.capture.some((c) => c.from === 'json'),
    bodyLimit: defaults.captureBodyLimit,
    expectStatus: step.expectStatus ? new Set(step.expectStatus) : undefined,
    cookies: compileCookies(step.cookies),
  };
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
  for (const f of scenario.flows) for (const s of f.steps) if (s.kind === 'request' && !seen.has(s.name)) seen.set(s.name, s.method);
  return [...seen].map(([name, method]) => ({ name, method }));
}

export function compileScenario(loaded: LoadedScenario, target: string): CompiledScenario {
  const { scenario } = loaded;
  const endpoints = listEndpoints(scenario);
  const endpointIndex = new Map(endpoints.map((e, i) => [e.name, i]));
  const flows = scenario.flows.map((flow, index): CompiledFlow => {
    let thinkMs = 0;
    const steps = flow.steps.map((step): CompiledStep => {
      if (step.kind === 'think') {
        thinkMs += step.ms;
        return step;
      }
      return compileRequest(step, endpointIndex.get(step.name)!, scenario.defaults);
    });
    return { name: flow.name, index, steps, thinkMs };
  });
  const totalWeight = scenario.flows.reduce((s, f) => s + f.weight, 0);
  let acc = 0;
  const cumulativeWeights = scenario.flows.map((f) => (acc += f.weight / totalWeight));
  cumulativeWeights[cumulativeWeights.length - 1] = 1;
  return {
    flows,
    endpoints,
    cumulativeWeights,
    baseVars: { ...scenario.variables, env: loaded.env },
    cookies: scenario.defaults.cookies,
    ...splitTarget(target),
  };
}

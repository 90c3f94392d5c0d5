import type { FeederData } from '../scenarios/feeders.js';
import { readJsonPath } from '../scenarios/json-path.js';
import type { TemplateVars } from '../scenarios/template.js';
import type { CompiledFlow, CompiledLoop, CompiledRequest, CompiledScenario, CompiledStep } from './compiled-scenario.js';
import type { HttpClient } from './http-client.js';
import type { HttpRequest, HttpResponse } from './http-exchange.js';
import type { Recorder } from './recorder.js';
import { urlCredentials } from '../shared/mask-credentials.js';
import { runChecks } from './response-checks.js';
import { LOOP_MAX } from '../scenarios/schema.js';
import { echo } from '../shared/printable.js';
import { CookieJar, renderStepCookies, withCookies } from './cookie-jar.js';
import type { ErrorKind } from './http-exchange.js';
import { newTraceparent, traceIdOf } from './traceparent.js';

const ABSOLUTE_URL = /^https?:\/\//i;

/** How a run of steps ended; 'closed': the runner was closed while a request was out (nothing more is recorded). */
type Outcome = 'completed' | 'failed' | 'interrupted' | 'closed';

/** One iteration's state, shared by the steps of its loops. */
interface IterationState {
  vars: TemplateVars;
  /** When the next request counts from (the scheduled start, then the end of the previous step). */
  sentAt: number;
  sent: boolean;
  /** The virtual user's or the iteration's cookie jar; undefined with defaults.cookies off. */
  jar: CookieJar | undefined;
}

/** Loop rounds between yields to the event loop, so that a loop whose steps are all skipped still lets a stop in. */
const ROUNDS_PER_YIELD = 1024;

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Runs flow iterations: renders each step's templates, sends it, records its
 * latency and outcome, captures values for later steps and counts its checks;
 * runs loops and skips steps whose `if` is false. An iteration ends at its
 * first error (later steps usually depend on earlier ones) or at a failed
 * check with `abort: true`. A request that failed has its checks skipped.
 */
export class FlowRunner {
  private stopping = false;
  private closed = false;
  private readonly stopWaiters = new Set<() => void>();
  private readonly idleWaiters: (() => void)[] = [];

  constructor(
    private readonly compiled: CompiledScenario,
    private readonly feeders: Record<string, FeederData>,
    private readonly client: HttpClient,
    private readonly recorder: Recorder,
    private readonly clock: () => number,
  ) {}

  /** Picks a flow by weight. */
  pickFlow(): CompiledFlow {
    const u = Math.random();
    const w = this.compiled.cumulativeWeights;
    let i = 0;
    while (i < w.length - 1 && w[i]! < u) i++;
    return this.compiled.flows[i]!;
  }

  /**
   * Splits n picks among the flows by weight without picking n times: each
   * flow gets its whole share, the remainder is picked one by one. Used to
   * count arrivals dropped in bulk (at a million arrivals a second, picking
   * each one kept the generator busy long after the phase ended).
   */
  pickFlows(n: number): number[] {
    const w = this.compiled.cumulativeWeights;
    const counts = w.map((c, i) => Math.floor(n * (c - (i > 0 ? w[i - 1]! : 0))));
    for (let rest = n - counts.reduce((a, b) => a + b, 0); rest > 0; rest--) counts[this.pickFlow().index]!++;
    return counts;
  }

  /** A cookie jar for one virtual user or iteration; undefined with defaults.cookies off. */
  newJar(): CookieJar | undefined {
    return this.compiled.cookies ? new CookieJar() : undefined;
  }

  /** No new steps start after this; think times end at once. */
  stop(): void {
    this.stopping = true;
    for (const wake of this.stopWaiters) wake();
    this.stopWaiters.clear();
  }

  /**
   * Stops recording: what settles after this (requests the teardown destroys)
   * is the tool's doing, not the target's, and those iterations stay
   * "interrupted".
   */
  close(): void {
    this.closed = true;
    this.stop();
  }

  /**
   * Runs one iteration. `scheduledAt` (clock ms) is when it should have
   * started: the first request's latency counts from then, so a generator or
   * target stall shows up in the numbers instead of being omitted. Closed-model
   * callers pass the current time, and their virtual user's cookie jar (the
   * open model gets a jar for the iteration). Resolves to whether any request was sent.
   */
  async iterate(flow: CompiledFlow, iteration: number, scheduledAt: number, jar = this.newJar()): Promise<boolean> {
    const rec = this.recorder;
    rec.started(flow.index);
    const run: IterationState = { vars: this.varsFor(iteration), sentAt: scheduledAt, sent: false, jar };
    const outcome = await this.runSteps(flow.steps, run);
    if (outcome === 'closed') return run.sent;
    if (outcome === 'interrupted') rec.interrupted();
    else rec.finished(flow.index, this.clock() - scheduledAt, outcome === 'completed');
    if (rec.inFlight === 0 && this.idleWaiters.length > 0) for (const wake of this.idleWaiters.splice(0)) wake();
    return run.sent;
  }

  /** Runs steps in order until one fails; a step whose `if` is false is skipped. */
  private async runSteps(steps: readonly CompiledStep[], run: IterationState): Promise<Outcome> {
    for (const step of steps) {
      if (this.stopping) return 'interrupted';
      if (step.when !== undefined) {
        let go: boolean;
        try {
          go = step.when(run.vars);
        } catch (err) {
          this.recorder.templateFailed(`if: ${(err as Error).message}`);
          return 'failed';
        }
        if (!go) continue;
      }
      if (step.kind === 'think') {
        await this.sleep(step.ms);
        run.sentAt = this.clock();
        continue;
      }
      if (step.kind === 'loop') {
        const outcome = await this.runLoop(step, run);
        if (outcome !== 'completed') return outcome;
        continue;
      }
      let req: HttpRequest;
      try {
        req = this.prepare(step, run.vars, run.jar);
      } catch (err) {
        // A template failed at run time (say, randomInt on a non-number): nothing was sent.
        this.recorder.templateFailed((err as Error).message);
        return 'failed';
      }
      run.sent = true;
      const ok = await this.send(step, req, run.vars, run.sentAt, run.jar);
      if (this.closed) return 'closed';
      if (!ok) return 'failed';
      run.sentAt = this.clock();
    }
    return 'completed';
  }

  /** The list a loop goes over, or a message when it renders to something else. */
  private loopItems(loop: CompiledLoop, vars: TemplateVars): unknown[] | string {
    let list: unknown;
    try {
      list = loop.over!(vars);
    } catch (err) {
      return `loop over: ${(err as Error).message}`;
    }
    if (!Array.isArray(list)) return `loop over: expected a list, got ${echo(list)}`;
    if (list.length > LOOP_MAX) return `loop over: a list of ${list.length} items, more than ${LOOP_MAX}`;
    return list;
  }

  /**
   * Runs a loop's steps once per round, with the loop variable, loopIndex and
   * loopCount set; the names it hid are restored after it (loops nest).
   */
  private async runLoop(loop: CompiledLoop, run: IterationState): Promise<Outcome> {
    let items: unknown[] | undefined;
    if (loop.over) {
      const list = this.loopItems(loop, run.vars);
      if (typeof list === 'string') {
        this.recorder.templateFailed(list);
        return 'failed';
      }
      items = list;
    }
    const rounds = items ? items.length : loop.count!;
    const vars = run.vars;
    const names = [loop.as, 'loopIndex', 'loopCount'];
    const saved = names.map((n) => (Object.hasOwn(vars, n) ? { value: vars[n] } : undefined));
    try {
      for (let i = 0; i < rounds; i++) {
        vars[loop.as] = items ? items[i] : i;
        vars.loopIndex = i;
        vars.loopCount = i + 1;
        const outcome = await this.runSteps(loop.steps, run);
        if (outcome !== 'completed') return outcome;
        if (i % ROUNDS_PER_YIELD === ROUNDS_PER_YIELD - 1) await yieldToEventLoop();
      }
      return 'completed';
    } finally {
      names.forEach((n, k) => {
        const s = saved[k];
        if (s) vars[n] = s.value;
        else delete vars[n];
      });
    }
  }

  /** Resolves when no iteration is in flight. */
  idle(): Promise<void> {
    if (this.recorder.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Renders a step's URL, headers and body. Throws when a template fails. */
  private prepare(step: CompiledRequest, vars: TemplateVars, jar: CookieJar | undefined): HttpRequest {
    const rendered = String(step.url(vars) ?? '');
    let origin = this.compiled.origin;
    let path: string;
    let ownAuth: string | undefined;
    if (ABSOLUTE_URL.test(rendered)) {
      const u = new URL(rendered);
      origin = u.origin;
      path = u.pathname + u.search;
      // A step's own `user:pass@` is sent as HTTP Basic auth to that URL, as the target's is to the target.
      if (u.username || u.password) ownAuth = urlCredentials(rendered).authorization;
    } else path = this.compiled.basePath + (rendered.startsWith('/') ? rendered : `/${rendered}`);
    let headers = step.headers;
    if (step.dynamicHeaders.length > 0) {
      headers = { ...headers };
      for (const [k, render] of step.dynamicHeaders) headers[k] = render(vars);
    }
    // The target URL's credentials go to the target only, never to another origin a step names;
    // a step URL's own credentials win over them, and an Authorization header the step sets wins over both.
    const auth = ownAuth ?? (origin === this.compiled.origin ? this.compiled.authorization : undefined);
    if (auth !== undefined && headers.authorization === undefined) headers = { ...headers, authorization: auth };
    if (jar || step.cookies) headers = withCookies(headers, origin, path, jar, step.cookies && renderStepCookies(step.cookies, vars));
    return {
      origin,
      path,
      method: step.method,
      headers,
      headersReused: headers === step.headers,
      body: step.body ? step.body(vars) : step.staticBody,
      timeoutMs: step.timeoutMs,
      wantBody: step.wantBody,
      bodyLimit: step.bodyLimit,
      trace: step.trace === 'fresh' ? newTraceparent() : undefined,
    };
  }

  /**
   * Records a request's outcome; one written with a trace id is offered to
   * its endpoint's slowest too. One never written (`unsent`: it timed out
   * waiting for a connection) is not: the target never saw its trace id, and
   * under overload such requests, all as slow as the deadline, would fill the
   * slowest with ids nobody can look up.
   */
  private record(step: CompiledRequest, req: HttpRequest, latency: number, sentAt: number, status: number | undefined, kind?: ErrorKind, message?: string, unsent?: boolean): void {
    this.recorder.request(step.endpoint, latency, status, kind, message);
    // One comparison turns away almost every request: the trace id is made (as text) only for one kept.
    if (step.trace === 'none' || unsent === true || !this.recorder.slowEnough(step.endpoint, latency)) return;
    const traceId = req.trace !== undefined ? req.trace.traceId() : traceIdOf(req.headers.traceparent);
    if (traceId !== undefined) this.recorder.traced(step.endpoint, latency, sentAt, traceId, status, kind);
  }

  /** Sends a prepared request and records its outcome; false when it failed. */
  private async send(step: CompiledRequest, req: HttpRequest, vars: TemplateVars, sentAt: number, jar: CookieJar | undefined): Promise<boolean> {
    const res = await this.client.send(req);
    if (this.closed) return false;
    // Kept whatever the status, as a browser keeps them.
    if (jar && res.ok) jar.store(req.origin, req.path, res.setCookie);
    const latency = this.clock() - sentAt;
    // A failure after the status came (a body too large to keep) is judged by that status first.
    if (!res.ok && res.status === undefined) {
      this.record(step, req, latency, sentAt, undefined, res.kind, res.message, res.unsent);
      return false;
    }
    // Set here: a response, or a failure after its status came.
    const status = res.status as number;
    const expected = step.expectStatus ? step.expectStatus.has(status) : status < 400;
    if (!expected) {
      const kind = step.expectStatus ? 'expectation' : status >= 500 ? 'http_5xx' : 'http_4xx';
      this.record(step, req, latency, sentAt, status, kind, `status ${status}`);
      return false;
    }
    if (!res.ok) {
      this.record(step, req, latency, sentAt, status, res.kind, res.message);
      return false;
    }
    const captured = this.capture(step, res, vars);
    if (typeof captured === 'string') {
      this.record(step, req, latency, sentAt, status, 'capture', captured);
      return false;
    }
    this.record(step, req, latency, sentAt, status);
    if (step.checks.length === 0) return true;
    try {
      return !runChecks(step.checks, { status, headers: res.headers, body: res.body, latencyMs: latency, json: captured }, vars, this.recordCheck);
    } catch (err) {
      // A check's template failed at run time.
      this.recorder.templateFailed(`check: ${(err as Error).message}`);
      return false;
    }
  }

  private readonly recordCheck = (index: number, pass: boolean): void => this.recorder.check(index, pass);

  /**
   * Stores captured values in vars; returns a message when one is missing,
   * else the body parsed as JSON when a capture parsed it (the checks reuse it).
   */
  private capture(step: CompiledRequest, res: Extract<HttpResponse, { ok: true }>, vars: TemplateVars): string | { value: unknown } | undefined {
    if (step.captures.length === 0) return undefined;
    // Read here, not before: the lean path builds a response's header object only when it is read.
    const { headers, body } = res;
    let json: unknown;
    let parsed = false;
    for (const c of step.captures) {
      let value: unknown;
      if (c.from === 'header') {
        const h = headers[c.header];
        value = Array.isArray(h) ? h[0] : h;
      } else {
        if (!parsed) {
          parsed = true;
          try {
            json = body ? JSON.parse(body) : undefined;
          } catch {
            return `capture ${c.name}: response body is not JSON`;
          }
        }
        value = readJsonPath(json, c.path);
      }
      if (value === undefined) return `capture ${c.name}: ${c.from === 'header' ? `no header ${c.header}` : `nothing at ${c.expr}`}`;
      vars[c.name] = value;
    }
    return parsed ? { value: json } : undefined;
  }

  private varsFor(iteration: number): TemplateVars {
    const vars: TemplateVars = Object.create(this.compiled.baseVars) as TemplateVars;
    vars.iteration = iteration;
    for (const name in this.feeders) {
      const f = this.feeders[name]!;
      vars[name] = f.order === 'sequential' ? f.rows[iteration % f.rows.length] : f.rows[Math.floor(Math.random() * f.rows.length)];
    }
    return vars;
  }

  private sleep(ms: number): Promise<void> {
    if (this.stopping) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.stopWaiters.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.stopWaiters.add(wake);
    });
  }
}

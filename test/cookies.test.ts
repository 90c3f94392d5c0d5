import { createServer, type IncomingMessage, type Server } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runScenario } from './helpers/cli.js';

/**
 * A login server on port 0: POST /login sets a session cookie, GET /me needs
 * it (else 401); GET /visit counts the visits cookie it is sent and sets it
 * one higher. Every request's Cookie header is kept for the assertions.
 */
let server: Server;
let url = '';
let seen: { path: string; host: string | undefined; cookie: string | undefined }[] = [];
let sessions = 0;

function cookieOf(req: IncomingMessage, name: string): string | undefined {
  return req.headers.cookie?.split(/;\s*/).find((c) => c.startsWith(`${name}=`))?.slice(name.length + 1);
}

beforeAll(async () => {
  server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    seen.push({ path, host: req.headers.host?.split(':')[0], cookie: req.headers.cookie });
    req.resume();
    if (path === '/login') {
      res.writeHead(200, { 'set-cookie': [`session=s${++sessions}; Path=/; HttpOnly`, 'theme=light; Path=/account'] }).end('{}');
    } else if (path === '/me') {
      res.writeHead(cookieOf(req, 'session') ? 200 : 401).end();
    } else if (path === '/visit') {
      const n = Number(cookieOf(req, 'visits') ?? 0) + 1;
      res.writeHead(200, { 'set-cookie': `visits=${n}; Max-Age=3600` }).end();
    } else if (path === '/other-login') {
      res.writeHead(200, { 'set-cookie': 'other=1' }).end();
    } else res.writeHead(200).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));
beforeEach(() => {
  seen = [];
});

const login = (defaults = '', phase = '{ duration: 1s, vus: 1 }') => `
name: cookie-login
target: ${'URL'}
${defaults}
phases: [${phase}]
flows:
  - name: session
    steps:
      - post: /login
      - get: /me
      - get: /account/settings
`;

describe('cookies', () => {
  it('keeps the session cookie a login sets, and sends it on later requests (on by default, RFC 6265 paths)', async () => {
    const { code, result } = await runScenario(login().replace('URL', url));
    expect(code).toBe(0);
    expect(result.totals.errors).toBe(0);
    const me = seen.filter((s) => s.path === '/me');
    expect(me.length).toBeGreaterThan(0);
    expect(me.every((s) => /^session=s\d+$/.test(s.cookie ?? ''))).toBe(true);
    // theme has Path=/account: sent to /account/settings only, after session (longer path first).
    const settings = seen.filter((s) => s.path === '/account/settings');
    expect(settings.every((s) => /^theme=light; session=s\d+$/.test(s.cookie ?? ''))).toBe(true);
  });

  it('with defaults.cookies: false nothing is kept, so the page behind the login answers 401', async () => {
    const { code, result } = await runScenario(login('defaults: { cookies: false }').replace('URL', url));
    expect(code).toBe(0);
    const me = result.endpoints.find((e) => e.name === 'GET /me')!;
    expect(me.requests).toBeGreaterThan(0);
    expect(me.errorsByKind).toEqual({ http_4xx: me.requests });
    expect(seen.every((s) => s.cookie === undefined)).toBe(true);
  });

  it('a virtual user keeps its jar across its iterations', async () => {
    const { result } = await runScenario(`
name: per-vu
target: ${url}
phases: [{ duration: 1s, vus: 2 }]
flows: [{ name: visit, steps: [{ get: /visit }] }]
`);
    expect(result.totals.errors).toBe(0);
    const counts = seen.map((s) => Number(/visits=(\d+)/.exec(s.cookie ?? '')?.[1] ?? 0));
    // Two VUs, each counting up from nothing: every value but 0 and 1 is seen at most twice, and the counts go well past 1.
    expect(counts.filter((c) => c === 0)).toHaveLength(2);
    expect(Math.max(...counts)).toBeGreaterThanOrEqual(Math.floor(seen.length / 2) - 1);
  });

  it('in the open model each iteration starts with an empty jar, kept across its own steps', async () => {
    const { result } = await runScenario(`
name: per-iteration
target: ${url}
phases: [{ duration: 1s, arrivalRate: 20 }]
flows: [{ name: visit, steps: [{ name: first, get: /visit }, { name: second, get: /visit }] }]
`);
    expect(result.totals.errors).toBe(0);
    expect(result.totals.requests).toBe(40);
    expect(seen.filter((s) => s.cookie === undefined)).toHaveLength(20);
    expect(seen.filter((s) => s.cookie === 'visits=1')).toHaveLength(20);
  });

  it('cookies of another host a step names go back to that host only (the jar is per URL, not per target)', async () => {
    const port = new URL(url).port;
    const { result } = await runScenario(`
name: other-host
target: ${url}
phases: [{ duration: 1s, arrivalRate: 2 }]
flows:
  - name: f
    steps:
      - get: "http://localhost:${port}/other-login"
      - get: /check
      - get: "http://localhost:${port}/check"
`);
    expect(result.totals.errors).toBe(0);
    const checks = seen.filter((s) => s.path === '/check');
    expect(checks).toHaveLength(4);
    for (const c of checks) expect(c.cookie).toBe(c.host === 'localhost' ? 'other=1' : undefined);
  });

  it('step cookies (templates allowed) go into the jar for the rest of the iteration, or straight into the header with the jar off', async () => {
    const yaml = (defaults: string) => `
name: step-cookies
target: ${url}
${defaults}
variables: { who: ada }
phases: [{ duration: 1s, arrivalRate: 3 }]
flows:
  - name: f
    steps:
      - { name: set, get: /a, headers: { cookie: "own=1" }, cookies: { user: "{{ who }}", n: 7 } }
      - { name: later, get: /b }
`;
    await runScenario(yaml(''));
    expect(seen.filter((s) => s.path === '/a').every((s) => s.cookie === 'own=1; user=ada; n=7')).toBe(true);
    expect(seen.filter((s) => s.path === '/b').every((s) => s.cookie === 'user=ada; n=7')).toBe(true);
    seen = [];
    await runScenario(yaml('defaults: { cookies: false }'));
    expect(seen.filter((s) => s.path === '/a').every((s) => s.cookie === 'own=1; user=ada; n=7')).toBe(true);
    expect(seen.filter((s) => s.path === '/b').every((s) => s.cookie === undefined)).toBe(true);
    expect(seen.length).toBe(6);
  });
});

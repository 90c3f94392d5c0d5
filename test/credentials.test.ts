import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maskCredentials, urlCredentials } from '../src/shared/mask-credentials.js';
import { ExitCode } from '../src/exit-codes.js';
import { readResult } from '../src/commands/read-result.js';
import { runCli, tempFiles } from './helpers/cli.js';
import { closedPort } from './helpers/test-server.js';

/** An HTTP server on 127.0.0.1, port 0, that remembers each request's path and Authorization header. */
async function recordingServer(answer: (req: IncomingMessage) => { status: number; body: string }): Promise<{ url: string; seen: { path: string; auth: string | undefined }[]; close: () => Promise<void> }> {
  const seen: { path: string; auth: string | undefined }[] = [];
  const server: Server = createServer((req, res) => {
    seen.push({ path: req.url ?? '', auth: req.headers.authorization });
    const a = answer(req);
    res.writeHead(a.status, { 'content-type': 'text/plain' });
    res.end(a.body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

const BASIC = `Basic ${Buffer.from('user:s3cr@t').toString('base64')}`;

describe('credentials in URLs', () => {
  it('maskCredentials hides the user info of every URL in a text, and only that', () => {
    expect(maskCredentials('http://user:secret@127.0.0.1:3000/x?y=1')).toBe('http://***@127.0.0.1:3000/x?y=1');
    // A password holding an @ is hidden whole (the last @ before the path ends the user info).
    expect(maskCredentials('target postgres://u:p@ss@db:5432/shop unreachable, see https://docs.example/a@b')).toBe('target postgres://***@db:5432/shop unreachable, see https://docs.example/a@b');
    expect(maskCredentials('https://token@host')).toBe('https://***@host');
    expect(maskCredentials('http://127.0.0.1:3000/?mail=a@b')).toBe('http://127.0.0.1:3000/?mail=a@b');
    expect(urlCredentials('http://us%40er:p%3Ass@h:1/p')).toEqual({ url: 'http://h:1/p', authorization: `Basic ${Buffer.from('us@er:p:ss').toString('base64')}` });
    expect(urlCredentials('http://h:1/p')).toEqual({ url: 'http://h:1/p', authorization: undefined });
    expect(urlCredentials('http://a%zz:b@h/').authorization).toBe(`Basic ${Buffer.from('a%zz:b').toString('base64')}`);
  });

  describe('a run against http://user:secret@host', () => {
    let target: Awaited<ReturnType<typeof recordingServer>>;
    let other: Awaited<ReturnType<typeof recordingServer>>;
    beforeAll(async () => {
      // The target's /metrics answers only with the right credentials: telemetry uses them too.
      target = await recordingServer((req) => req.url === '/metrics'
        ? (req.headers.authorization === BASIC ? { status: 200, body: 'shop_cache_requests_total{result="hit"} 1\n' } : { status: 401, body: 'no' })
        : { status: 200, body: '{}' });
      other = await recordingServer(() => ({ status: 200, body: '{}' }));
    });
    afterAll(async () => {
      await target?.close();
      await other?.close();
    });

    it('sends them as HTTP Basic auth to the target only, and writes or prints them nowhere', async () => {
      const withCredentials = target.url.replace('http://', 'http://user:s3cr%40t@');
      const dir = await tempFiles({
        's.yaml': `
name: credentials
target: ${withCredentials}
phases: [{ duration: 1s, arrivalRate: 10 }]
flows:
  - name: f
    steps:
      - get: /api/x
      - get: ${other.url}/elsewhere
      - get: ${target.url.replace('http://', 'http://bob:hunt%3Aer2@')}/abs
telemetry:
  interval: 200ms
  drainTimeout: 0s
  metrics:
    cacheHits: { name: shop_cache_requests_total, labels: { result: hit } }
thresholds: [p99 < 1ms]
`,
      });
      const r = await runCli(['run', 's.yaml', '--out', 'r.json', '--html', 'r.html', '--summary-md', 'r.md', '--junit', 'r.xml'], { cwd: dir });
      expect(r.code).toBe(ExitCode.thresholdsFailed);
      const api = target.seen.filter((s) => s.path === '/api/x');
      expect(api.length).toBe(10);
      expect(api.every((s) => s.auth === BASIC)).toBe(true);
      // Telemetry authenticated: no scrape was refused.
      const result = JSON.parse(await readFile(join(dir, 'r.json'), 'utf8')) as { target: string; telemetry: { source: string; scrapes: { ok: number; failed: number } } };
      expect(result.telemetry.scrapes).toMatchObject({ failed: 0 });
      expect(result.telemetry.scrapes.ok).toBeGreaterThan(1);
      // Another origin a step names never gets the target's credentials.
      expect(other.seen.length).toBe(10);
      expect(other.seen.every((s) => s.auth === undefined)).toBe(true);
      // A step URL's own credentials go to that URL as HTTP Basic auth, in place of the target's.
      const abs = target.seen.filter((s) => s.path === '/abs');
      expect(abs.length).toBe(10);
      expect(abs.every((s) => s.auth === `Basic ${Buffer.from('bob:hunt:er2').toString('base64')}`)).toBe(true);

      const masked = target.url.replace('http://', 'http://***@');
      expect(result.target).toBe(masked);
      expect(result.telemetry.source).toBe(`${masked}/metrics`);
      // The step's default name (method and URL) is masked: in the endpoints, the histograms and every output.
      const named = result as unknown as { endpoints: { name: string }[]; histograms: Record<string, string> };
      expect(named.endpoints.map((e) => e.name)).toContain(`GET ${masked}/abs`);
      expect(Object.keys(named.histograms)).toContain(`GET ${masked}/abs`);
      const cmp = await runCli(['compare', 'r.json', 'r.json'], { cwd: dir });
      expect(cmp.stdout).toContain(`${masked}/abs`);
      const files = Object.fromEntries(await Promise.all(['r.json', 'r.html', 'r.md', 'r.xml'].map(async (f) => [f, await readFile(join(dir, f), 'utf8')] as const)));
      for (const [name, text] of Object.entries({ stdout: r.stdout, stderr: r.stderr, compare: cmp.stdout + cmp.stderr, ...files })) {
        expect(text, name).not.toMatch(/s3cr|user:|hunt|bob/);
      }
      expect(r.stderr).toContain(`against ${masked}`);
      expect(r.stdout).toContain(masked);
      expect(files['r.html']).toContain(masked);
    }, 30_000);

    it('nor in the error when the target is unreachable or not a URL', async () => {
      const dir = await tempFiles({ 's.yaml': 'name: x\ntarget: http://127.0.0.1:1\nphases: [{ duration: 1s, arrivalRate: 1 }]\nflows: [{ name: f, steps: [{ get: / }] }]\n' });
      const r = await runCli(['run', 's.yaml', '--no-progress', '--target', `http://user:s3cr%40t@127.0.0.1:${await closedPort()}`], { cwd: dir });
      expect(r.code).toBe(ExitCode.unreachable);
      expect(r.stderr).toMatch(/target http:\/\/\*\*\*@127\.0\.0\.1:\d+ unreachable/);
      expect(r.stderr + r.stdout).not.toMatch(/s3cr|user:/);
      // Nor when the URL itself is refused.
      const bad = await runCli(['run', 's.yaml', '--no-progress', '--target', 'http://user:s3cr%40t@127.0.0.1:99999'], { cwd: dir });
      expect(bad.code).toBe(ExitCode.usage);
      expect(bad.stderr).toContain('--target http://***@127.0.0.1:99999: not a valid URL: "http://***@127.0.0.1:99999"');
    });
  });
});

describe('the secrets telemetry.promql.auth names', () => {
  const scenario = (target: string) => `name: promq
target: ${target}
telemetry:
  promql:
    url: http://127.0.0.1:9
    auth: { bearerTokenEnv: PROM_TOKEN }
  metrics:
    queueWaiting: { query: "sum(x)" }
phases: [{ duration: 1s, arrivalRate: 1 }]
flows: [{ name: f, steps: [{ get: / }] }]
`;

  it('are checked when the scenario is read: validate says so, and run and capacity stop before the target is probed', async () => {
    const dir = await tempFiles({ 's.yaml': scenario(`http://127.0.0.1:${await closedPort()}`) });
    const v = await runCli(['validate', 's.yaml'], { cwd: dir });
    expect(v.code).toBe(ExitCode.invalidInput);
    expect(v.stderr).toMatch(/^s\.yaml:6:\d+ telemetry\.promql\.auth\.bearerTokenEnv: environment variable PROM_TOKEN is not set$/m);
    const bad = await runCli(['validate', 's.yaml'], { cwd: dir, env: { PROM_TOKEN: 'tok\x01123' } });
    expect(bad.stderr).toContain('environment variable PROM_TOKEN holds a control character');
    expect(bad.stderr).not.toContain('tok');
    expect((await runCli(['validate', 's.yaml'], { cwd: dir, env: { PROM_TOKEN: 'tok123\n' } })).code).toBe(ExitCode.ok);
    // The target's port is closed: exit 3, not "unreachable", shows the check came first.
    for (const argv of [['run', 's.yaml', '--no-progress'], ['capacity', 's.yaml', '--replicas', '1']]) {
      const r = await runCli(argv, { cwd: dir });
      expect(r.code, argv[0]).toBe(ExitCode.invalidInput);
      expect(r.stderr, argv[0]).toContain('environment variable PROM_TOKEN is not set');
      expect(r.stderr, argv[0]).not.toContain('unreachable');
    }
  });
});

describe('capacity with credentials in its URLs', () => {
  const scenario = `name: cap
target: http://127.0.0.1:1
phases: [{ duration: 10s, arrivalRate: 5 }]
flows: [{ name: f, steps: [{ get: /x }] }]
telemetry: { interval: 200ms, drainTimeout: 0s, metrics: { queueWaiting: { name: q_jobs } } }
`;

  it('masks them in flag errors, the ready URL\'s error, capacity.json and HTML, and sends them as HTTP Basic auth', async () => {
    const dir = await tempFiles({ 's.yaml': scenario });
    const flags = await runCli(['capacity', 's.yaml', '-r', '1', '--target', 'http://u:capsecret@127.0.0.1:99999'], { cwd: dir });
    expect(flags.code).toBe(ExitCode.usage);
    expect(flags.stderr).toContain('--target http://***@127.0.0.1:99999: ');
    const redis = await runCli(['capacity', 's.yaml', '-r', '1', '--redis-address', 'redis://u:capsecret@h:6379'], { cwd: dir });
    expect(redis.code).toBe(ExitCode.usage);
    expect(flags.stderr + redis.stderr).not.toContain('capsecret');

    // The ready URL never answers 2xx: the resize fails (exit 7) after polling it with its credentials.
    const ready = await recordingServer(() => ({ status: 503, body: 'not yet' }));
    try {
      const r = await runCli(['capacity', 's.yaml', '-r', '1', '--target', ready.url, '--scale-cmd', 'echo {n}', '--ready-timeout', '1s',
        '--ready-url', `${ready.url.replace('http://', 'http://u:readysecret@')}/ready`, '--out', 'cap.json', '--html', 'cap.html'], { cwd: dir });
      expect(r.code).toBe(ExitCode.stackFailed);
      expect(ready.seen.length).toBeGreaterThan(0);
      expect(ready.seen.every((s) => s.path === '/ready' && s.auth === `Basic ${Buffer.from('u:readysecret').toString('base64')}`)).toBe(true);
      const json = await readFile(join(dir, 'cap.json'), 'utf8');
      const masked = `${ready.url.replace('http://', 'http://***@')}/ready`;
      expect(JSON.parse(json)).toMatchObject({ settings: { readyUrl: masked }, error: { message: expect.stringContaining(`${masked} was not ready`) } });
      expect(r.stderr).toContain(`${masked} was not ready`);
      const html = await readFile(join(dir, 'cap.html'), 'utf8');
      for (const [name, text] of Object.entries({ stdout: r.stdout, stderr: r.stderr, json, html })) expect(text, name).not.toContain('readysecret');
    } finally {
      await ready.close();
    }
  });

  it('reads the target\'s metrics for its queue\'s list with the target\'s credentials', async () => {
    const controller = new AbortController();
    const target = await recordingServer((req) => {
      // The first read of /metrics is the one for the queue's list; the run is stopped there.
      if (req.url === '/metrics') controller.abort();
      return { status: 200, body: req.url === '/metrics' ? 'q_jobs 0\n' : '{}' };
    });
    try {
      const dir = await tempFiles({ 's.yaml': scenario });
      const r = await runCli(['capacity', 's.yaml', '-r', '1', '--target', target.url.replace('http://', 'http://u:capsecret@')], { cwd: dir, signal: controller.signal });
      expect(r.code, r.stderr).toBe(ExitCode.aborted);
      const metrics = target.seen.filter((s) => s.path === '/metrics');
      expect(metrics[0]?.auth).toBe(`Basic ${Buffer.from('u:capsecret').toString('base64')}`);
      expect(r.stdout + r.stderr).not.toContain('capsecret');
    } finally {
      await target.close();
    }
  });
});

describe('report and compare mask credentials a result file holds', () => {
  it('an older or hand-edited results.json or capacity.json: target, endpoint names, histograms, error samples and settings', async () => {
    const base = JSON.parse(await readFile(new URL('./fixtures/run-result.json', import.meta.url), 'utf8')) as {
      target: string; endpoints: { name: string }[]; histograms: Record<string, string>; errorSamples: Record<string, string>;
    };
    const secret = (s: string): string => s.replace('/files', 'http://bob:hunter2@127.0.0.1:1/files');
    const run = {
      ...base,
      target: 'http://alice:s3cr3t@127.0.0.1:8080',
      endpoints: base.endpoints.map((e) => ({ ...e, name: secret(e.name) })),
      histograms: Object.fromEntries(Object.entries(base.histograms).map(([k, v]) => [secret(k), v])),
      errorSamples: { http_4xx: 'status 404 from http://carol:pw3@127.0.0.1:1/x' },
    };
    expect(JSON.stringify(run)).toMatch(/hunter2/);
    const cap = JSON.parse(await readFile(new URL('./fixtures/capacity-result.json', import.meta.url), 'utf8')) as { settings: object };
    const capacity = {
      ...cap, target: 'http://alice:s3cr3t@127.0.0.1:8080', error: { message: 'http://u:readysecret@127.0.0.1:1/ready was not ready', exitCode: 7 },
      settings: { ...cap.settings, readyUrl: 'http://u:readysecret@127.0.0.1:1/ready', scaleCmd: 'curl http://u:readysecret@h/scale?n={n}' },
    };
    const dir = await tempFiles({ 'r.json': JSON.stringify(run), 'c.json': JSON.stringify(capacity) });
    const outputs: Record<string, string> = {};
    for (const [name, argv] of Object.entries({ run: ['report', 'r.json', '--html', 'r.html'], capacity: ['report', 'c.json', '--html', 'c.html'] })) {
      const r = await runCli(argv, { cwd: dir });
      expect(r.code, r.stderr).toBe(ExitCode.ok);
      outputs[name] = r.stdout + r.stderr + await readFile(join(dir, argv[3]!), 'utf8');
    }
    const cmp = await runCli(['compare', 'r.json', 'r.json', '--junit', 'c.xml'], { cwd: dir });
    expect(cmp.code, cmp.stderr).toBe(ExitCode.ok);
    outputs.compare = cmp.stdout + cmp.stderr + await readFile(join(dir, 'c.xml'), 'utf8');
    expect(outputs.run).toContain('http://***@127.0.0.1:8080');
    expect(outputs.run).toContain('GET http://***@127.0.0.1:1/files/*');
    expect(outputs.capacity).toContain('http://***@127.0.0.1:1/ready was not ready');
    expect(outputs.compare).toContain('GET http://***@127.0.0.1:1/files/*');
    for (const [name, text] of Object.entries(outputs)) expect(text, name).not.toMatch(/s3cr3t|hunter2|pw3|readysecret|alice|bob:|carol/);
  });

  it('two endpoints whose names differ only in their credentials stay two, with their own histograms', async () => {
    const base = JSON.parse(await readFile(new URL('./fixtures/run-result.json', import.meta.url), 'utf8')) as {
      endpoints: { name: string }[]; histograms: Record<string, string>;
    };
    const [first, second] = Object.values(base.histograms);
    const names = ['GET http://alice:a1@127.0.0.1:1/x', 'GET http://bob:b2@127.0.0.1:1/x'];
    const run = { ...base, endpoints: names.map((name, i) => ({ ...base.endpoints[0]!, name, requests: i + 1 })), histograms: { [names[0]!]: first, [names[1]!]: second ?? first } };
    const dir = await tempFiles({ 'r.json': JSON.stringify(run) });
    const r = await readResult('r.json', dir);
    expect(r.endpoints.map((e) => [e.name, e.requests])).toEqual([['GET http://***@127.0.0.1:1/x', 1], ['GET http://***@127.0.0.1:1/x (2)', 2]]);
    expect(r.histograms).toEqual({ 'GET http://***@127.0.0.1:1/x': first, 'GET http://***@127.0.0.1:1/x (2)': second ?? first });
  });
});

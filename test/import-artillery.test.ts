import { createServer, type Server } from 'node:http';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { runCli, tempFiles } from './helpers/cli.js';
import { ExitCode } from '../src/exit-codes.js';
import type { RunResult } from '../src/analyzers/run-result.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/artillery/', import.meta.url));

/**
 * A target for the translated examples, answering what their flows expect
 * (201 on POST /users, a GraphQL id, a token header on /login) and 200 with
 * JSON to anything else; it counts what it saw.
 */
function startTarget(): Promise<{ server: Server; url: string; count: () => number; reset: () => void }> {
  let count = 0;
  const server = createServer((req, res) => {
    count++;
    req.resume();
    req.on('end', () => {
      const path = new URL(req.url!, 'http://x').pathname;
      const json = (status: number, body: unknown, headers: Record<string, string> = {}) => {
        res.writeHead(status, { 'content-type': 'application/json', ...headers });
        res.end(status === 204 ? undefined : JSON.stringify(body));
      };
      if (req.method === 'POST' && path === '/users') return json(201, { id: 'u1', username: 'new-user' });
      if (req.method === 'DELETE' && path.startsWith('/users/')) return json(204, undefined);
      if (req.method === 'POST' && path === '/') return json(200, { data: { createUser: { id: '7' } } });
      if (path === '/login') return json(200, { ok: true }, { 'x-token': 'tok', 'set-cookie': 'sid=1; Path=/' });
      if (path.startsWith('/items/')) return json(200, { item: path });
      return json(200, { ok: true, username: 'new-user' });
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => {
    const { port } = server.address() as { port: number };
    resolve({ server, url: `http://127.0.0.1:${port}`, count: () => count, reset: () => void (count = 0) });
  }));
}

interface Case {
  file: string;
  /** Phases of the short variant (Artillery syntax), when the script's own would take too long. */
  phases?: unknown[];
  /** Other edits of the short variant: [path, value]. */
  edits?: [(string | number)[], unknown][];
  /** Exit code of the import. */
  importCode: number;
  /** Arrivals the (short) phases start: exact for these phases. */
  arrivals: number;
  /** Requests of one iteration of each flow, by flow name. */
  requestsPerFlow: Record<string, number>;
  env?: Record<string, string>;
}

const CASES: Case[] = [
  // 1/s ramping to 3/s over 1 s: 1·1 + (3−1)·1/2 = 2 arrivals; each loops 100 times over 3 GETs.
  { file: 'load-test-with-automated-checks.yml', phases: [{ duration: 1, arrivalRate: 1, rampTo: 3 }], importCode: ExitCode.importIncomplete, arrivals: 2, requestsPerFlow: { 'scenario 1': 300 } },
  // No phases: one virtual user, once.
  { file: 'functional-load-tests.yml', importCode: ExitCode.importIncomplete, arrivals: 1, requestsPerFlow: { 'scenario 1': 3 } },
  // arrivalCount 3 over 1 s; think 1 s → 10 ms so that 100 loops take 1 s.
  { file: 'website-test.yml', phases: [{ duration: 1, arrivalCount: 3 }], edits: [[['scenarios', 0, 'flow', 0, 'loop', 1, 'think'], 0.01]], importCode: ExitCode.ok, arrivals: 3, requestsPerFlow: { 'scenario 1': 100 } },
  { file: 'cookies.yml', phases: [{ duration: 1, arrivalRate: 4 }], importCode: ExitCode.ok, arrivals: 4, requestsPerFlow: { login_and_verify_cookie: 2, set_cookie_values: 5 } },
  { file: 'scenario-weights.yml', phases: [{ duration: 1, arrivalRate: 10 }], importCode: ExitCode.ok, arrivals: 10, requestsPerFlow: { access_common_route: 1, access_average_route: 1, access_rare_route: 1 } },
  { file: 'graphql.yaml', phases: [{ duration: 1, arrivalRate: 3 }], importCode: ExitCode.ok, arrivals: 3, requestsPerFlow: { crud_from_db_scenario: 4 } },
  { file: 'set-header.yml', importCode: ExitCode.importIncomplete, arrivals: 1, requestsPerFlow: { set_custom_header: 1 } },
  // Its own phases: 2 (arrivalCount) + pause + 1→3/s over 1 s (2); each: login, 2 of 3 loop turns (if: $loopCount, 0-based, is not above 1), one more GET.
  { file: 'edge-cases.yml', importCode: ExitCode.importIncomplete, arrivals: 4, requestsPerFlow: { shop: 4 }, env: { API_KEY: 'k' } },
];

/** Writes the script (shortened when the case says so) and its data files to a temporary folder. */
async function shortVariant(c: Case): Promise<string> {
  const text = await readFile(join(FIXTURES, c.file), 'utf8');
  const doc = parseDocument(text);
  if (c.phases) doc.setIn(['config', 'phases'], c.phases);
  for (const [path, value] of c.edits ?? []) doc.setIn(path, value);
  const dir = await tempFiles({ [c.file]: c.phases || c.edits ? doc.toString() : text });
  await mkdir(join(dir, 'csv'));
  await copyFile(join(FIXTURES, 'csv/urls.csv'), join(dir, 'csv/urls.csv'));
  await copyFile(join(FIXTURES, 'edge-users.csv'), join(dir, 'edge-users.csv'));
  return dir;
}

describe('scalectl import artillery: real Artillery scripts, translated, validated and run against a local server', () => {
  let target: Awaited<ReturnType<typeof startTarget>>;
  beforeAll(async () => {
    target = await startTarget();
  });
  afterAll(() => new Promise<void>((r) => target.server.close(() => r())));
  beforeEach(() => target.reset());

  for (const c of CASES) {
    it(`${c.file}: ${c.arrivals} arrival(s), the requests its flows make`, async () => {
      const dir = await shortVariant(c);
      const imported = await runCli(['import', 'artillery', c.file, '-o', 's.yaml'], { cwd: dir });
      expect(imported.code, imported.stderr).toBe(c.importCode);
      expect(await readFile(join(dir, 's.yaml'), 'utf8')).toMatch(new RegExp(`^# Translated from the Artillery script ${c.file.replace('.', '\\.')} `));

      const env = c.env ?? {};
      const validated = await runCli(['validate', 's.yaml'], { cwd: dir, env });
      expect(validated.stderr).toBe('');
      expect(validated.code).toBe(ExitCode.ok);

      const run = await runCli(['run', 's.yaml', '--target', target.url, '--out', 'r.json', '--no-progress'], { cwd: dir, env });
      expect(run.stderr).not.toMatch(/internal error/);
      expect([ExitCode.ok, ExitCode.thresholdsFailed]).toContain(run.code);
      const result = JSON.parse(await readFile(join(dir, 'r.json'), 'utf8')) as RunResult;
      expect(result.flows.reduce((n, f) => n + f.started, 0)).toBe(c.arrivals);
      expect(result.totals.errors).toBe(0);
      const expected = result.flows.reduce((n, f) => n + f.completed * c.requestsPerFlow[f.name]!, 0);
      expect(result.flows.reduce((n, f) => n + f.completed, 0)).toBe(c.arrivals);
      expect(result.totals.requests).toBe(expected);
      expect(target.count()).toBe(expected);
    });
  }
});

describe('scalectl import artillery: the command', () => {
  it('writes to stdout without -o, lists what it left out on stderr with line numbers, and exits 9', async () => {
    const dir = await tempFiles({ 'a.yml': 'config:\n  target: http://127.0.0.1:1\n  processor: ./p.js\nscenarios:\n  - flow:\n      - function: setProduct\n      - get: { url: / }\n' });
    const r = await runCli(['import', 'artillery', 'a.yml'], { cwd: dir });
    expect(r.code).toBe(ExitCode.importIncomplete);
    expect(r.stdout).toMatch(/^# Translated from the Artillery script a\.yml/);
    expect(r.stdout).toMatch(/\nflows:\n {2}- name: scenario 1\n {4}steps:\n {6}- get: \/\n/);
    expect(r.stderr.split('\n')).toEqual([
      'a.yml:1:1 config: note: no config.phases: Artillery then runs one virtual user once; translated as one arrival ({ duration: 1s, arrivalRate: 1 })',
      'a.yml:3:3 config.processor: processor "./p.js" not loaded: scalectl runs no JavaScript (each function it provides is listed where it is used)',
      'a.yml:6:9 scenarios[0].flow[0].function: processor function "setProduct" not translated: scalectl runs no JavaScript; step left out',
      "2 constructs not translated (listed above and in the scenario's header comment); the rest was (exit 9)",
      '',
    ]);
  });

  it('exits 0 when everything was translated, and 3 for a file that is not YAML or not an Artillery script', async () => {
    const dir = await tempFiles({
      'ok.yml': 'config: { target: http://127.0.0.1:1, phases: [{ duration: 1, arrivalRate: 1 }] }\nscenarios: [{ flow: [{ get: { url: / } }] }]\n',
      'bad.yml': 'config: [\n',
      'scalectl.yaml': 'name: x\ntarget: http://127.0.0.1:1\nphases: [{ duration: 1, arrivalRate: 1 }]\nflows: [{ name: f, steps: [{ get: / }] }]\n',
    });
    const ok = await runCli(['import', 'artillery', 'ok.yml', '-o', 'out.yaml'], { cwd: dir });
    expect(ok).toMatchObject({ code: ExitCode.ok, stdout: '' });
    expect(ok.stderr).toBe('scenario written to out.yaml\n');
    const bad = await runCli(['import', 'artillery', 'bad.yml'], { cwd: dir });
    expect(bad.code).toBe(ExitCode.invalidInput);
    expect(bad.stderr).toMatch(/^scalectl: bad\.yml:2:1 \(scenario\): YAML: /);
    const ours = await runCli(['import', 'artillery', 'scalectl.yaml'], { cwd: dir });
    expect(ours).toMatchObject({ code: ExitCode.invalidInput, stderr: 'scalectl: scalectl.yaml: not an Artillery script: expected a top-level config (with target or phases) and a list of scenarios\n' });
    expect((await runCli(['import', 'artillery', 'ok.yml', '-o', 'ok.yml'], { cwd: dir })).code).toBe(ExitCode.usage);
  });

  it('refuses (exit 2) an -o that names a payload file the script reads, and leaves that file as it was', async () => {
    const csv = 'alice,pw1\nbob,pw2\n';
    const dir = await tempFiles({
      'a1.yml': 'config:\n  target: http://127.0.0.1:1\n  phases: [{ duration: 1, arrivalRate: 1 }]\n  payload: { path: users.csv, fields: [user, pass] }\nscenarios: [{ flow: [{ get: { url: "/{{ user }}" } }] }]\n',
      'users.csv': csv,
    });
    const r = await runCli(['import', 'artillery', 'a1.yml', '-o', 'users.csv'], { cwd: dir });
    expect(r).toMatchObject({ code: ExitCode.usage, stdout: '' });
    expect(r.stderr).toBe('scalectl: --out users.csv: that is a payload file of the script\n');
    expect(await readFile(join(dir, 'users.csv'), 'utf8')).toBe(csv);
  });

  it('validate (and run) say that an Artillery file is one, and point to the importer', async () => {
    const dir = await tempFiles({});
    await copyFile(join(FIXTURES, 'cookies.yml'), join(dir, 'cookies.yml'));
    const r = await runCli(['validate', 'cookies.yml'], { cwd: dir });
    expect(r.code).toBe(ExitCode.invalidInput);
    expect(r.stderr).toBe('cookies.yml:1:1 config: this looks like an Artillery script (config, scenarios), not a scalectl scenario; translate it with: scalectl import artillery cookies.yml -o scenario.yaml\n1 of 1 scenario file invalid\n');
    const run = await runCli(['run', 'cookies.yml'], { cwd: dir });
    expect(run.code).toBe(ExitCode.invalidInput);
    expect(run.stderr).toMatch(/^cookies\.yml:1:1 config: this looks like an Artillery script .*scalectl import artillery cookies\.yml/m);
    // The path as given, not its base name: the command to copy works from here.
    await mkdir(join(dir, 'load'));
    await copyFile(join(FIXTURES, 'cookies.yml'), join(dir, 'load', 'cookies.yml'));
    expect((await runCli(['validate', 'load/cookies.yml'], { cwd: dir })).stderr).toMatch(/^load\/cookies\.yml:1:1 config: .*translate it with: scalectl import artillery load\/cookies\.yml -o scenario\.yaml\n/);
    await writeFile(join(dir, 'x.yaml'), 'name: x\nconfig: {}\n');
    expect((await runCli(['validate', 'x.yaml'], { cwd: dir })).stderr).not.toMatch(/Artillery/);
  });
});

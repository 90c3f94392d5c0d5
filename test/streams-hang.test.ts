import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunResult } from '../src/analyzers/run-result.js';
import { runBin, tempFiles } from './helpers/cli.js';
import { useTestServer } from './helpers/test-server.js';

const server = useTestServer();

/** A remote-write endpoint in its own process that accepts every request and never answers. */
let hanging: ChildProcess;
let hangUrl: string;
beforeAll(async () => {
  const code = `const s = require('node:http').createServer(() => {});
s.listen(0, '127.0.0.1', () => process.stdout.write(String(s.address().port) + '\\n'));`;
  hanging = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<string>((resolve, reject) => {
    hanging.stdout!.once('data', (d: Buffer) => resolve(d.toString().trim()));
    hanging.once('exit', (c) => reject(new Error(`hanging endpoint exited with ${c}`)));
  });
  hangUrl = `http://127.0.0.1:${port}/api/v1/write`;
});
afterAll(() => void hanging.kill());

describe('--stream prometheus-rw to an endpoint that never answers (the built bin)', () => {
  it('the run still prints its summary, writes --out and exits with its own code (4: a threshold failed)', async () => {
    const dir = await tempFiles({
      's.yaml': `
name: hang
target: ${server.url}
phases: [{ duration: 1s, arrivalRate: 20 }]
flows: [{ name: ok, steps: [{ name: ok, get: /status/200 }] }]
thresholds: ["error_rate < 0%"]
`,
    });
    const started = Date.now();
    const r = await runBin(['run', 's.yaml', '--out', 'r.json', '--no-progress', '--stream', `prometheus-rw=${hangUrl}`], { cwd: dir, timeoutMs: 40_000 });
    const ms = Date.now() - started;
    expect(r.stderr).not.toMatch(/internal error/);
    expect(r.code, r.stderr).toBe(4);
    expect(r.stdout + r.stderr).toMatch(/prometheus-rw http:\/\/127\.0\.0\.1:\d+\/api\/v1\/write: 0 s of samples sent/);
    const result = JSON.parse(await readFile(join(dir, 'r.json'), 'utf8')) as RunResult;
    expect(result.totals.requests).toBeGreaterThan(5);
    // 1 s of load, then at most the 5 s close bound (plus a busy machine's slack).
    expect(ms).toBeLessThan(1000 + 5000 + 8000);
  }, 45_000);
});

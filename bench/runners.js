// The two load generators the benchmark drives, one run at a time: scalectl as
// a child process (exactly as a user runs it) and autocannon through its
// programmatic API. Every run is bounded in time and stops on `signal`.
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';

const SCALECTL = fileURLToPath(new URL('../bin/scalectl.js', import.meta.url));

/**
 * The Node flags on bin/scalectl.js's `#!/usr/bin/env -S node ...` line: the
 * way `npx scalectl` runs it. The benchmark starts it with this Node binary
 * and these flags, so it measures what users run.
 */
export function scalectlNodeFlags() {
  const first = readFileSync(SCALECTL, 'utf8').split('\n', 1)[0];
  const m = /^#!\S*env(?: -S)? node(.*)$/.exec(first);
  return m ? m[1].trim().split(/\s+/).filter(Boolean) : [];
}
export { SCALECTL };
/** Time a scalectl run may take beyond its phase: start-up, workers, drain and the result file. */
const SCALECTL_SLACK_MS = 30_000;

let runSeq = 0;
/** Children running now, for a last-resort kill when the benchmark exits abruptly. */
const active = new Set();

/** Kills every child still running (synchronous: for process 'exit'). */
export function killChildren() {
  for (const child of active) child.kill('SIGKILL');
}

/**
 * The scenario YAML of one benchmark run: one phase, one flow of one GET. The
 * 2 s request deadline (default 10 s) only bounds how long a run whose
 * generator collapsed can take; a local target answers in milliseconds.
 * httpClient: the scenario's `defaults.httpClient` ('undici': the path before
 * issue 16), left out for the schema's default ('auto').
 */
export function scenarioYaml(name, target, phase, { maxInFlight, httpClient } = {}) {
  const fields = Object.entries(phase).map(([k, v]) => `${k}: ${v}`).join(', ');
  return [
    `name: ${name}`,
    `target: ${target}`,
    `defaults: { timeout: 2s${httpClient ? `, httpClient: ${httpClient}` : ''} }`,
    ...(maxInFlight ? [`maxInFlight: ${maxInFlight}`] : []),
    'phases:',
    `  - { ${fields} }`,
    'flows:',
    '  - name: get',
    '    steps:',
    '      - get: /',
    '',
  ].join('\n');
}

/** `cmd args` prefixed with `taskset -c <cpus>` when `cpus` (a list such as "0" or "0-2") is given. */
export function pinned(cpus, cmd, args) {
  return cpus ? ['taskset', ['-c', cpus, cmd, ...args]] : [cmd, args];
}

/**
 * Whether this build's scenario schema accepts `defaults.httpClient` (issue 16
 * adds it): `scalectl validate` on a scenario that sets it. Returns
 * { ok, message } (message: scalectl's first complaint when refused).
 */
export async function acceptsHttpClient(dir, target) {
  const yamlPath = join(dir, '00-validate-httpclient.yaml');
  await writeFile(yamlPath, scenarioYaml('bench-validate', target, { duration: '1s', vus: 1 }, { httpClient: 'undici' }));
  const { code, stdout, stderr } = await runChild(process.execPath, [...scalectlNodeFlags(), SCALECTL, 'validate', yamlPath], 30_000);
  return { ok: code === 0, message: `${stderr}${stdout}`.trim().split('\n').find((l) => l.includes('httpClient')) ?? `exit ${code}` };
}

const excerpt = (text, head, tail) => {
  const lines = text.trim().split('\n');
  return lines.length <= head + tail ? lines.join('\n') : [...lines.slice(0, head), '  ...', ...lines.slice(-tail)].join('\n');
};

/**
 * Runs `scalectl run` in a child process and returns { result, exitCode }:
 * its RunResult (the --out JSON) and how it exited. A run that exits non-zero
 * but wrote its results still counts (the exit code is reported); one that
 * wrote nothing throws. Its stdout and stderr are kept next to the scenario.
 * phase: e.g. { duration: '5s', vus: 50 } or { duration: '5s', arrivalRate: 1000 }.
 * httpClient: see scenarioYaml; cpus: run it under `taskset -c cpus`.
 */
export async function runScalectl({ dir, name, target, phase, workers, maxInFlight, httpClient, cpus, durationSec, signal }) {
  const id = `${String(++runSeq).padStart(2, '0')}-${name}`;
  const yamlPath = join(dir, `${id}.yaml`);
  const outPath = join(dir, `${id}.json`);
  await writeFile(yamlPath, scenarioYaml(`bench-${name}`, target, phase, { maxInFlight, httpClient }));
  const args = [...scalectlNodeFlags(), SCALECTL, 'run', yamlPath, '--out', outPath, '--no-progress', '--workers', String(workers)];
  const { code, stderr, stdout } = await runChild(...pinned(cpus, process.execPath, args), durationSec * 1000 + SCALECTL_SLACK_MS, signal);
  await writeFile(join(dir, `${id}.stdout`), stdout);
  await writeFile(join(dir, `${id}.stderr`), stderr);
  let result;
  try {
    result = JSON.parse(await readFile(outPath, 'utf8'));
  } catch {
    throw new Error(`scalectl run (${name}, --workers ${workers}) exited ${code} and wrote no results; stderr:\n${excerpt(stderr, 8, 4)}`);
  }
  return { result, exitCode: code };
}

/** Spawns a child, collects its output, kills it after `timeoutMs` or on abort (SIGINT, then SIGKILL). */
export function runChild(cmd, args, timeoutMs, signal) {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    active.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    let hardKill;
    const stop = (why) => {
      stderr += `\n[bench] ${why}`;
      child.kill('SIGINT');
      hardKill ??= setTimeout(() => child.kill('SIGKILL'), 3_000);
    };
    const timer = setTimeout(() => stop(`killed after ${timeoutMs} ms`), timeoutMs);
    const onAbort = () => stop('stopped by a signal');
    signal?.addEventListener('abort', onAbort, { once: true });
    child.once('error', reject);
    child.once('close', (code, sig) => {
      active.delete(child);
      clearTimeout(timer);
      clearTimeout(hardKill);
      signal?.removeEventListener('abort', onAbort);
      if (signal?.aborted) reject(signal.reason);
      else resolve({ code: code ?? sig, stdout, stderr });
    });
  });
}

/**
 * Pins every thread of this process to `cpus` (`taskset -a -p -c`); threads
 * started later inherit it. Returns a function that restores the previous set.
 */
function pinSelf(cpus) {
  const before = execFileSync('taskset', ['-p', '-c', String(process.pid)], { encoding: 'utf8' }).trim().split(': ').pop();
  const set = (list) => execFileSync('taskset', ['-a', '-p', '-c', list, String(process.pid)], { stdio: 'ignore' });
  set(cpus);
  // Restoring: a thread that exits while taskset walks the list (autocannon's workers end then) fails the
  // whole call; try again, and at worst set the main thread alone (threads started later inherit it).
  return () => {
    for (let i = 0; i < 3; i++) {
      try {
        set(before);
        return;
      } catch { /* a thread went away meanwhile */ }
    }
    try {
      execFileSync('taskset', ['-p', '-c', before, String(process.pid)], { stdio: 'ignore' });
    } catch (err) {
      console.error(`bench: could not restore this process's CPUs to ${before}: ${err.message.split('\n')[0]}`);
    }
  };
}

/**
 * Runs autocannon in this process (worker threads when workers > 1) and
 * returns its result, plus `cpuMs`: CPU time this process used meanwhile.
 * Its `connections` are split across its workers. cpus: pin this process
 * (every thread) to them for the run.
 */
export async function runAutocannon({ url, connections, durationSec, workers, cpus, signal }) {
  if (signal?.aborted) throw signal.reason;
  const unpin = cpus ? pinSelf(cpus) : undefined;
  let onAbort;
  try {
    const instance = autocannon({
      url,
      connections,
      duration: durationSec,
      pipelining: 1,
      ...(workers > 1 ? { workers } : {}),
    });
    // On abort, reject at once: in worker mode (autocannon 8) stop() tells the
    // workers to stop but the instance never settles. The workers die with the
    // process (the benchmark exits on an interrupt).
    const aborted = new Promise((_, reject) => {
      onAbort = () => {
        try { instance.stop?.(); } catch { /* stopping is best effort */ }
        reject(signal.reason);
      };
    });
    signal?.addEventListener('abort', onAbort, { once: true });
    // Process-wide (all threads): this process does nothing else meanwhile.
    const cpuBefore = process.cpuUsage();
    const result = await Promise.race([instance, aborted]);
    if (signal?.aborted) throw signal.reason;
    const cpu = process.cpuUsage(cpuBefore);
    return { ...result, cpuMs: (cpu.user + cpu.system) / 1000 };
  } finally {
    if (onAbort) signal?.removeEventListener('abort', onAbort);
    unpin?.();
  }
}

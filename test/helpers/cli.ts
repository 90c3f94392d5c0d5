import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readFile } from 'node:fs/promises';
import { main } from '../../src/cli.js';
import { tempFiles } from './temp-folders.js';
import type { RunResult } from '../../src/analyzers/run-result.js';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI in-process through main(), capturing its output. */
export async function runCli(argv: string[], opts: { cwd?: string; env?: Record<string, string>; signal?: AbortSignal } = {}): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, {
    stdout: { write: (s: string) => (stdout += s), isTTY: false },
    stderr: { write: (s: string) => (stderr += s), isTTY: false },
    env: opts.env ?? {},
    cwd: opts.cwd ?? process.cwd(),
    signal: opts.signal ?? new AbortController().signal,
  });
  return { code, stdout, stderr };
}

export const BIN = fileURLToPath(new URL('../../bin/scalectl.js', import.meta.url));

/** Runs the built bin/scalectl.js in a child process. `onStderr` sees stderr as it arrives. */
export function runBin(argv: string[], opts: { cwd?: string; onStderr?: (all: string, child: ReturnType<typeof spawn>) => void; timeoutMs?: number } = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...argv], { cwd: opts.cwd, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`scalectl ${argv.join(' ')} did not exit within ${opts.timeoutMs ?? 60_000} ms\nstderr: ${stderr}`));
    }, opts.timeoutMs ?? 60_000);
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      opts.onStderr?.(stderr, child);
    });
    child.on('exit', (code, sig) => {
      clearTimeout(timer);
      resolve({ code: code ?? (sig ? 128 : -1), stdout, stderr });
    });
  });
}

export { tempFiles };

/**
 * Writes a scenario (and any data files) to a temporary folder, runs it
 * in-process with --out, and returns the exit code, output and RunResult.
 */
export async function runScenario(
  yaml: string,
  opts: { files?: Record<string, string>; env?: Record<string, string>; args?: string[]; signal?: AbortSignal } = {},
): Promise<CliRun & { result: RunResult }> {
  const dir = await tempFiles({ 's.yaml': yaml, ...opts.files });
  const out = join(dir, 'r.json');
  const r = await runCli(['run', 's.yaml', '--out', out, '--no-progress', ...(opts.args ?? [])], { cwd: dir, env: opts.env, signal: opts.signal });
  if (r.stderr.includes('internal error')) throw new Error(r.stderr);
  return { ...r, result: JSON.parse(await readFile(out, 'utf8')) as RunResult };
}

import { fork } from 'node:child_process';
import { mkdtemp, open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { referenceStackSettings } from './stack-config.js';

/** A reference stack started for one run. */
export interface ReferenceTarget {
  url: string;
  /** Where the stack's logs (JSON lines from every worker) go. */
  logFile: string;
  /** SIGTERM, then the stack drains; killed if it has not exited in time. */
  stop: () => Promise<void>;
}

/** How long the stack may take to come up (embedded PostgreSQL initdb, migrations, seed, workers). */
const STARTUP_TIMEOUT_MS = 120_000;

type ParentMessage = { type: 'ready'; url: string } | { type: 'failed'; message: string };

/**
 * `target: reference`: starts `scalectl stack up` as a child process on a
 * free loopback port and waits until it is ready. The child runs in its own
 * process group, so a terminal Ctrl-C reaches only the run, which then stops
 * the stack after its summary; if the run dies, the IPC channel closes and the
 * stack stops itself.
 */
export async function startReferenceTarget(stack: Record<string, unknown> | undefined, env: Readonly<Record<string, string | undefined>>): Promise<ReferenceTarget> {
  const bin = fileURLToPath(new URL('../../bin/scalectl.js', import.meta.url));
  const logFile = join(await mkdtemp(join(tmpdir(), 'scalectl-stack-')), 'stack.log');
  const log = await open(logFile, 'a');
  const child = fork(bin, ['stack', 'up', '--port', '0', '--host', '127.0.0.1'], {
    env: { ...env, SCALECTL_STACK_CONFIG: JSON.stringify(referenceStackSettings(stack, env)) },
    stdio: ['ignore', log.fd, log.fd, 'ipc'],
    detached: true,
  });
  await log.close();
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // Stopped the ordinary way, so embedded PostgreSQL and the workers go with it; killed only if that hangs.
  const terminate = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const kill = setTimeout(() => child.kill('SIGKILL'), 30_000);
    await exited;
    clearTimeout(kill);
  };

  let timer: NodeJS.Timeout | undefined;
  const url = await new Promise<string>((resolve, reject) => {
    const fail = (why: string): void => reject(new Error(`${why} (its log: ${logFile})`));
    child.on('message', (m: ParentMessage) => {
      if (m?.type === 'ready') resolve(m.url);
      if (m?.type === 'failed') fail(m.message);
    });
    child.once('exit', (code, signal) => fail(`it exited (${signal ?? `code ${code}`}) before it was ready`));
    child.once('error', (err) => fail(err.message));
    timer = setTimeout(() => fail(`it was not ready after ${STARTUP_TIMEOUT_MS / 1000} s`), STARTUP_TIMEOUT_MS);
  }).catch(async (err: unknown) => {
    await terminate();
    throw err;
  }).finally(() => clearTimeout(timer));

  let stopping: Promise<void> | undefined;
  return {
    url,
    logFile,
    stop: () => (stopping ??= terminate()),
  };
}

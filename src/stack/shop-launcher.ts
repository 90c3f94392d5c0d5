import { fork, type ChildProcess, type IOType } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ShopMessage } from './protocol.js';

/**
 * The shop's entry point, dist/stack/main.js: found from src/stack/ (tests
 * run the sources) and from dist/stack/ alike, so the build must exist.
 */
export const SHOP_MAIN = fileURLToPath(new URL('../../dist/stack/main.js', import.meta.url));

export interface LaunchShopOptions {
  /** Flags of the shop (`--port 0`, `--workers 2`). */
  args: string[];
  env: Readonly<Record<string, string | undefined>>;
  /** Where its stdout and stderr go: a file descriptor, or 'pipe' to read them from `child`. */
  output: number | IOType;
}

/** A shop process started by a parent, which talks to it over IPC. */
export interface LaunchedShop {
  child: ChildProcess;
  /** The shop's URL once it is ready; rejects with the reason when it could not start (it said why, or it exited first). */
  ready: Promise<string>;
  /** The reason, when it stopped on its own after it was ready (it exits 7 then). */
  stoppedWhy: () => string | undefined;
  /** Its exit code, or the signal that killed it. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM: the first one drains it, a second one makes it exit at once. */
  terminate: () => void;
  /** Gone (or never started)? */
  gone: () => boolean;
}

/**
 * Starts the shop's entry point as a child process in its own process group
 * (a terminal's Ctrl-C reaches only the parent, which relays what it wants
 * the shop to hear), with an IPC channel: the shop says when it is ready or
 * why it failed (ShopMessage), and stops itself when the channel closes
 * (its parent died).
 */
export function launchShop(opts: LaunchShopOptions): LaunchedShop {
  if (!existsSync(SHOP_MAIN)) throw new Error(`the shop's entry point ${SHOP_MAIN} is missing: build it first (npm run build)`);
  const child = fork(SHOP_MAIN, opts.args, {
    env: opts.env as NodeJS.ProcessEnv,
    stdio: ['ignore', opts.output, opts.output, 'ipc'],
    detached: true,
  });
  let stopped: string | undefined;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const ready = new Promise<string>((resolve, reject) => {
    child.on('message', (m: ShopMessage) => {
      if (m?.type === 'ready') resolve(m.url);
      if (m?.type === 'failed') reject(new Error(m.message));
      if (m?.type === 'stopped') stopped = m.message;
    });
    child.once('error', (err) => reject(err));
    void exited.then(({ code, signal }) => reject(new Error(`it exited (${signal ?? `code ${code}`}) before it was ready`)));
  });
  // Whoever does not wait for readiness must not see an unhandled rejection.
  ready.catch(() => undefined);
  const gone = (): boolean => child.exitCode !== null || child.signalCode !== null || child.pid === undefined;
  return {
    child,
    ready,
    stoppedWhy: () => stopped,
    exited,
    terminate: () => {
      if (!gone()) child.kill('SIGTERM');
    },
    gone,
  };
}

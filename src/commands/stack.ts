import { ExitCode, usageError, UserError } from '../exit-codes.js';
import { startStack, type StackLog } from '../stack/cluster-primary.js';
import { resolveStackConfig } from '../stack/stack-config.js';
import type { CommandIO } from './io.js';

/** Set by `scalectl run` for its `target: reference` child: the scenario's `stack:` block, already validated. */
export const STACK_CONFIG_ENV = 'SCALECTL_STACK_CONFIG';

/** Messages to a parent `scalectl run` that started this stack. */
export type StackParentMessage = { type: 'ready'; url: string } | { type: 'failed'; message: string };

const LEVELS = { info: 30, warn: 40, error: 50 } as const;

/**
 * `scalectl stack up`: runs the reference shop in the foreground until
 * Ctrl-C/SIGTERM, then drains and exits 0 (7 when it stops because embedded
 * PostgreSQL died and could not be restarted). Logs are JSON lines on stdout
 * (pino's format, from every worker); the ready line and errors go to stderr.
 */
export async function stackUpCommand(flags: Record<string, unknown>, io: CommandIO): Promise<number> {
  const parsedJson = io.env[STACK_CONFIG_ENV];
  const parsed = parsedJson ? (JSON.parse(parsedJson) as Record<string, unknown>) : undefined;
  const resolved = resolveStackConfig({ flags, parsed, env: io.env });
  if (!resolved.ok) throw usageError(`stack settings:\n  ${resolved.problems.join('\n  ')}`);
  const config = resolved.config;
  const log: StackLog = (level, msg, fields) => {
    if (config.logLevel === 'silent' || LEVELS[level] < (LEVELS[config.logLevel as keyof typeof LEVELS] ?? 0)) return;
    // "role" says which process wrote the line (primary, web, consumer); the role a line is about is "processRole".
    const { role, ...rest } = fields ?? {};
    io.stdout.write(JSON.stringify({ level: LEVELS[level], time: Date.now(), role: 'primary', msg, ...(role === undefined ? {} : { processRole: role }), ...rest }) + '\n');
  };

  // Listen for the parent (`scalectl run`) from the start: if it dies while the stack starts, stop as soon as it is up.
  let parentGone = false;
  let onParentGone = (): void => undefined;
  io.ipc?.onDisconnect(() => {
    parentGone = true;
    onParentGone();
  });
  const plural = (n: number, what: string): string => `${n} ${what}${n === 1 ? '' : 's'}`;
  io.stderr.write(`starting the reference stack: ${plural(config.workers, 'worker')}, ${plural(config.consumers, 'consumer')}, ${config.backends} backends${config.autoscale ? ', autoscaling' : ''}\n`);
  let stack;
  try {
    stack = await startStack(config, log);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    io.ipc?.send({ type: 'failed', message } satisfies StackParentMessage);
    throw new UserError(`the reference stack could not start: ${message}`, ExitCode.stackFailed);
  }
  io.stderr.write(`reference stack ready at ${stack.url} (Ctrl-C stops it)\n`);
  io.ipc?.send({ type: 'ready', url: stack.url } satisfies StackParentMessage);

  let failure: Error | undefined;
  await new Promise<void>((resolve) => {
    if (io.signal.aborted || parentGone) return resolve();
    io.signal.addEventListener('abort', () => resolve(), { once: true });
    // Started by `scalectl run`, which has gone away: stop with it.
    onParentGone = resolve;
    // Its database is gone for good: stop rather than answer 503 forever.
    void stack.failed.then((err) => {
      failure = err;
      resolve();
    });
  });
  io.stderr.write('stopping the reference stack: draining requests and jobs\n');
  await stack.stop();
  io.stderr.write('reference stack stopped\n');
  if (failure) throw new UserError(`the reference stack stopped: ${failure.message}`, ExitCode.stackFailed);
  return ExitCode.ok;
}

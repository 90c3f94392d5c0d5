import { ExitCode, usageError, UserError } from '../exit-codes.js';
import { launchShop, resolveStackConfig, stackConfigFromEnv, type LaunchedShop } from '../stack/contract.js';
import type { CommandIO } from './io.js';

const kebab = (key: string): string => key.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());

/**
 * `scalectl stack up`: runs the reference shop (its own entry point,
 * dist/stack/main.js) in the foreground until Ctrl-C/SIGTERM, then it drains
 * and this exits 0 (7 when it stops because embedded PostgreSQL died and
 * could not be restarted). The settings are checked here first, so that a
 * mistake reads like any other usage error. The shop's logs (JSON lines) pass
 * through to stdout, its progress lines to stderr; each signal this process
 * gets is relayed to the shop as one SIGTERM (the second makes it exit at
 * once, as this process does).
 */
export async function stackUpCommand(flags: Record<string, unknown>, io: CommandIO): Promise<number> {
  const fromParent = stackConfigFromEnv(io.env);
  if (!fromParent.ok) throw usageError(fromParent.problem);
  const resolved = resolveStackConfig({ flags, parsed: fromParent.parsed, env: io.env });
  if (!resolved.ok) throw usageError(`stack settings:\n  ${resolved.problems.join('\n  ')}`);

  const args = Object.entries(flags).filter(([, v]) => v !== undefined).flatMap(([k, v]) => [`--${kebab(k)}`, String(v)]);
  let shop: LaunchedShop;
  try {
    shop = launchShop({ args, env: io.env, output: 'pipe' });
  } catch (err) {
    throw new UserError(`the reference stack could not start: ${err instanceof Error ? err.message : String(err)}`, ExitCode.stackFailed);
  }
  const closed = new Promise<void>((resolve) => shop.child.once('close', () => resolve()));
  for (const [from, to] of [[shop.child.stdout, io.stdout], [shop.child.stderr, io.stderr]] as const) {
    from?.setEncoding('utf8');
    from?.on('data', (text: string) => to.write(text));
  }
  const relay = (): void => shop.terminate();
  io.signal.addEventListener('abort', relay, { once: true });
  if (io.signal.aborted) relay();
  io.onForcedExit?.(relay);

  const startFailure = await shop.ready.then(() => undefined, (err: unknown) => (err instanceof Error ? err.message : String(err)));
  const { code, signal } = await shop.exited;
  // Its last lines too ("reference stack stopped"): the pipes close after the exit.
  await closed;
  if (startFailure !== undefined) throw new UserError(`the reference stack could not start: ${startFailure}`, ExitCode.stackFailed);
  const stopped = shop.stoppedWhy();
  if (stopped !== undefined) throw new UserError(`the reference stack stopped: ${stopped}`, ExitCode.stackFailed);
  if (signal !== null) throw new UserError(`the reference stack was killed (${signal})`, ExitCode.stackFailed);
  return code ?? ExitCode.internal;
}

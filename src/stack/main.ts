import { parseArgs } from 'node:util';
import { startStack, type RunningStack, type StackLog } from './cluster-primary.js';
import { killEmbeddedPostgresNow } from './embedded-postgres.js';
import { SHOP_EXIT, type ShopMessage } from './protocol.js';
import { knobEnvName, resolveStackConfig, stackConfigFromEnv, stackConfigSchema, type StackConfig } from './stack-config.js';

/*
 * The shop's entry point: `node dist/stack/main.js [--workers 2 --port 0 ...]`,
 * with SHOP_* variables, DATABASE_URL and REDIS_URL (docs/reference-stack.md).
 * The image's command, and what `scalectl stack up` and `target: reference`
 * start. Like src/cli.ts for the tool, it is the one file of the primary
 * that touches `process`. Started by a parent with an IPC channel, it tells
 * the parent when it is ready or why it failed (protocol.ts), leaves saying
 * so and acknowledging signals to the parent, and stops when the parent goes.
 */

const kebab = (key: string): string => key.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
const LEVELS = { info: 30, warn: 40, error: 50 } as const;
const alone = !process.send;
const say = (line: string): void => void process.stderr.write(line + '\n');
const tell = (m: ShopMessage): void => {
  if (process.connected && process.send) process.send(m);
};

function usage(): string {
  const lines = Object.entries(stackConfigSchema.shape).map(([key, schema]) =>
    `  --${kebab(key)} <value>  (${knobEnvName(key)})  ${(schema.meta()?.description as string | undefined) ?? ''}`);
  return `usage: node dist/stack/main.js [flags]\nEvery flag is also an environment variable; flags win (docs/reference-stack.md#knobs).\n${lines.join('\n')}\n`;
}

/** The settings from the flags, the parent's `stack:` block (STACK_CONFIG_ENV) and the environment; exits 2 listing every problem. */
function settings(): StackConfig | undefined {
  const options = Object.fromEntries(Object.keys(stackConfigSchema.shape).map((k) => [kebab(k), { type: 'string' as const }]));
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({ args: process.argv.slice(2), options: { ...options, help: { type: 'boolean' } }, strict: true, allowPositionals: false }));
  } catch (err) {
    say(`shop: ${err instanceof Error ? err.message : String(err)} (--help lists the flags)`);
    return undefined;
  }
  if (values.help) {
    process.stdout.write(usage());
    process.exit(SHOP_EXIT.ok);
  }
  const flags = Object.fromEntries(Object.keys(stackConfigSchema.shape).map((k) => [k, values[kebab(k)]]).filter(([, v]) => v !== undefined));
  const fromParent = stackConfigFromEnv(process.env);
  if (!fromParent.ok) {
    say(`shop: ${fromParent.problem}`);
    return undefined;
  }
  const resolved = resolveStackConfig({ flags, parsed: fromParent.parsed, env: process.env });
  if (resolved.ok) return resolved.config;
  say(`shop: stack settings:\n  ${resolved.problems.join('\n  ')}`);
  return undefined;
}

/** JSON lines on stdout (pino's format), like every worker's; "role" says which process wrote the line, "processRole" the role a line is about. */
function logger(config: StackConfig): StackLog {
  return (level, msg, fields) => {
    if (config.logLevel === 'silent' || LEVELS[level] < (LEVELS[config.logLevel as keyof typeof LEVELS] ?? 0)) return;
    const { role, ...rest } = fields ?? {};
    process.stdout.write(JSON.stringify({ level: LEVELS[level], time: Date.now(), role: 'primary', msg, ...(role === undefined ? {} : { processRole: role }), ...rest }) + '\n');
  };
}

function describe(c: StackConfig): string {
  const plural = (n: number, what: string): string => `${n} ${what}${n === 1 ? '' : 's'}`;
  const parts = [
    ...(c.role === 'consumer' ? [] : [plural(c.workers, 'worker')]),
    ...(c.role === 'web' ? [] : [plural(c.consumers, 'consumer')]),
    `${c.backends} backends`,
    ...(c.role === 'all' ? [] : [`role ${c.role}`]),
    ...(c.autoscale ? ['autoscaling'] : []),
  ];
  return parts.join(', ');
}

/** Runs the shop until a signal, its parent going away, or its database dying for good; returns the exit code. */
async function serve(config: StackConfig): Promise<number> {
  const log = logger(config);
  let stopRequested = false;
  let wake = (): void => undefined;
  const onSignal = (sig: NodeJS.Signals): void => {
    if (stopRequested) {
      if (alone) say(`\nshop: second ${sig}, exiting now`);
      killEmbeddedPostgresNow();
      process.exit(SHOP_EXIT.forcedExit);
    }
    if (alone) say(`\nshop: ${sig} received, stopping gracefully (press Ctrl-C again to exit at once)`);
    stopRequested = true;
    wake();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // The parent (`scalectl run` or `stack up`) died: stop with it, as soon as the stack is up if it is starting.
  process.on('disconnect', () => {
    stopRequested = true;
    wake();
  });

  say(`starting the reference stack: ${describe(config)}`);
  let stack: RunningStack;
  try {
    stack = await startStack(config, log);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    log('error', `the reference stack could not start: ${message}`);
    if (alone) say(`shop: the reference stack could not start: ${message}`);
    tell({ type: 'failed', message });
    return SHOP_EXIT.stackFailed;
  }
  say(`reference stack ready at ${stack.url} (Ctrl-C stops it)`);
  tell({ type: 'ready', url: stack.url });

  let failure: Error | undefined;
  await new Promise<void>((resolve) => {
    if (stopRequested) return resolve();
    wake = resolve;
    // Its database is gone for good: stop rather than answer 503 forever.
    void stack.failed.then((err) => {
      failure = err;
      resolve();
    });
  });
  say('stopping the reference stack: draining requests and jobs');
  await stack.stop();
  say('reference stack stopped');
  if (!failure) return SHOP_EXIT.ok;
  if (alone) say(`shop: the reference stack stopped: ${failure.message}`);
  tell({ type: 'stopped', message: failure.message });
  return SHOP_EXIT.stackFailed;
}

// A reader that went away (`stack up | tee log`, then Ctrl-C) must not crash the drain: what is written is lost, the work goes on.
for (const stream of [process.stdout, process.stderr]) stream.on('error', () => undefined);
const config = settings();
if (!config) {
  process.exitCode = SHOP_EXIT.usage;
} else {
  serve(config).then(
    (code) => {
      process.exitCode = code;
      // Keep-alive sockets, timers and the IPC channel must not hold the process open once it has stopped.
      setTimeout(() => process.exit(), 500).unref();
    },
    (err: unknown) => {
      say(`shop: internal error (a bug; please report it):\n${err instanceof Error ? err.stack ?? err.message : String(err)}`);
      process.exit(SHOP_EXIT.internal);
    },
  );
}

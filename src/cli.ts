import { readFileSync } from 'node:fs';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { ExitCode, UserError } from './exit-codes.js';
import type { CommandIO } from './commands/io.js';
import { runCommand } from './commands/run.js';
import { validateCommand } from './commands/validate.js';
import { stackUpCommand } from './commands/stack.js';
import { killEmbeddedPostgresNow } from './stack/embedded-postgres.js';
import { stackConfigSchema } from './stack/stack-config.js';

const VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

function positiveInt(flag: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${flag} takes a whole number >= 1.`);
    return n;
  };
}

function buildProgram(io: CommandIO, setCode: (code: Promise<number>) => void): Command {
  const program = new Command('scalectl')
    .description('Load testing and capacity planning: open-model load, accurate latency, CI gates.')
    .version(VERSION)
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .showHelpAfterError('(run scalectl --help for usage)');

  program
    .command('run')
    .description('run a scenario against its target, print a summary, exit by its thresholds')
    .argument('<scenario>', 'scenario YAML file')
    .option('-o, --out <file>', 'write the RunResult JSON (docs/results.md) to this file')
    .addOption(new Option('-w, --workers <n>', 'engine worker threads; each takes an equal share of the schedule').argParser(positiveInt('--workers')).default(1))
    .addOption(new Option('--max-in-flight <n>', 'most iterations in flight at once (overrides the scenario)').argParser(positiveInt('--max-in-flight')))
    .addOption(new Option('--connections <n>', 'most connections per origin per worker (overrides defaults.connections)').argParser(positiveInt('--connections')))
    .option('-t, --target <url>', "override the scenario's target URL")
    .option('--no-progress', 'no live progress on stderr')
    .action((scenario: string, o: { out?: string; workers: number; maxInFlight?: number; connections?: number; target?: string; progress: boolean }) => {
      setCode(runCommand(scenario, o, io));
    });

  program
    .command('validate')
    .description('check scenario files without running them (exit 3 when any is invalid)')
    .argument('<scenarios...>', 'scenario YAML files')
    .action((files: string[]) => {
      setCode(validateCommand(files, io));
    });

  const stack = program.command('stack').description('the reference flash-sale shop (docs/reference-stack.md)');
  const up = stack
    .command('up')
    .description('run the reference shop in the foreground until Ctrl-C (then it drains and exits 0)');
  for (const [key, schema] of Object.entries(stackConfigSchema.shape)) {
    const flagName = key.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
    const arg = key === 'cache' ? '<on|off>' : key === 'backends' ? '<embedded|external>' : key === 'databaseUrl' || key === 'redisUrl' ? '<url>' : '<value>';
    const help = (schema.meta()?.description as string | undefined) ?? '';
    up.addOption(new Option(`--${flagName} ${arg}`, help));
  }
  up.action((flags: Record<string, unknown>) => {
    setCode(stackUpCommand(flags, io));
  });
  return program;
}

/** Runs the CLI in-process and returns its exit code (docs/exit-codes.md). */
export async function main(argv: string[], io: CommandIO): Promise<number> {
  let pending: Promise<number> | undefined;
  const program = buildProgram(io, (p) => (pending = p));
  if (argv.length === 0) {
    io.stderr.write(program.helpInformation());
    return ExitCode.usage;
  }
  try {
    await program.parseAsync(argv, { from: 'user' });
    return pending ? await pending : ExitCode.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      return err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help' ? ExitCode.ok : ExitCode.usage;
    }
    if (err instanceof UserError) {
      io.stderr.write(`scalectl: ${err.message}\n`);
      return err.exitCode;
    }
    io.stderr.write(`scalectl: internal error (a bug; please report it):\n${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    return ExitCode.internal;
  }
}

/**
 * The process entry point (bin/scalectl.js). The first SIGINT/SIGTERM stops
 * the run gracefully (summary printed, results written, exit 5); a second one
 * exits at once with 130.
 */
export function run(): void {
  const controller = new AbortController();
  const onSignal = (sig: NodeJS.Signals): void => {
    if (controller.signal.aborted) {
      process.stderr.write(`\nscalectl: second ${sig}, exiting now without writing results\n`);
      killEmbeddedPostgresNow();
      process.exit(ExitCode.forcedExit);
    }
    process.stderr.write(`\nscalectl: ${sig} received, stopping gracefully (press Ctrl-C again to exit at once)\n`);
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const ipc: CommandIO['ipc'] = process.send
    ? { send: (m) => { if (process.connected) process.send!(m); }, onDisconnect: (l) => (process.connected ? void process.once('disconnect', l) : l()) }
    : undefined;
  const io: CommandIO = { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd(), signal: controller.signal, ipc };
  main(process.argv.slice(2), io).then(
    (code) => {
      process.exitCode = code;
      // Keep-alive sockets and timers must not hold the process open once the work is done.
      setTimeout(() => process.exit(code), 500).unref();
    },
    (err: unknown) => {
      process.stderr.write(`scalectl: internal error: ${String(err)}\n`);
      process.exit(ExitCode.internal);
    },
  );
}

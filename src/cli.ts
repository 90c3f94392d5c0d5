import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Argument, Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { ExitCode, UserError } from './exit-codes.js';
import type { CommandIO } from './commands/io.js';
import { runCommand } from './commands/run.js';
import { validateCommand } from './commands/validate.js';
import { importArtilleryCommand } from './commands/import-artillery.js';
import { stackUpCommand } from './commands/stack.js';
import { capacityCommand } from './commands/capacity.js';
import { compareCommand, type CompareOptions } from './commands/compare.js';
import { reportCommand } from './commands/report.js';
import { mergeCommand, type MergeOptions } from './commands/merge.js';
import { DEFAULT_POD_STARTUP_MS, DEFAULT_WINDOWS_PER_STEP, type CapacityFlags } from './commands/capacity-options.js';
import { planErlangCommand, type PlanErlangOptions } from './commands/plan-erlang.js';
import { planUslCommand } from './commands/plan-usl.js';
import { completionCommand } from './commands/completion.js';
import { k8sJobCommand, type K8sJobOptions } from './commands/k8s-job.js';
import { K8S_JOB_DEFAULTS } from './reporters/k8s-job.js';
import { KUSTOMIZE_FILE } from './reporters/k8s.js';
import { COMPLETION_SHELLS } from './reporters/completion-scripts.js';
import { stackConfigSchema } from './stack/contract.js';
import { maxWorkers, WORKERS_PER_CORE } from './engine/run-load.js';
import { LOAD_LIMITS } from './scenarios/schema.js';
import { printable, printableLines } from './shared/printable.js';
import { osReason } from './commands/output-files.js';
import { addStreamSpec, parseStreamSpec, type StreamSpec } from './streams/stream-spec.js';
import { DEFAULT_BARRIER_TIMEOUT, MAX_SHARDS, parseBarrierTimeout, parseShard, parseStartAt } from './commands/shard-options.js';
import type { RunOptions } from './commands/run.js';
import { SHOP_DEPLOYMENTS } from './reporters/k8s.js';

const VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

function positiveInt(flag: string, max?: { limit: number; why: string }) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${flag} takes a whole number >= 1.`);
    if (max && n > max.limit) throw new InvalidArgumentError(`${flag} takes at most ${max.limit}: ${max.why}.`);
    return n;
  };
}

/** --workers: at most WORKERS_PER_CORE engine threads per core of this machine. */
const workersArg = positiveInt('--workers', {
  limit: maxWorkers(availableParallelism()),
  why: `${WORKERS_PER_CORE} engine threads per core of this machine (${availableParallelism()}); more only share the cores, and each takes memory. For more load, run several generators`,
});

const maxInFlightArg = positiveInt('--max-in-flight', {
  limit: LOAD_LIMITS.maxInFlight,
  why: "each iteration in flight holds a few KB of the generator's memory; for more, run several generators",
});

/** --stream, repeatable: each value checked as it is read (a bad kind or destination exits 2). */
function streamArg(value: string, previous: StreamSpec[] = []): StreamSpec[] {
  try {
    return addStreamSpec(previous, parseStreamSpec(value));
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message + '.');
  }
}

/** A flag value parsed by `parse`, whose Error message becomes the usage error (exit 2). */
function parsedBy<T>(parse: (value: string) => T) {
  return (value: string): T => {
    try {
      return parse(value);
    } catch (err) {
      throw new InvalidArgumentError((err as Error).message + '.');
    }
  };
}

/** `scalectl run`'s arguments and options, defined once: for the command itself and for k8s job's `-- <run flags>`. */
function runDefinition(cmd: Command): Command {
  return cmd
    .description('run a scenario against its target, print a summary, exit by its thresholds')
    .argument('<scenario>', 'scenario YAML file')
    .option('-o, --out <file>', 'write the RunResult JSON (docs/results.md) to this file; - writes it to stdout after the summary, framed for log collection')
    .option('--junit <file>', 'write the thresholds as JUnit XML (one test case each; docs/ci.md)')
    .option('--summary-md <file>', 'write a Markdown summary, e.g. for $GITHUB_STEP_SUMMARY (docs/ci.md)')
    .option('--html <file>', 'write a self-contained HTML report (docs/reports.md)')
    .addOption(new Option('-w, --workers <n>', 'engine worker threads; each takes an equal share of the schedule').argParser(workersArg).default(1))
    .addOption(new Option('--max-in-flight <n>', 'most iterations in flight at once, over the whole run (overrides the scenario; each --shard takes its share)').argParser(maxInFlightArg))
    .addOption(new Option('--connections <n>', 'most connections per origin per worker (overrides defaults.connections)').argParser(positiveInt('--connections')))
    .option('-t, --target <url>', "override the scenario's target URL")
    .option('--no-progress', 'no live progress on stderr')
    .option('--insecure', 'skip verifying TLS certificates, of the target and of every other HTTPS host a step names (sets defaults.tls.insecure)')
    .addOption(new Option('--stream <kind=destination>', 'send each second live, repeatable: ndjson=<file> (a JSON line per second) or prometheus-rw=<url> (Prometheus remote write; docs/streaming.md)')
      .argParser(streamArg))
    .addOption(new Option('--shard <I/N>', 'run the I-th of N interleaved slices of the schedule (N processes together run it exactly; merge their results with scalectl merge)').argParser(parsedBy(parseShard)))
    .addOption(new Option('--start-at <when>', 'start the first phase at an ISO-8601 time (with its zone), epoch seconds or ms, or barrier:HOST:PORT (shard 1 listens, the others connect; all start together)').argParser(parsedBy(parseStartAt)))
    .addOption(new Option('--barrier-timeout <duration>', `how long shards wait at --start-at barrier:HOST:PORT before exit 10 (default ${DEFAULT_BARRIER_TIMEOUT})`).argParser(parsedBy(parseBarrierTimeout)));
}

/**
 * What `scalectl run` would make of these flags (k8s job's `-- <run flags>`,
 * which the pods get): a problem in one line (an unknown or misspelt flag,
 * a missing or bad value, a word that is no flag), or undefined.
 */
function runFlagsProblem(words: readonly string[]): string | undefined {
  const cmd = runDefinition(new Command('run'))
    .exitOverride()
    .configureOutput({ writeOut: () => undefined, writeErr: () => undefined })
    .action(() => undefined);
  try {
    cmd.parse(['scenario.yaml', ...words], { from: 'user' });
    return undefined;
  } catch (err) {
    if (!(err instanceof CommanderError)) throw err;
    if (err.code === 'commander.excessArguments') return `${cmd.args.slice(1).map((w) => printable(w, 80)).join(' ')}: not a run flag (the Job gives run its scenario)`;
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.help') return '--help: not a run flag for the pods (see scalectl run --help)';
    return err.message.replace(/^error: /, '').replace(/\s*\n\s*/g, ' ').trim();
  }
}

/** The commander program, its actions wired to `io` (exported for the completion tests). */
export function buildProgram(io: CommandIO, setCode: (code: Promise<number>) => void): Command {
  const program = new Command('scalectl')
    .description('Load testing and capacity planning: open-model load, accurate latency, CI gates.')
    .version(VERSION, '-v, --version', 'print the version')
    // -V, the flag commander gives by default, keeps working (hidden): scripts may use it.
    .addOption(new Option('-V').hideHelp())
    .on('option:V', () => {
      io.stdout.write(`${VERSION}\n`);
      throw new CommanderError(0, 'commander.version', VERSION);
    })
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .showHelpAfterError('(run scalectl --help for usage)');

  runDefinition(program.command('run'))
    .action((scenario: string, o: RunOptions) => {
      setCode(runCommand(scenario, o, io));
    });

  program
    .command('validate')
    .description('check scenario files without running them (exit 3 when any is invalid)')
    .argument('<scenarios...>', 'scenario YAML files')
    .action((files: string[]) => {
      setCode(validateCommand(files, io));
    });

  program
    .command('import')
    .description("translate another tool's script into a scenario (docs/migrating.md)")
    .command('artillery')
    .description('translate an Artillery script; what cannot be translated is listed on stderr (exit 9; 3 when not an Artillery script)')
    .argument('<script>', 'Artillery YAML script')
    .option('-o, --out <file>', 'write the scenario to this file (default: stdout)')
    .option('-e, --environment <name>', "translate with the settings of this entry of the script's config.environments, as artillery run -e does")
    .action((script: string, o: { out?: string; environment?: string }) => {
      setCode(importArtilleryCommand(script, o, io));
    });

  program
    .command('capacity')
    .description('find the knee (highest rate within the SLOs) at each replica count, fit a scalability model, recommend replicas and autoscaler settings (docs/capacity.md)')
    .argument('<scenario>', 'scenario YAML file (its flows are the traffic mix; its phases give the base and peak rates)')
    .option('-r, --replicas <list>', 'replica counts to measure, e.g. 1,2,3,4 (required unless --plan)')
    .option('--slo <expr>', 'a pass criterion in threshold syntax, e.g. "p99<200ms"; repeat for more (the scenario\'s thresholds apply too, unless --no-scenario-thresholds)', (v: string, prev: string[] = []) => [...prev, v])
    .option('--no-scenario-thresholds', "judge the steps by the --slo flags only, not the scenario's thresholds")
    .option('--peak-rps <n>', 'the peak to plan for, requests per second')
    .option('--surge <factor>', "the peak to plan for as a multiple of the base rate, e.g. 5x (default: the scenario's peak)")
    .option('--base-rate <n>', "iterations per second before the surge (default: the scenario's first arrivalRate)")
    .option('--headroom <pct>', 'spare capacity above the peak', '25%')
    .option('--precision <pct>', 'stop the search when the bracket is this narrow', '5%')
    .option('--warmup <duration>', 'warm-up at each rate, not judged', '5s')
    .option('--steady <duration>', 'one measured window at each rate', '15s')
    .option('--max-steady <duration>', `longest measurement at one rate: windows are added while the verdict is undecided (default ${DEFAULT_WINDOWS_PER_STEP} windows)`)
    .option('--start-rate <n>', 'first rate tried, iterations per second (default: the base rate)')
    .option('--max-rate <n>', 'never offer more than this, iterations per second', '100000')
    .option('-t, --target <url>', "override the scenario's target (then --scale-cmd resizes it)")
    .option('--scale-cmd <command>', 'shell command that resizes the target; {n} is the replica count, e.g. "kubectl scale deploy/api --replicas={n}"')
    .option('--ready-url <url>', 'after --scale-cmd, wait until this answers 2xx')
    .option('--ready-timeout <duration>', 'how long to wait for --ready-url', '5m')
    .option('--pod-startup <duration>', `pod scheduling + start-up time, for the HPA target and the surge simulation (default: the reference stack's podStartup for target: reference, else ${DEFAULT_POD_STARTUP_MS / 1000}s)`)
    .option('--consumers <n>', "queue consumer replicas while measuring, for the time per job (default: the reference stack's consumers for target: reference, else the web replica count)")
    .option('--ramp <duration>', "how long the surge takes to climb (default: the scenario's first ramp up, else 60s)")
    .option('--queue <name>', 'BullMQ queue of the order workers, for the KEDA trigger', 'orders')
    .option('--queue-prefix <prefix>', "BullMQ key prefix (default: what the target's metrics name, else the reference stack's <keyPrefix>:bull, else bull, unconfirmed)")
    .option('--redis-address <host:port>', "Redis for the KEDA trigger's address (default: addressFromEnv REDIS_ADDRESS, which the consumer container must define)")
    .option('--redis-tls', 'the KEDA trigger connects to Redis with TLS (enableTLS), for a rediss:// Redis')
    .option('--queue-wait <duration>', 'how long a job may wait in the queue, for the KEDA target', '30s')
    .option('--job-time <duration>', 'seconds per job per consumer replica; overrides the value measured from queue drains')
    .option('--deployment <name>', 'Deployment the HPA scales', SHOP_DEPLOYMENTS.web)
    .option('--consumer-deployment <name>', 'Deployment the KEDA ScaledObject scales', SHOP_DEPLOYMENTS.consumer)
    .option('-o, --out <file>', 'write capacity.json (docs/capacity.md); rewritten after every replica count')
    .option('--emit-k8s <dir>', `write hpa.yaml, keda-scaledobject.yaml and ${KUSTOMIZE_FILE} (a kustomize Component of them) here; not into a directory that holds a kustomization of its own`)
    .option('--html <file>', 'write a self-contained HTML capacity report (docs/reports.md)')
    .option('--verify', "replay the scenario's phases against the target running the recommended autoscaler and compare with the surge prediction; exit 4 when the SLOs broke during the surge")
    .option('--apply-cmd <command>', 'with --verify, for a target other than the reference stack: shell command that puts the recommended autoscaler in place, e.g. "kubectl apply -f k8s/" (then --ready-url)')
    .option('--plan <capacity.json>', 'with --verify: verify this saved plan instead of measuring')
    .addOption(new Option('-w, --workers <n>', 'engine worker threads').argParser(workersArg).default(1))
    .action((scenario: string, o: CapacityFlags) => {
      setCode(capacityCommand(scenario, o, io));
    });

  program
    .command('compare')
    .description('compare two runs side by side per endpoint; exit 4 when a --max-regression limit is crossed (docs/ci.md)')
    .argument('<baseline>', 'RunResult JSON of the baseline run')
    .argument('<current>', 'RunResult JSON of the run to check')
    .option('--max-regression <limits>', 'e.g. "p99=10%,error_rate=0.5pp,rps=-5%": how much worse each may get')
    .option('--junit <file>', 'write the regression checks as JUnit XML')
    .action((baseline: string, current: string, o: CompareOptions) => {
      setCode(compareCommand(baseline, current, o, io));
    });

  program
    .command('merge')
    .description("merge the results of a run's shards (run --shard I/N) into one result, judge its thresholds, exit like run (docs/results.md#merged-results)")
    .argument('<shards...>', 'shard RunResult JSON files, logs holding framed results (run --out -), or - for standard input (kubectl logs -l job-name=<job> --prefix)')
    .option('-o, --out <file>', 'write the merged RunResult JSON to this file')
    .option('--junit <file>', 'write the thresholds as JUnit XML')
    .option('--summary-md <file>', 'write a Markdown summary')
    .option('--html <file>', 'write a self-contained HTML report')
    .action((shards: string[], o: MergeOptions) => {
      setCode(mergeCommand(shards, o, io));
    });

  program
    .command('report')
    .description('render a saved run or capacity result as a self-contained HTML report (docs/reports.md)')
    .argument('<results>', 'RunResult JSON (run --out) or capacity.json (capacity --out)')
    .requiredOption('--html <file>', 'the HTML file to write')
    .action((results: string, o: { html: string }) => {
      setCode(reportCommand(results, o, io));
    });

  const plan = program.command('plan').description('capacity models from numbers you already have (docs/capacity.md)');
  plan
    .command('usl')
    .description('fit the Universal Scalability Law to a CSV of concurrency,throughput')
    .requiredOption('-i, --input <file>', 'CSV with a header and columns concurrency,throughput')
    .option('--json', 'print one JSON object')
    .action((o: { input: string; json?: boolean }) => {
      setCode(planUslCommand(o, io));
    });
  plan
    .command('erlang')
    .description('servers needed for an M/M/c queue (Erlang C): a wait target or a response-time percentile')
    .option('--arrival-rate <r>', 'arrivals per second')
    .option('--service-time <s>', 'mean service time: seconds or with a unit (180s, 20ms)')
    .option('--target-wait <w>', 'with --service-level: the wait target (20s)')
    .option('--service-level <p>', 'with --target-wait: share answered within it (80% or 0.8)')
    .option('--latency-slo <l>', 'with --percentile: response time limit (200ms)')
    .option('--percentile <q>', 'with --latency-slo: p99, 99% or 0.99')
    .option('--json', 'print one JSON object')
    .action((o: PlanErlangOptions) => {
      setCode(planErlangCommand(o, io));
    });

  program
    .command('k8s')
    .description('Kubernetes manifests for distributed runs (docs/distributed.md)')
    .command('job')
    .description('write a ConfigMap, headless Service and Indexed Job that run the scenario as N shards started together; collect with kubectl logs ... | scalectl merge -')
    .argument('<scenario>', 'scenario YAML file (validated first; its data files go into the ConfigMap)')
    .argument('[run-flags...]', 'after --: more scalectl run flags for every pod, e.g. -- --connections 64')
    .addOption(new Option('-p, --parallelism <n>', 'pods, one shard of the schedule each').argParser(positiveInt('--parallelism', { limit: MAX_SHARDS, why: 'the most shards one run takes' })).makeOptionMandatory())
    .option('--image <ref>', 'the scalectl image (deploy/scalectl/Dockerfile; default ghcr.io/scalectl/scalectl:<this version>)')
    .option('-n, --namespace <ns>', 'namespace of the objects (default: kubectl\'s current one)')
    .option('--name <name>', 'name of the Job, its Service and ConfigMap (default: scalectl-<scenario name>)')
    .option('-o, --out <dir>', 'write configmap.yaml, service.yaml and job.yaml here (default: one YAML stream on stdout)')
    .option('-t, --target <url>', "the target as the pods reach it, e.g. http://shop.<namespace>.svc (overrides the scenario's)")
    .addOption(new Option('-w, --workers <n>', 'engine worker threads per pod').argParser(positiveInt('--workers')))
    .option('--cpu <quantity>', `CPU request per pod (default: ${K8S_JOB_DEFAULTS.cpuPerWorker} per worker)`)
    .option('--memory <quantity>', 'memory request and limit per pod', K8S_JOB_DEFAULTS.memory)
    .option('--barrier-timeout <duration>', `how long the shards wait for each other at the start (run --barrier-timeout; default ${DEFAULT_BARRIER_TIMEOUT})`)
    .option('--env-secret <name>', "a Secret whose keys become the pods' environment, for the scenario's env.NAME")
    .action((scenario: string, runFlags: string[], o: K8sJobOptions) => {
      setCode(k8sJobCommand(scenario, runFlags, o, io, VERSION, runFlagsProblem));
    });

  program
    .command('completion')
    .description('print a shell completion script for bash, zsh or fish (README: Shell completion)')
    .addArgument(new Argument('<shell>', 'the shell').choices(COMPLETION_SHELLS))
    .action((shell: string) => {
      setCode(Promise.resolve(completionCommand(shell, program, io)));
    });

  const stack = program.command('stack').description('the reference flash-sale shop (docs/reference-stack.md)');
  const up = stack
    .command('up')
    .description('run the reference shop in the foreground until Ctrl-C (then it drains and exits 0)');
  for (const [key, schema] of Object.entries(stackConfigSchema.shape)) {
    const flagName = key.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
    const arg = key === 'cache' ? '<on|off>' : key === 'backends' ? '<embedded|external>' : key === 'role' ? '<all|web|consumer>' : key === 'databaseUrl' || key === 'redisUrl' ? '<url>' : '<value>';
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
      // A message may quote a name, a file name or a flag as given: escaped, line by line.
      io.stderr.write(`scalectl: ${printableLines(err.message)}\n`);
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
  const forcedExitHooks: (() => void)[] = [];
  const onSignal = (sig: NodeJS.Signals): void => {
    if (controller.signal.aborted) {
      process.stderr.write(`\nscalectl: second ${sig}, exiting now without writing results\n`);
      for (const hook of forcedExitHooks) hook();
      process.exit(ExitCode.forcedExit);
    }
    process.stderr.write(`\nscalectl: ${sig} received, stopping gracefully (press Ctrl-C again to exit at once)\n`);
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // A reader that went away (`stack up | tee log`, and the Ctrl-C ended tee too) must not crash us
  // mid-drain: what we write is lost, the work goes on and the exit code stays ours.
  for (const stream of [process.stdout, process.stderr]) stream.on('error', () => undefined);
  let stdoutFailure: NodeJS.ErrnoException | undefined;
  process.stdout.on('error', (err: NodeJS.ErrnoException) => (stdoutFailure ??= err));
  const io: CommandIO = { stdout: process.stdout, stderr: process.stderr, stdin: () => process.stdin, env: process.env, cwd: process.cwd(), signal: controller.signal, onForcedExit: (hook) => void forcedExitHooks.push(hook) };
  // A safety net: should the event loop run dry while main() still waits (a bug: something it awaits
  // hangs on nothing that keeps Node alive), Node would exit 0 with no summary; say so and fail instead.
  let settled = false;
  process.on('exit', (code) => {
    if (settled || code !== 0) return;
    process.stderr.write('scalectl: internal error (a bug; please report it): exited before the command finished\n');
    process.exitCode = ExitCode.internal;
  });
  main(process.argv.slice(2), io).then(
    (code) => {
      settled = true;
      process.exitCode = code;
      // Keep-alive sockets and timers must not hold the process open once the work is done.
      setTimeout(() => process.exit(), 500).unref();
      // Once what was written has gone out: output lost on its way to a file (ENOSPC, EIO) is said in one
      // line and turns a success into exit 8, as for output files; a reader that went away (EPIPE) is not.
      process.stdout.write('', (err) => {
        const failure = stdoutFailure ?? (err as NodeJS.ErrnoException | null | undefined);
        if (!failure || failure.code === 'EPIPE') return;
        process.stderr.write(`scalectl: could not write to standard output: ${osReason(failure)}\n`);
        if (code === ExitCode.ok) process.exitCode = ExitCode.outputFailed;
      });
    },
    (err: unknown) => {
      settled = true;
      process.stderr.write(`scalectl: internal error: ${String(err)}\n`);
      process.exit(ExitCode.internal);
    },
  );
}

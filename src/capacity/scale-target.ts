import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import { ExitCode, UserError } from '../exit-codes.js';
import { startReferenceTarget } from '../stack/contract.js';
import { maskCredentials } from '../shared/mask-credentials.js';
import { metricsEndpoint } from '../telemetry/telemetry-source.js';
import type { SurgePrediction } from './surge-types.js';

/** A target brought to a replica count. */
export interface ScaledTarget {
  url: string;
  /** Where its logs are, when scalectl started it. */
  logFile?: string;
  /** Stops what scalectl started (the reference stack); nothing for an external service. */
  stop: () => Promise<void>;
}

/** A resize that failed (exit 7); URLs in the message (the ready URL, the command and its output) have their credentials masked. */
const failed = (message: string): UserError => new UserError(maskCredentials(message), ExitCode.stackFailed);

/**
 * The reference stack with `replicas` workers: a fresh stack (new database)
 * for each count. Its autoscalers stay off while a knee is measured (a count
 * that changed under the load would measure nothing); `--verify` turns them on.
 */
export async function scaleReference(stack: Record<string, unknown> | undefined, replicas: number, env: Readonly<Record<string, string | undefined>>): Promise<ScaledTarget> {
  try {
    return await startReferenceTarget({ ...stack, workers: replicas, autoscale: false }, env);
  } catch (err) {
    throw failed(`the reference stack could not start with ${replicas} workers: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/**
 * Runs the --scale-cmd with `{n}` replaced (and REPLICAS set), failing on a
 * non-zero exit or after `timeoutMs`; Ctrl-C or the timeout sends SIGTERM to
 * the shell (which, for a single command, is that command).
 */
function runScaleCommand(command: string, replicas: number, opts: { env: Readonly<Record<string, string | undefined>>; cwd: string; signal: AbortSignal; timeoutMs: number }): Promise<void> {
  return runShell(command.replaceAll('{n}', String(replicas)), { ...opts, env: { ...opts.env, REPLICAS: String(replicas) }, label: '--scale-cmd' });
}

/** Runs a shell command, failing (exit 7) on a non-zero exit or after `timeoutMs`; Ctrl-C or the timeout sends SIGTERM to the shell. */
function runShell(cmd: string, opts: { env: Readonly<Record<string, string | undefined>>; cwd: string; signal: AbortSignal; timeoutMs: number; label: string }): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, { shell: true, cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let timedOut = false;
    const keep = (b: Buffer): void => void (output = (output + b.toString()).slice(-2000));
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const stop = (): void => void child.kill('SIGTERM');
    const onAbort = (): void => stop();
    opts.signal.addEventListener('abort', onAbort, { once: true });
    const timer = setTimeout(() => {
      timedOut = true;
      stop();
    }, opts.timeoutMs);
    const done = (): void => {
      clearTimeout(timer);
      opts.signal.removeEventListener('abort', onAbort);
    };
    child.once('error', (err) => {
      done();
      reject(failed(`${opts.label} "${cmd}" could not run: ${err.message}`));
    });
    // 'close', not 'exit': the output quoted below must be complete.
    child.once('close', (code, sig) => {
      done();
      if (code === 0 || opts.signal.aborted) return resolve();
      const why = timedOut ? `did not finish within ${Math.round(opts.timeoutMs / 1000)} s` : `failed (${sig ?? `exit ${code}`})`;
      reject(failed(`${opts.label} "${cmd}" ${why}: ${output.trim().split('\n').slice(-3).join(' | ') || 'no output'}`));
    });
  });
}

/** Polls `url` once a second until it answers 2xx (its `user:pass@` sent as HTTP Basic auth); fails after `timeoutMs`. */
async function waitReady(url: string, timeoutMs: number, signal: AbortSignal): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const at = metricsEndpoint(url);
  const headers = at.authorization === undefined ? {} : { authorization: at.authorization };
  let last = 'no answer yet';
  while (!signal.aborted) {
    try {
      const res = await request(at.url, { headers, headersTimeout: 5000, bodyTimeout: 5000, signal });
      await res.body.dump();
      if (res.statusCode >= 200 && res.statusCode < 300) return;
      last = `HTTP ${res.statusCode}`;
    } catch (err) {
      if (signal.aborted) return;
      last = err instanceof Error ? err.message : String(err);
    }
    if (Date.now() >= deadline) throw failed(`${at.shown} was not ready within ${Math.round(timeoutMs / 1000)} s after scaling (last: ${last})`);
    await sleep(Math.min(1000, Math.max(0, deadline - Date.now())), undefined, { signal }).catch(() => undefined);
  }
}

/** Any other service: run the scale command, then wait for its readiness URL. */
export async function scaleExternal(opts: {
  url: string; command: string; readyUrl: string; readyTimeoutMs: number; replicas: number;
  env: Readonly<Record<string, string | undefined>>; cwd: string; signal: AbortSignal;
}): Promise<ScaledTarget> {
  await runScaleCommand(opts.command, opts.replicas, { env: opts.env, cwd: opts.cwd, signal: opts.signal, timeoutMs: opts.readyTimeoutMs });
  await waitReady(opts.readyUrl, opts.readyTimeoutMs, opts.signal);
  return { url: opts.url, stop: () => Promise.resolve() };
}

/**
 * The reference stack's settings for `capacity --verify`: the scenario's
 * `stack:` block with the autoscalers the surge prediction simulated (its
 * `settings`: the plan's bounds, CPU target and request, the consumers'
 * listLength, and the timings), so that the replay runs what was predicted.
 * Web workers and consumers start at their minimum. Durations in ms, as a
 * validated `stack:` block holds them.
 */
export function autoscaledStackSettings(stack: Record<string, unknown> | undefined, surge: SurgePrediction, consumers?: number): Record<string, unknown> {
  const { autoscaler: a, web, consumer } = surge.settings;
  const settings: Record<string, unknown> = {
    ...stack, autoscale: true,
    workers: web.minReplicas, minWorkers: web.minReplicas, maxWorkers: web.maxReplicas,
    cpuTarget: Math.round(web.targetUtilization * 100),
    hpaSync: a.syncSec * 1000, hpaTolerance: a.tolerance, scaleDownWindow: a.scaleDownWindowSec * 1000,
    scaleUpPods: a.scaleUpPods, scaleUpPercent: a.scaleUpPercent, scaleUpPeriod: a.scaleUpPeriodSec * 1000,
    podStartup: a.podStartupSec * 1000, pollingInterval: a.pollingSec * 1000, cooldown: a.cooldownSec * 1000,
  };
  if (web.cpuRequestMillicores !== null) settings.cpuRequest = web.cpuRequestMillicores;
  if (consumer) {
    Object.assign(settings, { consumers: consumer.minReplicas, minConsumers: consumer.minReplicas, maxConsumers: consumer.maxReplicas, backlogTarget: consumer.listLength });
  } else if (consumers !== undefined) {
    // The queue was not sized, so no consumer scaling was simulated: they stay at the count measured with.
    Object.assign(settings, { consumers, minConsumers: consumers, maxConsumers: consumers });
  }
  return settings;
}

/** The reference stack running the plan's autoscalers (`capacity --verify`). */
export async function startAutoscaledReference(stack: Record<string, unknown> | undefined, surge: SurgePrediction, consumers: number | undefined, env: Readonly<Record<string, string | undefined>>): Promise<ScaledTarget> {
  try {
    return await startReferenceTarget(autoscaledStackSettings(stack, surge, consumers), env);
  } catch (err) {
    throw failed(`the reference stack could not start with the recommended autoscalers: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** Another target (`capacity --verify --apply-cmd`): runs the command that puts the autoscaler in place, then waits for the ready URL. */
export async function applyAndWait(opts: {
  url: string; command: string; readyUrl: string; readyTimeoutMs: number;
  env: Readonly<Record<string, string | undefined>>; cwd: string; signal: AbortSignal;
}): Promise<ScaledTarget> {
  await runShell(opts.command, { ...opts, label: '--apply-cmd', timeoutMs: opts.readyTimeoutMs });
  await waitReady(opts.readyUrl, opts.readyTimeoutMs, opts.signal);
  return { url: opts.url, stop: () => Promise.resolve() };
}

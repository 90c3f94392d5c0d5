import { mkdtemp, open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { maskCredentials } from '../shared/mask-credentials.js';
import { formatDuration } from '../shared/duration.js';
import { STACK_CONFIG_ENV } from './protocol.js';
import { launchShop } from './shop-launcher.js';
import { referenceStackSettings, resolveStackConfig, stackKnobs } from './stack-config.js';

/** The knobs a reference stack ran with: counts, flags, names, durations as text (`30s`); URLs with credentials masked. */
export type StackSettings = Record<string, string | number | boolean>;

/** A reference stack started for one run. */
export interface ReferenceTarget {
  url: string;
  /** What it ran with (the scenario's `stack:`, then SHOP_* variables, then defaults), for the results. */
  settings: StackSettings;
  /** Where the stack's logs (JSON lines from every worker) go. */
  logFile: string;
  /** SIGTERM, then the stack drains; killed if it has not exited in time. */
  stop: () => Promise<void>;
}

/** A knob whose schema reads `1s` as 1000 ms is a duration (derived from the one schema, not a second list). */
const isDurationKnob = (key: keyof typeof stackKnobs): boolean => stackKnobs[key].safeParse('1s').data === 1000;

/**
 * The settings the stack resolves from a scenario's `stack:` block and the
 * environment, the same way `stack up` does (src/stack/stack-config.ts), so
 * that a run records what it measured (`cache: off` shows afterwards).
 */
export function stackSettings(stack: Record<string, unknown> | undefined, env: Readonly<Record<string, string | undefined>>): StackSettings {
  const resolved = resolveStackConfig({ parsed: stack, env });
  if (!resolved.ok) return {};
  const out: StackSettings = {};
  for (const key of Object.keys(stackKnobs) as (keyof typeof stackKnobs)[]) {
    const v = resolved.config[key];
    if (v === undefined) continue;
    out[key] = typeof v === 'string' ? maskCredentials(v) : isDurationKnob(key) ? formatDuration(v as number) : v;
  }
  return out;
}

/** How long the stack may take to come up (embedded PostgreSQL initdb, migrations, seed, workers). */
const STARTUP_TIMEOUT_MS = 120_000;

/**
 * `target: reference`: starts the shop (dist/stack/main.js) as a child
 * process on a free loopback port and waits until it is ready. The child runs
 * in its own process group, so a terminal Ctrl-C reaches only the run, which
 * then stops the stack after its summary; if the run dies, the IPC channel
 * closes and the stack stops itself.
 */
export async function startReferenceTarget(stack: Record<string, unknown> | undefined, env: Readonly<Record<string, string | undefined>>): Promise<ReferenceTarget> {
  const logFile = join(await mkdtemp(join(tmpdir(), 'scalectl-stack-')), 'stack.log');
  const log = await open(logFile, 'a');
  // The settings it starts with are the ones it records (the reference target's own defaults included).
  const config = referenceStackSettings(stack, env);
  let shop;
  try {
    shop = launchShop({ args: ['--port', '0', '--host', '127.0.0.1'], env: { ...env, [STACK_CONFIG_ENV]: JSON.stringify(config) }, output: log.fd });
  } finally {
    await log.close();
  }
  // Stopped the ordinary way, so embedded PostgreSQL and the workers go with it; killed only if that hangs.
  const terminate = async (): Promise<void> => {
    if (shop.gone()) return;
    shop.terminate();
    const kill = setTimeout(() => shop.child.kill('SIGKILL'), 30_000);
    await shop.exited;
    clearTimeout(kill);
  };

  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`it was not ready after ${STARTUP_TIMEOUT_MS / 1000} s`)), STARTUP_TIMEOUT_MS);
  });
  const url = await Promise.race([shop.ready, timeout]).catch(async (err: unknown) => {
    await terminate();
    throw new Error(`${err instanceof Error ? err.message : String(err)} (its log: ${logFile})`);
  }).finally(() => clearTimeout(timer));

  let stopping: Promise<void> | undefined;
  return {
    url,
    settings: stackSettings(config, env),
    logFile,
    stop: () => (stopping ??= terminate()),
  };
}

import { epochNow } from '../engine/run-load.js';
import type { ProcessShard } from '../engine/shard-slice.js';
import { startBarrier } from '../engine/start-barrier.js';
import { ExitCode, usageError, UserError } from '../exit-codes.js';
import type { LoadedScenario } from '../scenarios/load-scenario.js';
import type { LoadData } from '../engine/run-load.js';
import type { ShardInfo } from '../analyzers/run-result.js';
import { formatDuration } from '../shared/duration.js';
import { pause } from '../shared/long-timeout.js';
import { DEFAULT_BARRIER_TIMEOUT_MS, type StartAt } from './shard-options.js';
import type { CommandIO } from './io.js';

/** How long before the start the run gets ready (worker threads, streams, progress), milliseconds. */
const PREPARE_MS = 1000;

/** A shard that started later than this after the agreed instant is warned about, milliseconds. */
const LATE_START_WARNING_MS = 1000;

/** The flags of a distributed run (`--shard`, `--start-at`, `--barrier-timeout`). */
export interface ShardFlags {
  shard?: ProcessShard;
  startAt?: StartAt;
  /** Milliseconds; only with a barrier. */
  barrierTimeout?: number;
}

/** Refuses (exit 2) what the flags cannot mean together, before any work. */
export function checkShardFlags(flags: ShardFlags): void {
  if (flags.startAt?.kind === 'barrier' && !flags.shard) throw usageError('--start-at barrier:HOST:PORT needs --shard I/N: the barrier waits for N shards');
  if (flags.barrierTimeout !== undefined && flags.startAt?.kind !== 'barrier') throw usageError('--barrier-timeout needs --start-at barrier:HOST:PORT');
}

/** Resolves at `epochMs` on this machine's clock, or at once on Ctrl-C. */
function sleepUntil(epochMs: number, signal: AbortSignal): Promise<void> {
  return pause(epochMs - epochNow(), signal);
}

/**
 * The instant the first phase starts (epoch ms), or undefined for at once:
 * the time given, or the one the barrier agreed on (called once the scenario
 * is loaded and the target probed). Waits until shortly before it; a Ctrl-C
 * meanwhile ends the run with exit 5 and no load sent.
 */
export async function agreeOnStart(flags: ShardFlags, loaded: LoadedScenario, io: CommandIO, say: (line: string) => void): Promise<number | undefined> {
  const { startAt, shard } = flags;
  if (!startAt) return undefined;
  const at = startAt.kind === 'time' ? startAt.epochMs : await startBarrier({
    host: startAt.host,
    port: startAt.port,
    shard: shard!,
    scenarioHash: loaded.hash,
    timeoutMs: flags.barrierTimeout ?? DEFAULT_BARRIER_TIMEOUT_MS,
    signal: io.signal,
    say,
    now: epochNow,
  });
  const wait = at - epochNow();
  if (wait > PREPARE_MS) say(`starting at ${new Date(at).toISOString()} (in ${formatDuration(wait)})`);
  await sleepUntil(at - PREPARE_MS, io.signal);
  if (io.signal.aborted) throw new UserError('stopped before the start; no load was sent', ExitCode.aborted);
  return at;
}

/** The result's `shard` key: this shard's place, its scenario's hash, and when it started against the agreed instant. */
export function shardInfoOf(shard: ProcessShard, loaded: LoadedScenario, data: LoadData, agreedStart: number | undefined): ShardInfo {
  return {
    index: shard.index + 1,
    count: shard.count,
    scenarioHash: loaded.hash,
    startAt: new Date(agreedStart ?? data.startedAt.getTime()).toISOString(),
    startLateMs: Math.round(data.startLateMs),
    workers: data.workers,
  };
}

/** A sentence when the first phase began more than a second after the agreed start (`--start-at`), else undefined. */
export function lateStartWarning(data: LoadData, agreedStart: number | undefined): string | undefined {
  if (agreedStart === undefined || data.startLateMs <= LATE_START_WARNING_MS) return undefined;
  return `the first phase began ${formatDuration(data.startLateMs)} after the agreed start (${new Date(agreedStart).toISOString()})`;
}

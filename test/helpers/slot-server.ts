import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Noise the slot server adds (test/helpers/slot-server.mjs says how each works). */
export interface SlotNoise {
  /** A share of answers, at random, takes tailMs longer. */
  tailShare?: number;
  tailMs?: number;
  /** Every stallEveryMs the service pauses stallMs. */
  stallEveryMs?: number;
  stallMs?: number;
  /** For coldMs after start and each resize, answers take coldFactor times longer. */
  coldMs?: number;
  coldFactor?: number;
  /** Only the first coldResizes resizes are cold; a later one ends any cold period still running. */
  coldResizes?: number;
  seed?: number;
}

/** test/helpers/slot-server.mjs in a child process: `slots` at a time, `serviceMs` each, with optional noise. */
export async function startSlotServer(slots: number, serviceMs: number, noise: SlotNoise = {}): Promise<{ url: string; close: () => Promise<void> }> {
  const env: Record<string, string> = { SLOTS: String(slots), SERVICE_MS: String(serviceMs) };
  const names: Record<keyof SlotNoise, string> = {
    tailShare: 'TAIL_SHARE', tailMs: 'TAIL_MS', stallEveryMs: 'STALL_EVERY_MS', stallMs: 'STALL_MS', coldMs: 'COLD_MS', coldFactor: 'COLD_FACTOR', coldResizes: 'COLD_RESIZES', seed: 'SEED',
  };
  for (const [k, v] of Object.entries(noise)) if (v !== undefined) env[names[k as keyof SlotNoise]] = String(v);
  const child = fork(fileURLToPath(new URL('./slot-server.mjs', import.meta.url)), [], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (m: { port: number }) => resolve(m.port));
    child.once('exit', (code) => reject(new Error(`slot server exited with ${code}`)));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill();
    }),
  };
}

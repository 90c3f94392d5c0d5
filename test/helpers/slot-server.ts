import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** test/helpers/slot-server.mjs in a child process: `slots` at a time, `serviceMs` each. */
export async function startSlotServer(slots: number, serviceMs: number): Promise<{ url: string; close: () => Promise<void> }> {
  const child = fork(fileURLToPath(new URL('./slot-server.mjs', import.meta.url)), [], {
    env: { ...process.env, SLOTS: String(slots), SERVICE_MS: String(serviceMs) },
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

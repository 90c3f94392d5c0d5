import { fork, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { fileURLToPath } from 'node:url';

export interface TestServer {
  url: string;
  /** Requests the server saw (not counting its /__ control paths) and TCP connections it accepted. */
  stats: () => Promise<{ count: number; paths: Record<string, number>; connections: number }>;
  reset: () => Promise<void>;
  /** After `afterMs`, the server blocks its event loop for `ms`. */
  armStall: (afterMs: number, ms: number) => Promise<void>;
  close: () => Promise<void>;
}

/** Starts test/helpers/test-server.mjs in a child process on 127.0.0.1, port 0. */
export async function startTestServer(): Promise<TestServer> {
  const child: ChildProcess = fork(fileURLToPath(new URL('./test-server.mjs', import.meta.url)), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (m: { port: number }) => resolve(m.port));
    child.once('exit', (code) => reject(new Error(`test server exited with ${code}`)));
  });
  const url = `http://127.0.0.1:${port}`;
  const call = async (method: string, path: string): Promise<unknown> => (await fetch(url + path, { method })).json();
  return {
    url,
    stats: () => call('GET', '/__stats') as Promise<{ count: number; paths: Record<string, number>; connections: number }>,
    reset: async () => void (await call('POST', '/__reset')),
    armStall: async (afterMs, ms) => void (await call('POST', `/__stall?after=${afterMs}&ms=${ms}`)),
    close: () => new Promise<void>((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill();
    }),
  };
}

/** A port on 127.0.0.1 that nothing listens on (opened on port 0, then closed). */
export async function closedPort(): Promise<number> {
  const { createServer } = await import('node:net');
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/**
 * One test server for a test file: started before its tests, reset before
 * each, stopped after. Read its properties inside tests (they exist once
 * beforeAll has run).
 */
export function useTestServer(): TestServer {
  let server: TestServer | undefined;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => server?.close());
  beforeEach(async () => server?.reset());
  const get = (): TestServer => {
    if (!server) throw new Error('the test server starts in beforeAll; use it inside tests');
    return server;
  };
  return {
    get url() {
      return get().url;
    },
    stats: () => get().stats(),
    reset: () => get().reset(),
    armStall: (afterMs, ms) => get().armStall(afterMs, ms),
    close: () => get().close(),
  };
}

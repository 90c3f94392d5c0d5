import { connect } from 'node:net';

/**
 * Opens (and closes) one TCP connection to the target before a run, so an
 * unreachable target is a one-line error instead of a run full of errors.
 * Resolves to undefined when reachable, else to the reason.
 */
export function probeTarget(target: string, timeoutMs = 3000): Promise<string | undefined> {
  const u = new URL(target);
  const port = Number(u.port || (u.protocol === 'https:' ? 443 : 80));
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (why: string | undefined): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(why);
    };
    const timer = setTimeout(() => done(`no connection to ${host}:${port} within ${timeoutMs} ms`), timeoutMs);
    socket.once('connect', () => done(undefined));
    socket.once('error', (err: NodeJS.ErrnoException) => done(`${err.code ?? 'error'} connecting to ${host}:${port}`));
  });
}

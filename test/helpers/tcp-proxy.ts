import { connect, createServer, type Socket } from 'node:net';

/** A loopback TCP proxy a test can cut and restore, to take a real server away and bring it back. */
export interface TcpProxy {
  port: number;
  /** Closes every connection and refuses new ones, as if the server had stopped. */
  cut: () => Promise<void>;
  /** Accepts connections again, on the same port. */
  restore: () => Promise<void>;
  close: () => Promise<void>;
}

export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(targetPort, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => { client.destroy(); upstream.destroy(); });
    }
    client.pipe(upstream).pipe(client);
  });
  const listen = (port: number) => new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => { server.off('error', reject); resolve(); });
  });
  await listen(0);
  const port = (server.address() as { port: number }).port;
  const stop = async () => {
    const closed = server.listening ? new Promise((r) => server.close(r)) : Promise.resolve();
    for (const s of sockets) s.destroy();
    await closed;
  };
  return { port, cut: stop, restore: () => listen(port), close: stop };
}

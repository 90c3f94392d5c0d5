import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A target on 127.0.0.1 (port 0) that also serves /metrics: `exposition(n)` answers the n-th scrape (from 0). */
export interface MetricsServer {
  /** The base URL: requests to any other path are answered `ok` and counted. */
  url: string;
  metricsUrl: string;
  scrapes: () => number;
  requests: () => number;
  close: () => Promise<void>;
}

/** Starts one: the exposition changes per scrape as `exposition` says, so counters grow and gauges move as a test scripts them. */
export async function startMetricsServer(exposition: (n: number) => string): Promise<MetricsServer> {
  let scrapes = 0;
  let requests = 0;
  const server = createServer((req, res) => {
    if (req.url !== '/metrics') {
      requests++;
      return res.end('ok');
    }
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
    res.end(exposition(scrapes++));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    metricsUrl: `${url}/metrics`,
    scrapes: () => scrapes,
    requests: () => requests,
    close: () => new Promise((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}

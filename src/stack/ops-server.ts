import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pid } from 'node:process';

/** What the primary of a consumer-only shop serves for operators. */
export interface OpsEndpoints {
  /** The cluster's Prometheus exposition (every consumer's series and the primary's). */
  metrics: () => Promise<string>;
  contentType: string;
  /** Consumers ready now; /readyz answers 200 while at least one is. */
  readyConsumers: () => number;
}

export interface OpsServer {
  port: number;
  /** /readyz answers 503 "draining" from now on. */
  draining: () => void;
  close: () => Promise<void>;
}

const json = (status: number, body: unknown): [number, string] => [status, JSON.stringify(body)];

/**
 * `role: consumer` has no web workers, so nothing would answer a probe or a
 * scrape: the primary serves `/healthz`, `/readyz` and `/metrics` itself, on
 * the shop's port (a Kubernetes consumer Deployment probes and scrapes these
 * like the web one's).
 */
export async function startOpsServer(endpoints: OpsEndpoints, port: number, host: string): Promise<OpsServer> {
  let draining = false;
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const answer = async (): Promise<[number, string, string?]> => {
      if (req.method !== 'GET') return json(405, { error: 'method not allowed' });
      if (path === '/healthz') return json(200, { status: 'ok', pid });
      if (path === '/readyz') {
        if (draining) return json(503, { status: 'draining' });
        const consumers = endpoints.readyConsumers();
        return json(consumers > 0 ? 200 : 503, { status: consumers > 0 ? 'ok' : 'down', consumers });
      }
      if (path === '/metrics') return [200, await endpoints.metrics(), endpoints.contentType];
      return json(404, { error: 'not found' });
    };
    answer().then(
      ([status, body, type]) => res.writeHead(status, { 'content-type': type ?? 'application/json; charset=utf-8' }).end(body),
      (err: unknown) => res.writeHead(500, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify({ error: String(err) })),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    draining: () => void (draining = true),
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';

/*
 * Why: in Node's cluster the primary hands each NEW connection to the next
 * worker (round robin), but a load generator keeps its keep-alive
 * connections for the whole run. A web worker added by a scale-up would get
 * no connection and sit idle while the others stay hot. So when a worker
 * joins, the others mark every connection open at that moment; the next
 * answer on each carries `Connection: close`, the client reconnects, and the
 * round robin spreads the new connections over all workers (Kubernetes has
 * the same problem with long-lived connections behind a Service).
 * Idle connections are not closed at once: closing a keep-alive socket races
 * with a request the client may be sending on it right then, which the
 * client would see as a reset. A marked idle connection closes after its
 * next answer like the others.
 */

/** Tracks the server's open connections; `rebalance` marks them to close after their next answer. */
export function trackConnections(app: FastifyInstance): { rebalance: () => number } {
  const open = new Set<Socket>();
  const closeNext = new WeakSet<Socket>();
  app.server.on('connection', (socket: Socket) => {
    open.add(socket);
    socket.once('close', () => open.delete(socket));
  });
  app.addHook('onSend', async (req, reply) => {
    if (closeNext.delete(req.raw.socket)) reply.header('connection', 'close');
  });
  return {
    rebalance() {
      for (const socket of open) closeNext.add(socket);
      return open.size;
    },
  };
}

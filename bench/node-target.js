// The fallback benchmark target when nginx is not installed: a minimal HTTP
// server answering every request with a small static body. It runs in its own
// process (forked by bench/targets.js) so it never shares a thread or a core's
// time slice with the benchmark itself, and reports its port over IPC.
import { createServer } from 'node:http';

const BODY = Buffer.from('ok\n');

const server = createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': BODY.length });
  res.end(BODY);
});
// Keep-alive connections must outlive a whole benchmark run (Node's default closes idle ones after 5 s).
server.keepAliveTimeout = 60_000;

server.listen(0, '127.0.0.1', () => {
  process.send?.({ port: server.address().port });
});

// Exit when the benchmark goes away, whatever way it went.
process.on('disconnect', () => process.exit(0));
process.on('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
});

// A target with failure modes, run in its own process so that stalling its
// event loop never stalls the generator under test. Listens on 127.0.0.1
// port 0 and sends its port to the parent over IPC.
//
//   GET  /delay/:ms        200 after ms
//   GET  /status/:code     that status (?pad=N: N more bytes of body)
//   GET  /reset            destroys the socket without answering
//   GET  /hang             never answers
//   GET  /slow-body/:ms    headers at once, then one byte every 50 ms for ms
//   POST /echo             echoes the JSON body, adds an id and an x-token header
//   GET  /items/:id        200 {id} (checks captures reached the path)
//   POST /__stall?after=&ms=   after `after` ms, blocks the event loop for `ms`
//   GET  /__stats          {count, paths, connections} seen (requests not counting /__*; TCP connections accepted)
//   POST /__reset          zeroes the counters
import { createServer } from 'node:http';

let count = 0;
let paths = {};
let connections = 0;
const server = createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  const [, head, arg] = url.pathname.split('/');
  if (!head.startsWith('__')) {
    count++;
    paths[url.pathname] = (paths[url.pathname] ?? 0) + 1;
  }
  const json = (status, body, headers = {}) => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
    res.end(text);
  };
  switch (head) {
    case 'delay': setTimeout(() => json(200, { ok: true }), Number(arg)); return;
    case 'status': json(Number(arg), { status: Number(arg), pad: 'x'.repeat(Number(url.searchParams.get('pad') ?? 0)) }); return;
    case 'reset': req.socket.destroy(); return;
    case 'hang': return;
    case 'slow-body': {
      res.writeHead(200, { 'content-type': 'text/plain' });
      const end = Date.now() + Number(arg);
      const t = setInterval(() => {
        if (Date.now() >= end) { clearInterval(t); res.end('.'); } else res.write('.');
      }, 50);
      res.on('close', () => clearInterval(t));
      return;
    }
    case 'echo': {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        let parsed;
        try { parsed = JSON.parse(body || '{}'); } catch { return json(400, { error: 'bad json' }); }
        json(200, { id: `id-${count}`, received: parsed, headers: req.headers }, { 'x-token': `tok-${count}` });
      });
      return;
    }
    case 'items': json(200, { id: arg }); return;
    case '__stall': {
      const after = Number(url.searchParams.get('after') ?? 0);
      const ms = Number(url.searchParams.get('ms') ?? 1000);
      setTimeout(() => { const until = Date.now() + ms; while (Date.now() < until) { /* stall */ } }, after);
      json(200, { armed: true });
      return;
    }
    case '__stats': json(200, { count, paths, connections }); return;
    case '__reset': count = 0; paths = {}; connections = 0; json(200, { ok: true }); return;
    default: json(404, { error: 'not found' });
  }
});
server.on('connection', () => connections++);
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
process.on('disconnect', () => process.exit(0));

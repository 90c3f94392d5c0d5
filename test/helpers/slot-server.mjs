// A service with a known capacity: `slots` requests are served at once, each
// taking `serviceMs`; the rest wait in a FIFO queue. Capacity = slots /
// serviceMs per ms. Run with fork(); it sends {port} once listening on
// 127.0.0.1:0. Control: POST /__slots?n=N (what a --scale-cmd calls).
import { createServer } from 'node:http';

let slots = Number(process.env.SLOTS ?? 4);
const serviceMs = Number(process.env.SERVICE_MS ?? 25);
let busy = 0;
const waiting = [];

function release() {
  busy--;
  while (busy < slots && waiting.length) {
    busy++;
    waiting.shift()();
  }
}

const server = createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  if (url.pathname === '/__slots') {
    slots = Number(url.searchParams.get('n'));
    res.end(JSON.stringify({ slots }));
    return;
  }
  if (url.pathname === '/__ready') {
    res.end('ok');
    return;
  }
  const serve = () => setTimeout(() => {
    res.end('ok');
    release();
  }, serviceMs);
  if (busy < slots) {
    busy++;
    serve();
  } else {
    waiting.push(serve);
  }
});
server.keepAliveTimeout = 30_000;
server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
process.on('disconnect', () => process.exit(0));

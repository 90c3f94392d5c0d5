import { createServer, type Socket } from 'node:net';

/** One request as a scripted server received it, byte for byte. */
export interface RawRequest {
  method: string;
  /** The request target as sent, e.g. "/a?b=1". */
  target: string;
  version: string;
  /** Header fields in the order received, names as the client spelled them. */
  headers: [name: string, value: string][];
  /** The request head's text, request line to the blank line. */
  head: string;
  body: Buffer;
  /** The connection (0-based, in accept order) that carried it. */
  conn: number;
}

/** One accepted connection, for a script to answer on with exact bytes. */
export interface RawConnection {
  readonly index: number;
  readonly socket: Socket;
  /** Writes and resolves once the bytes are handed to the kernel. */
  write: (data: string | Buffer) => Promise<void>;
  /**
   * Writes each piece on its own turn of the event loop (the client runs in this process, so it
   * reads each piece before the next one is written): a response split exactly where the test says.
   */
  writePieces: (pieces: (string | Buffer)[]) => Promise<void>;
  /** writePieces, one byte a piece. */
  writeBytewise: (data: string | Buffer) => Promise<void>;
  /** Sends FIN after what was written, and resolves when the connection is fully closed. */
  end: () => Promise<void>;
  /** Aborts with a TCP RST. */
  reset: () => void;
  /** Resolves when the connection has closed (either side). */
  readonly closed: Promise<void>;
}

/** A script's answer to one request; the next request on the connection waits for it to settle. */
export type RawScript = (req: RawRequest, conn: RawConnection) => void | Promise<void>;

export interface RawServer {
  origin: string;
  port: number;
  /** Connections accepted so far. */
  connections: () => number;
  /** Requests received so far, in order. */
  requests: RawRequest[];
  /** Bytes received on all connections. */
  bytesReceived: () => number;
  /**
   * The most connections the client held at once: on each accept, two turns later (so a close the client
   * made before it connected again has been read), the accepted connections the client has not ended.
   */
  peakOpen: () => number;
  connection: (index: number) => RawConnection | undefined;
  /** Resolves when `test()` holds (checked on every connection, request and close), or fails after `boundMs`. */
  until: (what: string, test: () => boolean, boundMs?: number) => Promise<void>;
  close: () => Promise<void>;
}

const HEAD_END = Buffer.from('\r\n\r\n');
/**
 * Two turns of the event loop: a write made in the poll phase (a 'data' handler) and one made in the
 * check phase after a single setImmediate would both be read by the client in its next poll, as one read;
 * after two, the client's poll phase has come in between.
 */
const turn = () => new Promise<void>((resolve) => setImmediate(() => setImmediate(resolve)));

/** A request's body length from its head: Content-Length, or -1 for chunked (read to its last chunk). */
function bodyLength(headers: [string, string][]): number {
  for (const [name, value] of headers) {
    if (name.toLowerCase() === 'transfer-encoding' && /chunked/i.test(value)) return -1;
    if (name.toLowerCase() === 'content-length') return Number(value);
  }
  return 0;
}

/** Where a chunked body ends in `buf` (after the last chunk and trailers), or -1 if not yet received. */
function chunkedEnd(buf: Buffer, from: number): number {
  let at = from;
  for (;;) {
    const lineEnd = buf.indexOf('\r\n', at);
    if (lineEnd < 0) return -1;
    const size = parseInt(buf.subarray(at, lineEnd).toString('latin1'), 16);
    if (size === 0) {
      const end = buf.indexOf('\r\n\r\n', lineEnd);
      return end < 0 ? -1 : end + 4;
    }
    at = lineEnd + 2 + size + 2;
    if (at > buf.length) return -1;
  }
}

function dechunk(raw: Buffer): Buffer {
  const out: Buffer[] = [];
  let at = 0;
  for (;;) {
    const lineEnd = raw.indexOf('\r\n', at);
    const size = parseInt(raw.subarray(at, lineEnd).toString('latin1'), 16);
    if (!(size > 0)) return Buffer.concat(out);
    out.push(raw.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
}

/**
 * A raw TCP server on 127.0.0.1 (port 0) speaking HTTP/1.1 only through its script: it parses
 * requests (Content-Length or chunked bodies) and hands each to the script, which writes the
 * exact response bytes, splits, stalls, closes or resets. Requests on one connection are
 * handed over one at a time, each after the script for the one before it has settled.
 */
export async function startRawServer(script: RawScript): Promise<RawServer> {
  const conns: RawConnection[] = [];
  const requests: RawRequest[] = [];
  let received = 0;
  let peak = 0;
  const waiters = new Set<() => void>();
  const changed = () => { for (const w of [...waiters]) w(); };

  const server = createServer({ noDelay: true }, (socket) => {
    const index = conns.length;
    let buf = Buffer.alloc(0);
    let chain = Promise.resolve();
    const closed = new Promise<void>((resolve) => socket.once('close', () => { resolve(); changed(); }));
    socket.on('error', () => {});
    const write = (data: string | Buffer) => new Promise<void>((resolve) => {
      if (socket.destroyed || socket.writableEnded) return resolve();
      socket.write(data, () => resolve());
    });
    const writePieces = async (pieces: (string | Buffer)[]) => {
      for (const piece of pieces) {
        await write(piece);
        await turn();
      }
    };
    const conn: RawConnection = {
      index,
      socket,
      write,
      writePieces,
      writeBytewise: (data) => {
        const bytes = Buffer.from(data);
        return writePieces([...bytes].map((b) => Buffer.from([b])));
      },
      end: () => { socket.end(); return closed; },
      reset: () => { socket.resetAndDestroy(); },
      closed,
    };
    conns.push(conn);
    void turn().then(() => {
      peak = Math.max(peak, conns.filter((c) => !c.socket.readableEnded && !c.socket.destroyed).length);
    });
    changed();
    socket.on('data', (data: Buffer) => {
      received += data.length;
      buf = Buffer.concat([buf, data]);
      // Every complete request in the buffer, in order.
      for (;;) {
        const headEnd = buf.indexOf(HEAD_END);
        if (headEnd < 0) break;
        const head = buf.subarray(0, headEnd).toString('latin1');
        const [requestLine = '', ...lines] = head.split('\r\n');
        const headers = lines.map((line): [string, string] => {
          const colon = line.indexOf(':');
          return [line.slice(0, colon), line.slice(colon + 1).trim()];
        });
        const length = bodyLength(headers);
        const bodyStart = headEnd + 4;
        const end = length < 0 ? chunkedEnd(buf, bodyStart) : bodyStart + length;
        if (end < 0 || end > buf.length) break;
        const rawBody = buf.subarray(bodyStart, end);
        const [method = '', target = '', version = ''] = requestLine.split(' ');
        const req: RawRequest = { method, target, version, headers, head, body: Buffer.from(length < 0 ? dechunk(rawBody) : rawBody), conn: index };
        buf = buf.subarray(end);
        chain = chain.then(async () => {
          requests.push(req);
          changed();
          await script(req, conn);
        }).catch(() => {});
      }
      changed();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;

  const until = (what: string, test: () => boolean, boundMs = 5000) => new Promise<void>((resolve, reject) => {
    if (test()) return resolve();
    const check = () => {
      if (!test()) return;
      waiters.delete(check);
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      waiters.delete(check);
      reject(new Error(`raw server: not seen within ${boundMs} ms: ${what}`));
    }, boundMs);
    waiters.add(check);
  });

  return {
    origin: `http://127.0.0.1:${port}`,
    port,
    connections: () => conns.length,
    requests,
    bytesReceived: () => received,
    peakOpen: () => peak,
    connection: (i) => conns[i],
    until,
    close: async () => {
      const done = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const c of conns) c.socket.destroy();
      await done;
    },
  };
}

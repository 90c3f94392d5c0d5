import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpClient } from './http-client.js';
import { classifyError, type HttpResponse } from './http-exchange.js';

const withCode = (code: string, cause?: Error): Error => Object.assign(new Error(code, cause ? { cause } : undefined), { code });

describe('classifyError', () => {
  it('maps socket and undici error codes to kinds, looking through causes', () => {
    expect(classifyError(withCode('ECONNREFUSED'))).toBe('refused');
    expect(classifyError(withCode('ECONNRESET'))).toBe('reset');
    expect(classifyError(withCode('UND_ERR_SOCKET', withCode('EPIPE')))).toBe('reset');
    expect(classifyError(withCode('ENOTFOUND'))).toBe('dns');
    expect(classifyError(withCode('EAI_AGAIN'))).toBe('dns');
    expect(classifyError(withCode('UND_ERR_CONNECT_TIMEOUT'))).toBe('timeout');
    expect(classifyError(new Error('wrapped', { cause: withCode('ECONNREFUSED') }))).toBe('refused');
    expect(classifyError(Object.assign(new Error('t'), { name: 'TimeoutError' }))).toBe('timeout');
    expect(classifyError(new Error('something else'))).toBe('other');
    expect(classifyError('not an error')).toBe('other');
  });

  it('certificate and handshake errors are tls, also inside an undici wrapper', () => {
    for (const code of ['DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
      'CERT_HAS_EXPIRED', 'ERR_TLS_CERT_ALTNAME_INVALID', 'ERR_SSL_WRONG_VERSION_NUMBER', 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED', 'EPROTO']) {
      expect(classifyError(withCode(code)), code).toBe('tls');
    }
    expect(classifyError(withCode('UND_ERR_SOCKET', withCode('CERT_HAS_EXPIRED')))).toBe('tls');
    expect(classifyError(withCode('UND_ERR_SOCKET'))).toBe('reset');
  });
});

describe('HttpClient response bodies', () => {
  // A local target: /big/<bytes> answers that many bytes; /endless never ends its body; /wait/<ms> answers after ms.
  let server: Server;
  let origin = '';
  let endlessClosed: Promise<void> = Promise.resolve();
  beforeAll(async () => {
    server = createServer((req, res) => {
      const [, what, arg] = (req.url ?? '').split('/');
      if (what === 'wait') return void setTimeout(() => res.end('{}'), Number(arg));
      res.writeHead(200, { 'content-type': 'application/json' });
      if (what === 'big') return void res.end(`"${'x'.repeat(Number(arg) - 2)}"`);
      // 64 KiB a millisecond at most: without a limit, 3 s of it is a few hundred MB.
      const chunk = Buffer.alloc(64 * 1024, 'x');
      const timer = setInterval(() => res.write(chunk), 1);
      endlessClosed = new Promise((resolve) => res.on('close', () => resolve(clearInterval(timer))));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const get = (client: HttpClient, path: string, wantBody: boolean, bodyLimit: number): Promise<HttpResponse> =>
    client.send({ origin, path, method: 'GET', headers: {}, headersReused: false, body: undefined, timeoutMs: 3000, wantBody, bodyLimit });

  it('keeps a body for captures up to the limit, and fails a longer one as body_too_large', async () => {
    const client = new HttpClient(() => performance.now(), null, 'auto');
    try {
      const ok = await get(client, '/big/1000', true, 1000);
      expect(ok).toMatchObject({ ok: true, status: 200 });
      expect(ok.ok && ok.body?.length).toBe(1000);
      const over = await get(client, '/big/1001', true, 1000);
      expect(over).toEqual({ ok: false, kind: 'body_too_large', status: 200, message: 'response body over 1000 bytes, kept for a capture or check (defaults.captureBodyLimit)' });
      // A body nobody captures from is read and dropped, whatever its size.
      const unread = await get(client, '/big/5000000', false, 1000);
      expect(unread).toMatchObject({ ok: true, status: 200, body: undefined });
    } finally {
      await client.close();
    }
  });

  it('stops reading an endless body at the limit (not at the timeout), and closes the connection', async () => {
    const client = new HttpClient(() => performance.now(), null, 'auto');
    try {
      const res = await get(client, '/endless', true, 1024 * 1024);
      expect(res).toMatchObject({ ok: false, kind: 'body_too_large' });
      await endlessClosed;
    } finally {
      await client.close();
    }
  });

  it('sees requests that waited for a connection between two reports, not only those waiting at the report', async () => {
    // One connection, three 100 ms requests at once: two wait, and all are done before the report.
    const client = new HttpClient(() => performance.now(), 1, 'auto');
    try {
      const results = await Promise.all([1, 2, 3].map(() => get(client, '/wait/100', false, 0)));
      expect(results.map((r) => r.ok)).toEqual([true, true, true]);
      expect(client.queued()).toBe(0);
      expect(client.takeMostQueued()).toBeGreaterThanOrEqual(1);
      expect(client.takeMostQueued()).toBe(0);
    } finally {
      await client.close();
    }
  });
});

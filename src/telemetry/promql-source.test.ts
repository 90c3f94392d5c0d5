import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { errorDetail, promqlSource } from './telemetry-source.js';

/** A fake Prometheus HTTP API on 127.0.0.1, port 0, that wants `Bearer t0ken-s3cret` and answers as Prometheus does. */
let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = undefined;
});

const TOKEN = 't0ken-s3cret';

async function fakePrometheus(): Promise<string> {
  server = createServer((req, res) => {
    const json = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.headers.authorization !== `Bearer ${TOKEN}`) {
      res.writeHead(401, { 'content-type': 'text/plain' });
      return res.end('Unauthorized\n');
    }
    const q = new URL(req.url ?? '/', 'http://x').searchParams.get('query') ?? '';
    if (q.includes('((')) return json(400, { status: 'error', errorType: 'bad_data', error: '1:5: parse error: unexpected "(" in paren expression' });
    if (q === 'slow_eval') return json(422, { status: 'error', errorType: 'execution', error: `query processing would load too many samples into memory; token ${TOKEN}` });
    if (q === 'range[1m]') return json(200, { status: 'success', data: { resultType: 'matrix', result: [] } });
    if (q === 'proxy_down') {
      res.writeHead(502, { 'content-type': 'text/html' });
      return res.end('<html><body><h1>502 Bad Gateway</h1></body></html>');
    }
    json(200, { status: 'success', data: { resultType: 'vector', result: [{ metric: {}, value: [Date.now() / 1000, '7'] }] } });
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('PromQL source', () => {
  it('fails only the signal whose query Prometheus refuses, with Prometheus\' words, and reads the others', async () => {
    const url = await fakePrometheus();
    const source = promqlSource(url, {
      good: { query: 'sum(up)' },
      broken: { query: 'sum((up)' },
      heavy: { query: 'slow_eval' },
      matrix: { query: 'range[1m]' },
    }, `Bearer ${TOKEN}`);
    const reading = await source.scrape(5000);
    expect(reading.values.good).toEqual([{ key: '', group: '', value: 7 }]);
    expect(reading.values.broken).toBeUndefined();
    expect(reading.failed).toEqual({
      broken: 'query failed: bad_data: 1:5: parse error: unexpected "(" in paren expression (HTTP 400)',
      // The secret the request carried is masked should the server echo it.
      heavy: 'query failed: execution: query processing would load too many samples into memory; token *** (HTTP 422)',
      matrix: 'expected an instant vector, got matrix',
    });
  });

  it('fails the whole scrape when the server cannot be read, with what it said', async () => {
    const url = await fakePrometheus();
    await expect(promqlSource(url, { good: { query: 'sum(up)' } }, 'Bearer wrong').scrape(5000))
      .rejects.toThrow(`${url}/api/v1/query: HTTP 401 (check its credentials): Unauthorized`);
    await expect(promqlSource(url, { good: { query: 'sum(up)' }, down: { query: 'proxy_down' } }, `Bearer ${TOKEN}`).scrape(5000))
      .rejects.toThrow(`${url}/api/v1/query: HTTP 502: 502 Bad Gateway`);
  });

  it('reads an error body as Prometheus JSON, or as short one-line text', () => {
    expect(errorDetail('{"status":"error","errorType":"timeout","error":"query timed out"}')).toBe('timeout: query timed out');
    expect(errorDetail('  \n')).toBeUndefined();
    expect(errorDetail('x'.repeat(1000))).toHaveLength(301);
  });
});

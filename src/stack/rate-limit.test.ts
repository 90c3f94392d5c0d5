import type { FastifyRequest } from 'fastify';
import { describe, expect, it } from 'vitest';
import { rateLimitKey, RateLimitWindows } from './rate-limit.js';

const request = (headers: Record<string, string>, remoteAddress = '192.0.2.7', ip = '198.51.100.9') =>
  ({ headers, socket: { remoteAddress }, ip }) as unknown as FastifyRequest;

describe('rateLimitKey', () => {
  it('is the connection\'s address by default, whatever headers the client sends', () => {
    const r = request({ 'x-client-id': 'mallory-1', 'x-forwarded-for': '203.0.113.1' });
    expect(rateLimitKey(r, { rateLimitKey: 'address', trustProxy: undefined })).toBe('ip:192.0.2.7');
  });

  it('is the forwarded address (Fastify\'s req.ip) only behind a trusted proxy', () => {
    expect(rateLimitKey(request({}), { rateLimitKey: 'address', trustProxy: '192.0.2.7' })).toBe('ip:198.51.100.9');
  });

  it('is x-client-id (128 characters at most) when opted in, else the address', () => {
    const cfg = { rateLimitKey: 'client-id', trustProxy: undefined } as const;
    expect(rateLimitKey(request({ 'x-client-id': 'u'.repeat(200) }), cfg)).toBe(`client:${'u'.repeat(128)}`);
    expect(rateLimitKey(request({}), cfg)).toBe('ip:192.0.2.7');
  });
});

describe('RateLimitWindows', () => {
  it('counts each client in a window that starts at its first request, and forgets ended windows', () => {
    const w = new RateLimitWindows();
    expect(w.hit('a', 1000, 10_000)).toEqual({ current: 1, ttl: 1000 });
    expect(w.hit('a', 1000, 10_400)).toEqual({ current: 2, ttl: 600 });
    expect(w.hit('b', 1000, 10_500)).toEqual({ current: 1, ttl: 1000 });
    expect(w.hit('a', 1000, 11_000)).toEqual({ current: 1, ttl: 1000 });
    w.sweep(11_500);
    expect(w.size).toBe(1);
    w.sweep(12_000);
    expect(w.size).toBe(0);
  });
});

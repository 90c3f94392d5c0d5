import { describe, expect, it } from 'vitest';
import { isLoopbackUrl } from './target-url.js';

describe('isLoopbackUrl', () => {
  it.each(['http://localhost:3000', 'http://LOCALHOST', 'http://api.localhost/', 'http://127.0.0.1', 'https://127.1.2.3:8443/x', 'http://[::1]:80', 'http://0.0.0.0:3000', 'http://[::]:3000', 'http://[::ffff:127.0.0.1]/'])('%s is this machine', (u) => {
    expect(isLoopbackUrl(u)).toBe(true);
  });
  it.each(['http://shop.load.svc', 'http://10.0.0.7:3000', 'http://127.example.test', 'http://localhost.example.test', 'http://[::2]', 'not a url'])('%s is not', (u) => {
    expect(isLoopbackUrl(u)).toBe(false);
  });
});

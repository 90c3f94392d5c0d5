import { describe, expect, it } from 'vitest';
import { CookieJar, renderStepCookies, withCookies } from './cookie-jar.js';

const origin = 'http://127.0.0.1:3000';

describe('withCookies', () => {
  it('returns the very same headers object while the jar is empty and the step sets none (the hot path allocates nothing)', () => {
    const headers = { accept: 'json' };
    expect(withCookies(headers, origin, '/a', new CookieJar(), undefined)).toBe(headers);
    expect(withCookies(headers, origin, '/a', undefined, undefined)).toBe(headers);
    expect(withCookies(headers, origin, '/a', undefined, [])).toBe(headers);
  });

  it("sends the jar's cookies after a Cookie header written by hand, and never changes the step's headers", () => {
    const jar = new CookieJar();
    jar.store(origin, '/login', ['session=abc; Path=/', 'scoped=1; Path=/admin', 'gone=1; Max-Age=0']);
    const headers = { cookie: 'own=1' };
    expect(withCookies(headers, origin, '/me', jar, undefined)).toEqual({ cookie: 'own=1; session=abc' });
    expect(withCookies({}, origin, '/admin/x', jar, undefined)).toEqual({ cookie: 'scoped=1; session=abc' });
    expect(headers).toEqual({ cookie: 'own=1' });
  });

  it("puts a step's cookies in the jar for the host (path /), or with the jar off in this request's header only", () => {
    const jar = new CookieJar();
    expect(withCookies({}, origin, '/deep/path', jar, [['a', '1']])).toEqual({ cookie: 'a=1' });
    expect(withCookies({}, origin, '/other', jar, undefined)).toEqual({ cookie: 'a=1' });
    expect(withCookies({}, 'http://elsewhere.test', '/', jar, undefined)).toEqual({});
    expect(withCookies({ cookie: 'x=0' }, origin, '/', undefined, [['a', '1'], ['b', '2']])).toEqual({ cookie: 'x=0; a=1; b=2' });
  });

  it('ignores a malformed Set-Cookie, as a browser does', () => {
    const jar = new CookieJar();
    jar.store(origin, '/', ['=novalue', 'ok=1']);
    expect(jar.header(origin, '/')).toBe('ok=1');
  });
});

describe('renderStepCookies', () => {
  it('renders templates and refuses a rendered value that cannot be sent, as a failed template', () => {
    const cookies: [string, (v: Record<string, unknown>) => string][] = [['user', (v) => String(v.name)]];
    expect(renderStepCookies(cookies, { name: 'ada' })).toEqual([['user', 'ada']]);
    expect(() => renderStepCookies(cookies, { name: 'a;b' })).toThrow('cookies.user: a cookie value cannot hold ";"');
  });
});

import { Cookie, CookieJar as ToughCookieJar } from 'tough-cookie';
import { cookieValueProblem } from '../scenarios/cookie-schema.js';

/** A step's cookies, rendered: [name, value] pairs. */
export type StepCookies = [string, string][];

/**
 * The cookies of one virtual user (closed model: kept across its iterations)
 * or of one iteration (open model: dropped with it). RFC 6265 storage and
 * matching (domain, path, expiry, Secure, Max-Age) are tough-cookie's; a jar
 * holds what the server set, and expired cookies go when they are next read.
 *
 * Cheap when unused: the tough-cookie jar is made on the first cookie, and
 * until then a request pays one property check and no URL parsing.
 */
export class CookieJar {
  private jar: ToughCookieJar | undefined;

  /** The Cookie header for a request to origin + path, or undefined when the jar holds none for it. */
  header(origin: string, path: string): string | undefined {
    if (!this.jar) return undefined;
    return this.jar.getCookieStringSync(origin + path) || undefined;
  }

  /** Stores a response's Set-Cookie headers; a malformed or refused one is ignored, as browsers do. */
  store(origin: string, path: string, setCookie: string | string[] | undefined): void {
    if (setCookie === undefined) return;
    const jar = (this.jar ??= newToughJar());
    const url = origin + path;
    for (const c of Array.isArray(setCookie) ? setCookie : [setCookie]) jar.setCookieSync(c, url, { ignoreError: true });
  }

  /** Sets a step's cookies for origin's host (host-only, path /): later requests to that host send them too. */
  set(origin: string, cookies: StepCookies): void {
    const jar = (this.jar ??= newToughJar());
    for (const [key, value] of cookies) jar.setCookieSync(new Cookie({ key, value, path: '/' }), origin + '/');
  }
}

function newToughJar(): ToughCookieJar {
  // Loopback and test hosts (localhost, *.local, *.test) keep their cookies, as in a browser.
  return new ToughCookieJar(undefined, { allowSpecialUseDomain: true });
}

/** Renders a step's cookie values; throws (as a failed template does) when one cannot be sent. */
export function renderStepCookies(cookies: [string, (vars: Record<string, unknown>) => string][], vars: Record<string, unknown>): StepCookies {
  return cookies.map(([name, render]) => {
    const value = render(vars);
    const problem = cookieValueProblem(value);
    if (problem) throw new Error(`cookies.${name}: ${problem}`);
    return [name, value];
  });
}

/**
 * The headers of a request with its cookies: the step's (into the jar, or
 * straight into the header with the jar off) and the jar's for its URL,
 * after any Cookie header the scenario wrote itself. Unchanged (the same
 * object) when there are none, the common case.
 */
export function withCookies(headers: Record<string, string>, origin: string, path: string, jar: CookieJar | undefined, own: StepCookies | undefined): Record<string, string> {
  if (own && jar) jar.set(origin, own);
  const fromJar = jar?.header(origin, path);
  const direct = own && !jar && own.length > 0 ? own.map(([k, v]) => `${k}=${v}`).join('; ') : undefined;
  const added = fromJar ?? direct;
  if (added === undefined) return headers;
  return { ...headers, cookie: headers.cookie ? `${headers.cookie}; ${added}` : added };
}

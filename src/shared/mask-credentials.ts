/*
 * Credentials in URLs (`http://user:secret@host`, `postgres://u:p@db/x`):
 * masked wherever a URL is shown or written, and turned into an
 * Authorization header where one is sent. A leaf module: the tool and the
 * reference stack both import it, and it imports nothing.
 */

/**
 * `scheme://userinfo@` up to the host. The userinfo is everything before the
 * last `@` ahead of the path, query or fragment (a password may hold an `@`),
 * and it stops at whitespace, so the URLs inside a sentence are found too.
 */
const USERINFO = /(\b[a-z][a-z0-9+.-]*:\/\/)[^/?#\s]*@/gi;

/**
 * The text with the credentials of every URL in it replaced by `***`:
 * `http://user:secret@127.0.0.1:3000/x` becomes `http://***@127.0.0.1:3000/x`.
 * The user name goes too (it is often a token). Text without one is returned as is.
 */
export function maskCredentials(text: string): string {
  return text.replace(USERINFO, '$1***@');
}

/** Percent-decoded, or as written when it is not valid percent-encoding (`%zz`). */
function decode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

/**
 * Splits a URL's credentials off: the URL without them, and the HTTP Basic
 * Authorization header value they stand for (user and password are
 * percent-decoded, as a browser does), or undefined when the URL has none.
 */
export function urlCredentials(url: string): { url: string; authorization: string | undefined } {
  const u = new URL(url);
  if (!u.username && !u.password) return { url, authorization: undefined };
  const pair = `${decode(u.username)}:${decode(u.password)}`;
  u.username = '';
  u.password = '';
  return { url: u.href, authorization: `Basic ${Buffer.from(pair, 'utf8').toString('base64')}` };
}

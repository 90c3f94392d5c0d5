import { z } from 'zod';
import { echo } from '../shared/printable.js';
import { HEADER_NAME } from './header-schema.js';

/**
 * Why a cookie value cannot be sent, or undefined when it can. A `;` would
 * end the cookie (the rest would read as another one); control and
 * non-Latin-1 characters cannot go in a header. Browsers accept the rest of
 * what RFC 6265's cookie-octet excludes (spaces, commas, quotes), and so do we.
 */
export function cookieValueProblem(value: string): string | undefined {
  const bad = /[^\u0020-\u003a\u003c-\u007e\u0080-\u00ff]/u.exec(value);
  if (!bad) return undefined;
  return bad[0] === ';'
    ? 'a cookie value cannot hold ";" (it would start another cookie); percent-encode it (%3B)'
    : bad[0].charCodeAt(0) < 0x100
      ? `a cookie value cannot hold the control character ${echo(bad[0])}`
      : `a cookie value can hold only Latin-1 characters, got ${echo(bad[0])}; percent-encode it`;
}

/**
 * A step's `cookies: { name: value }`. Names are tokens (RFC 6265 cookie-name);
 * values (strings or numbers) may hold templates: a rendered value is checked
 * again when the step is sent.
 */
export const cookiesSchema = z
  .record(
    z.string().regex(HEADER_NAME, "a cookie name is a token: letters, digits and !#$%&'*+-.^_`|~ only (no spaces, = or ;)"),
    z.union([z.string(), z.number()]).transform(String).superRefine((v, ctx) => {
      const problem = cookieValueProblem(v);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    }),
  )
  .meta({ description: 'Cookies this request sends: { name: value } (values may hold templates). With defaults.cookies on they go into the jar for this URL (host-only, path /) and stay for the rest of the jar\'s life; with it off they are sent with this request only.' });

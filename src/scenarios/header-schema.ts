import { z } from 'zod';
import { echo } from '../shared/printable.js';

/** An HTTP header name: an RFC 9110 token. */
export const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Characters a header value may hold (what undici, like Node's http, accepts). */
const BAD_VALUE_CHAR = /[^\t\u0020-\u007e\u0080-\u00ff]/u;

/** True for a valid header name (an RFC 9110 token). */
export function isHeaderName(name: string): boolean {
  return HEADER_NAME.test(name);
}

/** Why a header value cannot be sent (a line break, a control or non-Latin-1 character), or undefined when it can. */
export function headerValueProblem(value: string): string | undefined {
  const bad = BAD_VALUE_CHAR.exec(value);
  if (!bad) return undefined;
  return /[\r\n]/.test(bad[0])
    ? `a header value cannot hold a line break (${echo(bad[0])}): it would end the header`
    : bad[0].charCodeAt(0) < 0x100
      ? `a header value cannot hold the control character ${echo(bad[0])}`
      : `a header value can hold only Latin-1 characters, got ${echo(bad[0])}; percent-encode it or send it in the body`;
}

/**
 * Request headers: names are tokens, values (strings or numbers; templates
 * allowed) hold no line breaks or other control characters, which would
 * otherwise fail every request at run time, or split the header.
 */
export const headersSchema = z.record(
  z.string().regex(HEADER_NAME, "a header name is a token: letters, digits and !#$%&'*+-.^_`|~ only (no spaces or colons)"),
  z.union([z.string(), z.number()]).transform(String).superRefine((v, ctx) => {
    const problem = headerValueProblem(v);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  }),
);

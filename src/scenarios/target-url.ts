import { maskCredentials } from '../shared/mask-credentials.js';
import { echo, printable } from '../shared/printable.js';

/**
 * Checks a target URL: http or https, with a host, and parseable as a whole
 * (a port over 65535 or an unclosed [::1 is refused here, not at run time).
 * Returns the reason it is not usable, or undefined when it is.
 */
export function targetUrlProblem(value: string): string | undefined {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    return `not a valid URL: ${echo(maskCredentials(value))}`;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return `expected an http(s) URL, got ${printable(u.protocol, 20)}`;
  // The WHATWG parser reads http:///path as host "path" and http:host as http://host/: say what was meant.
  if (!/^https?:\/\/[^/?#\\]/i.test(value.trim())) return `the URL has no host (write ${u.protocol}//host:port/...)`;
  if (!u.hostname) return 'the URL has no host';
  return undefined;
}

const TEMPLATE = /\{\{[\s\S]*?\}\}/g;

/**
 * Checks a step's URL as written (templates left out): a path joined to the
 * target, or an absolute http(s) URL whose scheme and host can be read now.
 * Returns the reason it would fail at run time, or undefined.
 */
export function requestUrlProblem(url: string): string | undefined {
  const fixed = url.replace(TEMPLATE, '');
  // eslint-disable-next-line no-control-regex -- finding control characters is the point
  const control = /[\u0000-\u001f\u007f]/.exec(fixed);
  if (control) return `a URL cannot hold control characters such as ${echo(control[0])} (a line break would end the request line)`;
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(url)?.[1];
  if (scheme !== undefined) {
    if (!/^https?$/i.test(scheme)) {
      // "localhost:3000/x" reads as scheme "localhost": both mean a missing http://.
      return /^\/\//.test(url.slice(scheme.length + 1))
        ? `expected a path (/api/x) or an http(s) URL, not ${printable(scheme, 20)}:`
        : `expected a path (/api/x) or an http(s) URL, got ${echo(url)}; for another host write http://${printable(url, 40)}`;
    }
    const authority = /^[^:]+:\/\/([^/?#]*)/.exec(url)?.[1];
    if (authority === undefined || authority === '') return `the URL has no host (write ${scheme}://host:port/...)`;
    if (!authority.includes('{{')) return targetUrlProblem(`${scheme}://${authority}`);
    return undefined;
  }
  if (!url.startsWith('{{')) {
    // undici sends a relative path as written and refuses spaces and characters past U+00FF in it.
    if (fixed.includes(' ')) return 'a path cannot hold spaces; percent-encode them (%20)';
    const wide = /[\u0100-\u{10ffff}]/u.exec(fixed);
    if (wide) return `a path cannot hold ${echo(wide[0])} as is; percent-encode it (encodeURIComponent)`;
  }
  return undefined;
}

/**
 * True when the URL's host is this machine: localhost (and *.localhost),
 * 127.0.0.0/8, ::1, an IPv4-mapped 127.x, or the unspecified 0.0.0.0 / ::
 * (connecting to either reaches the local host). False for a URL that does
 * not parse.
 */
export function isLoopbackUrl(value: string): boolean {
  let host: string;
  try {
    host = new URL(value).hostname.toLowerCase();
  } catch {
    return false;
  }
  host = host.replace(/^\[|\]$/g, '').replace(/\.$/, '');
  return host === 'localhost' || host.endsWith('.localhost') || /^127\.\d+\.\d+\.\d+$/.test(host) || host === '0.0.0.0' ||
    host === '::1' || host === '::' || /^::ffff:(127\.\d+\.\d+\.\d+|7f[0-9a-f]{2}:[0-9a-f]{1,4})$/.test(host);
}

import { maskCredentials } from '../mask-credentials.js';

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
    return `not a valid URL: ${JSON.stringify(maskCredentials(value))}`;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return `expected an http(s) URL, got ${u.protocol.replace(':', '')}:`;
  if (!u.hostname) return 'the URL has no host';
  return undefined;
}

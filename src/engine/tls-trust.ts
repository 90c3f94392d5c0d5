import { readFileSync } from 'node:fs';
import * as tls from 'node:tls';
import type { SecureContext } from 'node:tls';
import type { TlsSettings } from '../scenarios/tls-files.js';

let roots: readonly string[] | undefined;

/**
 * The certificate authorities Node trusts by default: its built-in roots and,
 * as Node itself does, those of NODE_EXTRA_CA_CERTS (Node 22 and later give
 * both at once through tls.getCACertificates('default'); on Node 20 the file
 * is read here).
 */
export function defaultRoots(env: NodeJS.ProcessEnv = process.env): readonly string[] {
  if (roots && env === process.env) return roots;
  const get = (tls as { getCACertificates?: (type: string) => string[] }).getCACertificates;
  if (get) return (roots = get('default'));
  let extra: string[] = [];
  const file = env.NODE_EXTRA_CA_CERTS;
  if (file) {
    try {
      extra = [readFileSync(file, 'utf8')];
    } catch {
      // Node has already warned at start-up that it could not read the file.
    }
  }
  const list = [...tls.rootCertificates, ...extra];
  if (env === process.env) roots = list;
  return list;
}

/** defaults.tls.ca trusted in addition to the default ones (Node's `ca` option alone replaces them). */
export function trustedCas(ca: string, env?: NodeJS.ProcessEnv): string[] {
  return [...defaultRoots(env), ca];
}

/**
 * The TLS options of tls.connect (and undici's connector) for defaults.tls,
 * servername aside: the CA, client certificate and key in one secure context
 * built once (not at every connection), and whether to verify.
 */
export function tlsConnectOptions(settings: TlsSettings): { rejectUnauthorized: boolean; secureContext?: SecureContext } {
  const { rejectUnauthorized, ca, cert, key, passphrase } = settings;
  if (ca === undefined && cert === undefined && key === undefined) return { rejectUnauthorized };
  return { rejectUnauthorized, secureContext: tls.createSecureContext({ ca: ca === undefined ? undefined : trustedCas(ca), cert, key, passphrase }) };
}

/** OpenSSL's reason ("wrong version number") without its error-stack prefix, else the message's first line. */
export function tlsReason(message: string): string {
  return (/SSL routines:[^:]*:([^:\n]+)/.exec(message)?.[1] ?? message.split('\n')[0]!).trim();
}

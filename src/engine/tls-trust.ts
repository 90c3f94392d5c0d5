import * as tls from 'node:tls';
import type { SecureContext } from 'node:tls';
import type { TlsSettings } from '../scenarios/tls-files.js';

/** Node 22 and later: the certificates Node trusts by default, NODE_EXTRA_CA_CERTS's included. */
const getCACertificates = (tls as { getCACertificates?: (type: 'default') => string[] }).getCACertificates;

/** True where tls.getCACertificates('default') gives NODE_EXTRA_CA_CERTS's certificates (Node 22+); on Node 20 the loader reads the file. */
export const NODE_GIVES_EXTRA_CAS = typeof getCACertificates === 'function';

/**
 * The certificate authorities trusted with defaults.tls.ca: Node's defaults
 * (its built-in roots and NODE_EXTRA_CA_CERTS's), then the file. Node's `ca`
 * option alone would replace the defaults instead of adding to them.
 */
export function trustedCas(settings: Pick<TlsSettings, 'ca' | 'extraCa'>): string[] {
  const defaults = getCACertificates ? getCACertificates('default') : [...tls.rootCertificates, ...(settings.extraCa ? [settings.extraCa] : [])];
  return settings.ca === undefined ? defaults : [...defaults, settings.ca];
}

/**
 * The TLS options of tls.connect (and undici's connector) for defaults.tls,
 * servername aside: the CA, client certificate and key in one secure context
 * built once (not at every connection), and whether to verify.
 */
export function tlsConnectOptions(settings: TlsSettings): { rejectUnauthorized: boolean; secureContext?: SecureContext } {
  const { rejectUnauthorized, ca, cert, key, passphrase } = settings;
  if (ca === undefined && cert === undefined && key === undefined) return { rejectUnauthorized };
  return { rejectUnauthorized, secureContext: tls.createSecureContext({ ca: ca === undefined ? undefined : trustedCas(settings), cert, key, passphrase }) };
}

/** OpenSSL's reason ("wrong version number") without its error-stack prefix, else the message's first line. */
export function tlsReason(message: string): string {
  return (/SSL routines:[^:]*:([^:\n]+)/.exec(message)?.[1] ?? message.split('\n')[0]!).trim();
}

import { resolve } from 'node:path';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { createSecureContext } from 'node:tls';
import { readTextFile } from './read-text-file.js';
import type { TlsSpec } from './tls-schema.js';
import { NODE_GIVES_EXTRA_CAS } from '../engine/tls-trust.js';

/**
 * TLS settings as the engine uses them (undici's connect options and the
 * pre-run probe): plain data, so that it crosses to engine worker threads.
 * File contents are PEM text, read once at load time.
 */
export interface TlsSettings {
  /** False with `insecure: true`: the server's certificate is not verified. */
  rejectUnauthorized: boolean;
  ca?: string;
  /** Node 20 only, with ca: NODE_EXTRA_CA_CERTS's PEM text, to stay trusted beside ca (Node 22+ gives it itself). */
  extraCa?: string;
  cert?: string;
  key?: string;
  passphrase?: string;
  /** SNI and certificate name for the target's host only. */
  servername?: string;
}

/** A PEM file is a few KB; a CA bundle a few hundred. */
const MAX_PEM_BYTES = 4 * 1024 * 1024;

/** A problem with a TLS file, at its field under defaults.tls. */
export interface TlsIssue {
  path: (string | number)[];
  message: string;
}

/** OpenSSL's reason ("bad decrypt", "key values mismatch") without its error-stack prefix. */
function opensslReason(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const m = /error:[0-9A-F]+:[^:]*:[^:]*:([^:\n]+)/i.exec(message);
  return (m ? m[1]! : message).trim();
}

/**
 * Reads the files `defaults.tls` names (relative to the scenario's folder) and
 * checks that Node can use them (PEM that parses, a key that fits its
 * certificate and opens with the passphrase), so that a mistake is a
 * scenario error with its position, not a run where every request fails.
 */
export async function loadTlsFiles(
  spec: TlsSpec | undefined, baseDir: string, env: Readonly<Record<string, string | undefined>> = {},
): Promise<{ tls: TlsSettings | undefined; issues: TlsIssue[] }> {
  if (!spec) return { tls: undefined, issues: [] };
  const issues: TlsIssue[] = [];
  const tls: TlsSettings = { rejectUnauthorized: spec.insecure !== true };
  for (const field of ['ca', 'cert', 'key'] as const) {
    const file = spec[field];
    if (file === undefined) continue;
    const path = resolve(baseDir, file);
    try {
      const text = await readTextFile(path, MAX_PEM_BYTES);
      if (!text.includes('-----BEGIN ')) throw new Error('is not PEM (no -----BEGIN line); convert a DER file with openssl x509 -inform der -in FILE -out FILE.pem');
      tls[field] = text;
    } catch (err) {
      issues.push({ path: ['defaults', 'tls', field], message: `${file}: ${(err as Error).message}` });
    }
  }
  const extra = env.NODE_EXTRA_CA_CERTS;
  if (tls.ca !== undefined && extra && !NODE_GIVES_EXTRA_CAS) {
    // Unreadable: Node has already warned at start-up, and does without it.
    tls.extraCa = await readTextFile(resolve(extra), MAX_PEM_BYTES).catch(() => undefined);
    if (tls.extraCa === undefined) delete tls.extraCa;
  }
  if (spec.passphrase !== undefined) tls.passphrase = spec.passphrase;
  if (spec.servername !== undefined) tls.servername = spec.servername;
  if (issues.length > 0) return { tls: undefined, issues };
  // One file at a time, so that the message names the one at fault.
  const what = { ca: 'a CA certificate', cert: 'a certificate', key: 'a private key' } as const;
  const checks: ['ca' | 'cert' | 'key', () => unknown][] = [
    ['ca', () => tls.ca && new X509Certificate(tls.ca)],
    ['cert', () => tls.cert && new X509Certificate(tls.cert)],
    ['key', () => tls.key && createPrivateKey({ key: tls.key, passphrase: tls.passphrase })],
  ];
  for (const [field, check] of checks) {
    try {
      check();
    } catch (err) {
      const encrypted = field === 'key' && tls.key!.includes('ENCRYPTED');
      const why = encrypted && tls.passphrase === undefined ? 'it is encrypted: set defaults.tls.passphrase'
        : encrypted ? `${opensslReason(err)} (wrong passphrase?)` : opensslReason(err);
      issues.push({ path: ['defaults', 'tls', field], message: `${spec[field]}: not usable as ${what[field]}: ${why}` });
    }
  }
  if (issues.length === 0 && tls.cert && tls.key) {
    try {
      createSecureContext({ cert: tls.cert, key: tls.key, passphrase: tls.passphrase });
    } catch (err) {
      issues.push({ path: ['defaults', 'tls', 'key'], message: `${spec.key}: does not belong to the certificate ${spec.cert}: ${opensslReason(err)}` });
    }
  }
  return issues.length > 0 ? { tls: undefined, issues } : { tls, issues };
}

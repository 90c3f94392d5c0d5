import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempFiles } from './temp-folders.js';

/** PEM files made for one test file, in a temporary folder (names relative to it). */
export interface TestCerts {
  dir: string;
  /** A self-signed server certificate for 127.0.0.1 and localhost, and its key. */
  server: { cert: string; key: string };
  /** A self-signed client certificate, with its key encrypted by `passphrase`. */
  client: { cert: string; key: string; passphrase: string };
}

/**
 * Makes throwaway self-signed certificates with the openssl binary (Node can
 * make keys but not X.509 certificates). Made at run time rather than
 * committed: no private key sits in the repository, and nothing expires.
 * EC P-256 keys: a few milliseconds each.
 */
export async function makeTestCerts(): Promise<TestCerts> {
  const dir = await tempFiles({});
  const req = (name: string, subject: string, extra: string[]): void => {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-days', '2', '-subj', subject,
      '-keyout', join(dir, `${name}.key`), '-out', join(dir, `${name}.pem`), ...extra], { stdio: 'pipe' });
  };
  req('server', '/CN=127.0.0.1', ['-nodes', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost']);
  req('client', '/CN=scalectl-test-client', ['-passout', 'pass:open sesame']);
  return { dir, server: { cert: 'server.pem', key: 'server.key' }, client: { cert: 'client.pem', key: 'client.key', passphrase: 'open sesame' } };
}

/** A file of the folder, as text. */
export function readPem(certs: TestCerts, name: string): string {
  return readFileSync(join(certs.dir, name), 'utf8');
}

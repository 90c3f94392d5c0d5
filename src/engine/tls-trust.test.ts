import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tls from 'node:tls';
import { describe, expect, it } from 'vitest';
import { errorMessage } from './http-exchange.js';
import { loadTlsFiles } from '../scenarios/tls-files.js';
import { NODE_GIVES_EXTRA_CAS, tlsConnectOptions, tlsReason, trustedCas } from './tls-trust.js';

const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

describe('defaults.tls.ca', () => {
  it("is trusted in addition to Node's root certificates, not instead of them", () => {
    const cas = trustedCas({ ca: PEM });
    expect(cas.at(-1)).toBe(PEM);
    expect(cas).toEqual(expect.arrayContaining([...tls.rootCertificates]));
    expect(cas.length).toBeGreaterThan(tls.rootCertificates.length);
  });

  it.skipIf(NODE_GIVES_EXTRA_CAS)('keeps the certificates of NODE_EXTRA_CA_CERTS (Node 20: read by the loader)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'scalectl-ca-'));
    const [ca, extra] = [tls.rootCertificates[0]!, tls.rootCertificates[1]!];
    writeFileSync(join(dir, 'ca.pem'), ca);
    writeFileSync(join(dir, 'extra.pem'), extra);
    const loaded = await loadTlsFiles({ ca: 'ca.pem' }, dir, { NODE_EXTRA_CA_CERTS: join(dir, 'extra.pem') });
    expect(loaded.issues).toEqual([]);
    expect(loaded.tls!.extraCa).toBe(extra);
    const cas = trustedCas(loaded.tls!);
    expect(cas.slice(-2)).toEqual([extra, ca]);
    expect(cas).toHaveLength(tls.rootCertificates.length + 2);
    // An unreadable NODE_EXTRA_CA_CERTS is done without, as Node does.
    const missing = await loadTlsFiles({ ca: 'ca.pem' }, dir, { NODE_EXTRA_CA_CERTS: join(dir, 'missing.pem') });
    expect(missing.tls!.extraCa).toBeUndefined();
  });

  it('without ca, cert or key the connection uses Node defaults; with them, one secure context built once', () => {
    expect(tlsConnectOptions({ rejectUnauthorized: false })).toEqual({ rejectUnauthorized: false });
    expect(tlsConnectOptions({ rejectUnauthorized: true, ca: tls.rootCertificates[0]! }).secureContext).toBeDefined();
  });
});

describe('TLS error messages', () => {
  it("OpenSSL's error stack becomes its reason in one line, with the code named", () => {
    const raw = 'C0A7F5E1F87F0000:error:0A00010B:SSL routines:ssl3_get_record:wrong version number:../deps/openssl/openssl/ssl/record/ssl3_record.c:354:\n';
    expect(tlsReason(raw)).toBe('wrong version number');
    const err = Object.assign(new Error(raw), { code: 'ERR_SSL_WRONG_VERSION_NUMBER' });
    const wrapped = new Error('other side closed', { cause: err });
    expect(errorMessage(wrapped)).toBe('wrong version number (ERR_SSL_WRONG_VERSION_NUMBER)');
    expect(errorMessage(new Error('connect ECONNREFUSED'))).toBe('connect ECONNREFUSED');
  });
});

describe('defaults.tls.passphrase', () => {
  it('a number (YAML reads `passphrase: 1234` as one) is the passphrase of its digits', async () => {
    const { tlsSchema } = await import('../scenarios/tls-schema.js');
    expect(tlsSchema.parse({ cert: 'c.pem', key: 'k.pem', passphrase: 1234 }).passphrase).toBe('1234');
    expect(tlsSchema.safeParse({ cert: 'c.pem', key: 'k.pem', passphrase: true }).success).toBe(false);
  });
});

import { createServer as createHttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Server } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ExitCode } from '../src/exit-codes.js';
import { runCli, runScenario, tempFiles } from './helpers/cli.js';
import { makeTestCerts, readPem, type TestCerts } from './helpers/tls-certs.js';

let certs: TestCerts;
/** A self-signed HTTPS server, one that also requires a client certificate, and a plain HTTP one. */
let https = '';
let mtls = '';
let plain = '';
let requests = 0;
const servers: Server[] = [];

async function listen(server: Server): Promise<string> {
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `127.0.0.1:${(server.address() as { port: number }).port}`;
}

beforeAll(async () => {
  certs = await makeTestCerts();
  const handler = (_req: unknown, res: { end: (s: string) => void }): void => {
    requests++;
    res.end('ok');
  };
  const key = readPem(certs, certs.server.key);
  const cert = readPem(certs, certs.server.cert);
  https = `https://${await listen(createHttpsServer({ key, cert }, handler))}`;
  mtls = `https://${await listen(createHttpsServer({ key, cert, requestCert: true, rejectUnauthorized: true, ca: readPem(certs, certs.client.cert) }, handler))}`;
  plain = `http://${await listen(createHttpServer(handler))}`;
});
afterAll(async () => {
  for (const s of servers) await new Promise<void>((r) => s.close(() => r()));
});
beforeEach(() => {
  requests = 0;
});

const scenario = (target: string, tls = '', step = '/x') => `name: tls
target: ${target}
${tls ? `defaults: { tls: ${tls} }` : ''}
phases: [{ duration: 500ms, arrivalRate: 4 }]
flows: [{ name: f, steps: [{ name: req, get: "${step}" }] }]
`;

/** The PEM files of the test certificates, to sit beside the scenario. */
const pemFiles = (): Record<string, string> => Object.fromEntries(['server.pem', 'client.pem', 'client.key'].map((f) => [f, readPem(certs, f)]));

async function runIn(yaml: string, args: string[] = []) {
  const dir = await tempFiles({ 's.yaml': yaml, ...pemFiles() });
  return runCli(['run', 's.yaml', '--no-progress', ...args], { cwd: dir });
}

describe('TLS', () => {
  it('a self-signed target without settings stops before any load, with one line naming the fix (exit 6)', async () => {
    const r = await runIn(scenario(https));
    expect(r.code).toBe(ExitCode.unreachable);
    expect(r.stderr).toMatch(/TLS handshake with 127\.0\.0\.1:\d+ failed: self-signed certificate \(DEPTH_ZERO_SELF_SIGNED_CERT\); set defaults\.tls\.ca .* or defaults\.tls\.insecure: true \(or --insecure\)/);
    expect(r.stderr).toContain('no load was sent');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(requests).toBe(0);
  });

  it('passes with insecure: true, with --insecure, and with the certificate as ca (a file beside the scenario)', async () => {
    for (const [tls, args] of [['{ insecure: true }', []], ['', ['--insecure']], ['{ ca: server.pem }', []]] as const) {
      const { code, result } = await runScenario(scenario(https, tls), { files: pemFiles(), args: [...args] });
      expect(code, `${tls} ${args.join(' ')}`).toBe(0);
      expect(result.totals.requests).toBe(2);
      expect(result.totals.errors).toBe(0);
    }
    expect(requests).toBe(6);
  });

  it('a servername the certificate does not hold fails the probe, naming servername', async () => {
    const r = await runIn(scenario(https, '{ ca: server.pem, servername: wrong.example }'));
    expect(r.code).toBe(ExitCode.unreachable);
    expect(r.stderr).toContain('(ERR_TLS_CERT_ALTNAME_INVALID); set defaults.tls.servername to a name the certificate holds');
    // localhost is in the certificate: as servername it passes.
    const { code } = await runScenario(scenario(https, '{ ca: server.pem, servername: localhost }'), { files: pemFiles() });
    expect(code).toBe(0);
  });

  it('during the run, certificate errors are counted as kind tls', async () => {
    // The target is plain HTTP (the probe passes); the step goes to the self-signed server.
    const { result } = await runScenario(scenario(plain, '', `${https}/x`));
    expect(result.totals.errorsByKind).toEqual({ tls: 2 });
    expect(result.errorSamples.tls).toBe('self-signed certificate (DEPTH_ZERO_SELF_SIGNED_CERT)');
    // HTTPS to a plain HTTP server: OpenSSL's reason in one line (no error stack, no newline), with its code.
    const plainTls = await runScenario(scenario(plain, '', `${plain.replace('http:', 'https:')}/x`));
    expect(plainTls.result.errorSamples.tls).toBe('wrong version number (ERR_SSL_WRONG_VERSION_NUMBER)');
  });

  it('a server that requires a client certificate: refused without one (exit 6), accepted with cert, key and passphrase', async () => {
    const without = await runIn(scenario(mtls, '{ ca: server.pem }'));
    expect(without.code).toBe(ExitCode.unreachable);
    expect(without.stderr).toContain('if it asks for a client certificate, set defaults.tls.cert and defaults.tls.key');
    const { code, result } = await runScenario(scenario(mtls, `{ ca: server.pem, cert: client.pem, key: client.key, passphrase: "${certs.client.passphrase}" }`), { files: pemFiles() });
    expect(code).toBe(0);
    expect(result.totals.errors).toBe(0);
    expect(requests).toBe(2);
  });

  it('TLS files are read when the scenario loads: a missing file or a wrong passphrase is a scenario error with its position (exit 3)', async () => {
    const dir = await tempFiles({
      'missing.yaml': scenario(https, '{ ca: nope.pem }'),
      'pass.yaml': scenario(https, '{ cert: client.pem, key: client.key, passphrase: wrong }'),
      'nopass.yaml': scenario(https, '{ cert: client.pem, key: client.key }'),
      'notpem.yaml': scenario(https, '{ ca: s.yaml }'),
      'half.yaml': scenario(https, '{ cert: client.pem }'),
      's.yaml': 'x',
      ...pemFiles(),
    });
    const r = await runCli(['validate', 'missing.yaml', 'pass.yaml', 'nopass.yaml', 'notpem.yaml', 'half.yaml'], { cwd: dir });
    expect(r.code).toBe(ExitCode.invalidInput);
    expect(r.stderr).toContain('missing.yaml:3:24 defaults.tls.ca: nope.pem: no such file');
    expect(r.stderr).toContain('pass.yaml:3:43 defaults.tls.key: client.key: not usable as a private key: bad decrypt (wrong passphrase?)');
    expect(r.stderr).toContain('nopass.yaml:3:43 defaults.tls.key: client.key: not usable as a private key: it is encrypted: set defaults.tls.passphrase');
    expect(r.stderr).toContain('notpem.yaml:3:24 defaults.tls.ca: s.yaml: is not PEM');
    expect(r.stderr).toMatch(/half\.yaml:3:\d+ defaults\.tls\.key: required with cert/);
    const run = await runCli(['run', 'missing.yaml'], { cwd: dir });
    expect(run.code).toBe(ExitCode.invalidInput);
    expect(requests).toBe(0);
  });

  it('an output path that is one of the TLS files is refused, as a data file is (exit 2)', async () => {
    const dir = await tempFiles({ 's.yaml': scenario(https, '{ ca: server.pem }'), ...pemFiles() });
    const r = await runCli(['run', 's.yaml', '--out', 'server.pem'], { cwd: dir });
    expect(r.code).toBe(ExitCode.usage);
    expect(r.stderr).toContain('server.pem');
    expect(readPem({ ...certs, dir }, 'server.pem')).toContain('BEGIN CERTIFICATE');
    expect(requests).toBe(0);
  });
});

import { connect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import type { TlsSettings } from '../scenarios/tls-files.js';
import { isTlsCode } from './http-exchange.js';
import { tlsConnectOptions, tlsReason } from './tls-trust.js';

/**
 * How long to wait, after a TLS 1.3 handshake, for the server to refuse it.
 * In TLS 1.3 a server that wants a client certificate (and got none, or one
 * it does not trust) says so with an alert just after the client's handshake
 * completed; a server that accepts the client sends its session tickets at
 * that moment instead, which ends the wait at once. On loopback either comes
 * within a few milliseconds.
 */
const TLS13_VERDICT_MS = 500;

/** What to do about a TLS failure, by its code. */
function tlsFix(code: string): string {
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID' || code === 'HOSTNAME_MISMATCH') {
    return 'set defaults.tls.servername to a name the certificate holds, or defaults.tls.insecure: true (or --insecure) to skip verification';
  }
  if (/CERTIFICATE_REQUIRED|HANDSHAKE_FAILURE|BAD_CERTIFICATE|UNKNOWN_CA/.test(code)) {
    return 'the server refused the handshake; if it asks for a client certificate, set defaults.tls.cert and defaults.tls.key';
  }
  if (code === 'ERR_SSL_WRONG_VERSION_NUMBER' || code === 'EPROTO') return 'is it plain HTTP? then use an http:// URL';
  return "set defaults.tls.ca to the file of the certificate authority (or of the self-signed certificate) to trust it, or defaults.tls.insecure: true (or --insecure) to skip verification";
}

/**
 * Opens (and closes) one connection to the target before a run, so an
 * unreachable target is a one-line error instead of a run full of errors.
 * For an https target it completes a TLS handshake with the scenario's TLS
 * settings, so a certificate the run would refuse is one line too, naming
 * the fix. Resolves to undefined when reachable, else to the reason.
 */
export function probeTarget(target: string, tls?: TlsSettings, timeoutMs = 3000): Promise<string | undefined> {
  const u = new URL(target);
  const https = u.protocol === 'https:';
  const port = Number(u.port || (https ? 443 : 80));
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  return new Promise((resolve) => {
    let settled = false;
    let verdict: NodeJS.Timeout | undefined;
    const socket: Socket = https
      ? tlsConnect({
        host, port,
        servername: tls?.servername ?? (isIP(host) ? undefined : host),
        ...(tls ? tlsConnectOptions(tls) : { rejectUnauthorized: true }),
      })
      : connect({ host, port });
    const done = (why: string | undefined): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(verdict);
      socket.destroy();
      resolve(why);
    };
    const timer = setTimeout(() => done(`no connection to ${host}:${port} within ${timeoutMs} ms`), timeoutMs);
    socket.once(https ? 'secureConnect' : 'connect', () => {
      if (!https || (socket as TLSSocket).getProtocol() !== 'TLSv1.3') return done(undefined);
      socket.once('session', () => done(undefined));
      verdict = setTimeout(() => done(undefined), TLS13_VERDICT_MS);
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      const code = err.code ?? 'error';
      if (https && isTlsCode(code)) done(`TLS handshake with ${host}:${port} failed: ${tlsReason(err.message)} (${code}); ${tlsFix(code)}`);
      else done(`${code} connecting to ${host}:${port}`);
    });
  });
}

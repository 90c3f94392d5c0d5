/** A host name, or an IP address (IPv6 in brackets), as KEDA's redis trigger reads it before `:port`. */
const HOST = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?)$/;

/**
 * Checks a Redis address for KEDA's redis trigger: `host:port` with a port
 * from 1 to 65535 and no scheme (KEDA does not read a URL). Returns the reason
 * it is not usable, or undefined when it is.
 */
export function redisAddressProblem(v: string): string | undefined {
  const example = 'e.g. redis-master.shop.svc:6379';
  if (/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(v)) return `expected host:port without a scheme (${example}), got ${JSON.stringify(v)}: KEDA's redis trigger does not read a URL`;
  const colon = v.lastIndexOf(':');
  if (colon < 0) return `expected host:port (${example}), got ${JSON.stringify(v)}: no port`;
  const host = v.slice(0, colon);
  const port = v.slice(colon + 1);
  if (!HOST.test(host)) return `expected host:port (${example}), got ${JSON.stringify(v)}: ${host ? `"${host}" is not a host name or address` : 'no host'}`;
  if (!/^\d{1,5}$/.test(port) || Number(port) < 1 || Number(port) > 65535) return `expected host:port (${example}), got ${JSON.stringify(v)}: the port must be a whole number from 1 to 65535`;
  return undefined;
}

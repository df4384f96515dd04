/**
 * maintenancedir (ldirectord _check_real_for_maintenance): a file in the directory named after a real
 * forces it down without checking it. The names tried, in ldirectord's order, for a real at IP with
 * port PORT (as written on the real= line, 0 when omitted) and reverse-DNS name HOST:
 * IP:PORT, IP, HOST:PORT, HOST, SHORT:PORT, SHORT — SHORT being HOST's first label when HOST is
 * dotted and starts with a lower-case letter. Pure.
 */
export function maintenanceNames(ip: string, port: number, hostname: string | null): string[] {
  const names = [`${ip}:${port}`, ip];
  if (hostname) {
    names.push(`${hostname}:${port}`, hostname);
    const m = /^([a-z][a-z0-9-]+)\./.exec(hostname);
    if (m) names.push(`${m[1]}:${port}`, m[1]!);
  }
  return names;
}

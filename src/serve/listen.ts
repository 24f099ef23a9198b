/** --listen HOST:PORT ([IPv6]:PORT): where serve binds. Port 0 lets the kernel pick a free one. */
export interface ListenAddress {
  host: string;
  port: number;
}

/**
 * Loopback by default: an exporter reachable from the network is a decision, not an accident. 9747: not
 * process-exporter's 9256, so the two can run side by side (not registered in Prometheus' port list).
 */
export const DEFAULT_LISTEN = '127.0.0.1:9747';

/** The address, or why the text is not one. */
export const parseListen = (text: string): ListenAddress | string => {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]\s]+)):(\d{1,5})$/.exec(text);
  if (!m) return `'${text}' is not HOST:PORT (e.g. 127.0.0.1:9256, [::1]:9256, 0.0.0.0:9256)`;
  const port = Number(m[3]);
  if (port > 65535) return `port ${port} is outside 0..65535`;
  return { host: m[1] ?? m[2]!, port };
};

/** The URL a scraper uses, IPv6 hosts bracketed. */
export const urlOf = (scheme: 'http' | 'https', host: string, port: number, path = '/metrics'): string =>
  `${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}${path}`;

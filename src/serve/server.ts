/**
 * `memusage serve`'s HTTP(S) server: GET/HEAD /metrics (one snapshot per burst of scrapes, see
 * snapshot-cache.ts), GET/HEAD / (a landing page), 404 and 405 otherwise. It only reads: no route changes
 * anything. Limits keep a slow or hostile client from holding a connection: the request (headers included)
 * must arrive within --request-timeout, headers within 8 KiB, no request body, idle keep-alive connections
 * closed after 5 s, at most 64 connections at once. A measurement never waits for a client.
 */
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { CONTENT_TYPES, type Family, renderExposition } from '../export/exposition.js';
import { BasicAuth } from './basic-auth.js';
import { negotiateFormat } from './negotiate.js';
import type { SnapshotCache } from './snapshot-cache.js';
import type { WebConfig } from './web-config.js';

export interface ServeOptions<T> {
  cache: SnapshotCache<T>;
  /** The families of a snapshot served `ageSeconds` after it ended. */
  families: (value: T, ageSeconds: number) => Family[];
  web: WebConfig;
  requestTimeoutMs: number;
  now: () => number;
  /** One line about a failed measurement (stderr). */
  log: (line: string) => void;
}

export const MAX_HEADER_BYTES = 8 * 1024;
const MAX_CONNECTIONS = 64;
const KEEP_ALIVE_MS = 5_000;
/** The longest period setInterval takes (a longer one is taken as 1 ms). */
const NEVER_MS = 2 ** 31 - 1;
const REQUEST_TIMEOUT = 'HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n';

/**
 * Each connection's deadline for its next request (headers included): from its opening, then from the end
 * of each response (plus the keep-alive time, which Node enforces itself on an idle connection). Past it
 * the client gets a 408 and the connection is closed. One timer per open connection, so an idle serve
 * (between two scrapes of Prometheus, most of its life) has none: Node's own requestTimeout and
 * headersTimeout are checked by an interval that wakes the server whether or not a connection is open,
 * which costs milliseconds of CPU per wake-up on a VM (cold caches).
 */
class RequestDeadlines {
  private readonly timers = new WeakMap<Socket, NodeJS.Timeout>();

  constructor(private readonly timeoutMs: number) {}

  /** A connection opened: its first request is due. */
  opened(socket: Socket): void {
    this.arm(socket, this.timeoutMs);
    socket.once('close', () => clearTimeout(this.timers.get(socket)));
  }

  /** A request arrived; once its response is sent, the next one is due. */
  request(socket: Socket, res: ServerResponse): void {
    clearTimeout(this.timers.get(socket));
    res.once('finish', () => {
      if (!socket.destroyed) this.arm(socket, KEEP_ALIVE_MS + this.timeoutMs);
    });
  }

  private arm(socket: Socket, ms: number): void {
    clearTimeout(this.timers.get(socket));
    const timer = setTimeout(() => {
      // No response has begun (the request never arrived whole): the 408 is the only thing written.
      if (socket.writable) socket.write(REQUEST_TIMEOUT);
      socket.destroy();
    }, ms);
    this.timers.set(socket, timer);
  }
}

const LANDING = `<!doctype html>
<html><head><meta charset="utf-8"><title>memusage exporter</title></head>
<body><h1>memusage exporter</h1>
<p>Exact memory by group: PSS, USS (what ending a group frees), distinct-page RSS.</p>
<p><a href="metrics">metrics</a></p></body></html>
`;

/** Whether the TLS client certificate satisfies client_auth_type (the TLS layer enforces the strict ones). */
const clientCertOk = (req: IncomingMessage, web: WebConfig): boolean => {
  const auth = web.tls?.clientAuth;
  if (!auth || auth === 'NoClientCert' || auth === 'RequestClientCert') return true;
  const socket = req.socket as TLSSocket;
  const cert = socket.getPeerCertificate();
  const given = cert !== null && Object.keys(cert).length > 0;
  if (auth === 'RequireAnyClientCert') return given;
  if (auth === 'VerifyClientCertIfGiven') return !given || socket.authorized;
  return socket.authorized;
};

export const createExporterServer = <T>(o: ServeOptions<T>): Server => {
  const auth = new BasicAuth(o.web.users);
  const deadlines = new RequestDeadlines(o.requestTimeoutMs);
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    deadlines.request(req.socket, res);
    for (const [name, value] of Object.entries(o.web.headers)) res.setHeader(name, value);
    const reply = (status: number, body: string, headers: Record<string, string> = {}) => {
      res.writeHead(status, {
        'Content-Type': 'text/plain; charset=utf-8',
        'Content-Length': String(Buffer.byteLength(body)),
        ...headers,
      });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    // A GET has no body: refuse one rather than read it (and close, so it is never read).
    if (req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0) {
      res.shouldKeepAlive = false;
      reply(413, 'request bodies are not accepted\n', { Connection: 'close' });
      req.destroy();
      return;
    }
    if (!clientCertOk(req, o.web)) {
      reply(403, 'client certificate required\n');
      return;
    }
    const allowed = auth.check(req.headers.authorization);
    if (allowed === 'busy') {
      reply(429, 'too many new credentials to verify; retry later\n', { 'Retry-After': '1' });
      return;
    }
    if (allowed === 'denied') {
      reply(401, 'Unauthorized\n', { 'WWW-Authenticate': 'Basic realm="memusage"' });
      return;
    }
    const path = (req.url ?? '/').replace(/\?.*$/, '');
    if (path !== '/metrics' && path !== '/') {
      reply(404, 'not found: the metrics are at /metrics\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      reply(405, 'method not allowed: GET or HEAD\n', { Allow: 'GET, HEAD' });
      return;
    }
    if (path === '/') {
      reply(200, LANDING, { 'Content-Type': 'text/html; charset=utf-8' });
      return;
    }
    const timeout = Number(req.headers['x-prometheus-scrape-timeout-seconds']);
    const format = negotiateFormat(req.headers.accept);
    o.cache
      .get(Number.isFinite(timeout) && timeout > 0 ? timeout * 1000 : undefined)
      .then((snap) => {
        if (res.destroyed) return;
        const body = renderExposition(o.families(snap.value, (o.now() - snap.endedAt) / 1000), format);
        reply(200, body, { 'Content-Type': CONTENT_TYPES[format], 'Cache-Control': 'no-store' });
      })
      .catch((error: unknown) => {
        const message = error instanceof Error ? error.message : String(error);
        o.log(`scrape failed: ${message}`);
        if (!res.destroyed && !res.headersSent) reply(500, `measurement failed: ${message}\n`);
      });
  };
  const limits = {
    maxHeaderSize: MAX_HEADER_BYTES,
    // The time a request may take to arrive is RequestDeadlines' (per connection), not Node's: its checks
    // run on an interval that never stops (at 1 Hz, 0.5-1 % of a core on a VM with serve idle: between two
    // 15 s scrapes, as much CPU as a scrape of 100 processes).
    requestTimeout: 0,
    headersTimeout: 0,
    connectionsCheckingInterval: NEVER_MS,
    keepAliveTimeout: KEEP_ALIVE_MS,
  };
  const tls = o.web.tls;
  const server = tls
    ? createHttpsServer(
        {
          ...limits,
          cert: tls.cert,
          key: tls.key,
          ...(tls.ca ? { ca: tls.ca } : {}),
          requestCert: tls.clientAuth !== 'NoClientCert',
          rejectUnauthorized: tls.clientAuth === 'RequireAndVerifyClientCert',
          minVersion: tls.minVersion,
          ...(tls.maxVersion ? { maxVersion: tls.maxVersion } : {}),
          // A TLS handshake that does not finish in time is a slow client too.
          handshakeTimeout: o.requestTimeoutMs,
        },
        handler,
      )
    : createHttpServer(limits, handler);
  server.maxConnections = MAX_CONNECTIONS;
  server.on(tls ? 'secureConnection' : 'connection', (socket: Socket) => {
    // Connections accepted right after a measurement are part of the burst it serves (snapshot-cache.ts).
    o.cache.touch();
    deadlines.opened(socket);
  });
  // A connection idle this long (no request, or a reply nobody reads) is closed.
  server.setTimeout(o.requestTimeoutMs * 2, (socket) => socket.destroy());
  // Bad requests (oversized headers, a request too slow to arrive) get Node's own 431/400/408 and are closed.
  return server;
};

import https from 'node:https';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { AddressInfo, Socket } from 'node:net';
import type { ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { listenOn } from '../lib/listen.js';
import { TLS_POLICY } from '../lib/tls.js';
import { ERRORS, GatewayError, toProblem, type ErrorCode } from '../errors.js';
import { pinPeerCertificate } from '../auth/identity.js';
import type { Gateway } from '../gateway.js';
import { createApp } from './app.js';

export interface RunningGateway {
  readonly gateway: Gateway;
  readonly server: https.Server;
  readonly url: string;
  readonly port: number;
  /** Requests being handled right now. */
  readonly inFlight: number;
  /**
   * Stops accepting, lets in-flight requests finish (at most limits.shutdownGraceMs), closes
   * every connection, then flushes the audit trail and closes the store. Idempotent.
   */
  close(): Promise<void>;
}

/** Request line plus headers, in bytes (Node's default, stated here so the error message holds). */
const MAX_HEADER_BYTES = 16 * 1024;

/**
 * A request Node's HTTP parser refuses before the app sees it (bad framing, headers too large,
 * too slow) still gets a problem+json answer with a stable code, then the connection closes.
 * Nothing is audited: no request was read, so no caller made one.
 */
function parserRefusal(err: NodeJS.ErrnoException): ErrorCode {
  if (err.code === 'HPE_HEADER_OVERFLOW') return 'HEADERS_TOO_LARGE';
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') return 'REQUEST_TIMEOUT';
  return 'HTTP_MALFORMED';
}

const REASONS: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  431: 'Request Header Fields Too Large',
};

/**
 * Listens with mutual TLS only. The handshake asks for a client certificate but completes
 * without a valid one, so the refusal is a 401 problem+json the caller can read.
 *
 * Slow or idle clients cannot hold the server: the TLS handshake, the headers and the whole
 * request each have a deadline (checked every second, not Node's default 30 s), and open
 * connections are capped.
 */
export async function listen(gateway: Gateway): Promise<RunningGateway> {
  const certs = gateway.config.paths.certs;
  const limits = gateway.config.limits;
  const read = (p: string): string => readFileSync(path.join(certs, p), 'utf8');
  const headersTimeout = Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs);
  const server = https.createServer(
    {
      key: read('gateway/tls.key.pem'),
      cert: read('gateway/tls.crt.pem'),
      ca: read('ca/ca.crt.pem'),
      requestCert: true,
      rejectUnauthorized: false,
      ...TLS_POLICY,
      handshakeTimeout: limits.handshakeTimeoutMs,
      headersTimeout,
      requestTimeout: limits.requestTimeoutMs,
      connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(headersTimeout / 4))),
      keepAliveTimeout: 65_000,
      maxHeaderSize: MAX_HEADER_BYTES,
      // The app refuses an HTTP/1.1 request without Host itself, with a problem+json answer.
      requireHostHeader: false,
    },
    createApp(gateway),
  );
  server.maxHeadersCount = 100;
  server.maxConnections = limits.maxConnections;

  const refuseRaw = (socket: Duplex, code: ErrorCode, parser: string): void => {
    const problem = toProblem(new GatewayError(code), randomUUID());
    const body = JSON.stringify(problem);
    gateway.metrics.request('http', 'none', 'error', code, 0);
    gateway.logger.info('request refused by the HTTP parser', { requestId: problem.requestId, status: problem.status, code, parser });
    socket.end(
      `HTTP/1.1 ${ERRORS[code].status} ${REASONS[ERRORS[code].status] ?? 'Bad Request'}\r\n` +
        `content-type: application/problem+json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n` +
        `cache-control: no-store\r\nx-content-type-options: nosniff\r\nx-request-id: ${problem.requestId}\r\nconnection: close\r\n\r\n${body}`,
    );
  };
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    refuseRaw(socket, parserRefusal(err), typeof err.code === 'string' ? err.code.slice(0, 40) : 'unknown');
  });
  // A failed or too slow TLS handshake: Node reports it here but leaves the socket open (a
  // slow-loris client could hold it for ever), so it is closed here.
  server.on('tlsClientError', (_err, socket) => socket.destroy());
  // No renegotiation: a connection's client certificate is fixed once the handshake is done.
  server.on('secureConnection', pinPeerCertificate);
  // CONNECT would otherwise end in a silently dropped connection: the gateway is no proxy.
  server.on('connect', (_req, socket: Duplex) => refuseRaw(socket, 'METHOD_NOT_ALLOWED', 'CONNECT'));

  // Every raw connection (handshaking ones too) and every response in progress, for shutdown.
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  const responses = new Set<ServerResponse>();
  let closing: Promise<void> | undefined;
  server.on('request', (_req, res: ServerResponse) => {
    responses.add(res);
    res.once('close', () => responses.delete(res));
    if (closing && !res.headersSent) res.setHeader('connection', 'close');
  });

  const { host, port } = gateway.config.listen;
  await listenOn(server, port, host);
  const actual = (server.address() as AddressInfo).port;
  return {
    gateway,
    server,
    url: `https://localhost:${actual}`,
    port: actual,
    get inFlight() {
      return responses.size;
    },
    close() {
      closing ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        // Keep-alive connections close after the response in progress, idle ones now.
        for (const res of responses) if (!res.headersSent) res.setHeader('connection', 'close');
        server.closeIdleConnections();
        const deadline = performance.now() + limits.shutdownGraceMs;
        while (responses.size > 0 && performance.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 20));
          server.closeIdleConnections();
        }
        if (responses.size > 0)
          gateway.logger.warn('shutdown: closing connections with requests still in progress', { inFlight: responses.size });
        server.closeAllConnections();
        for (const socket of sockets) socket.destroy();
        await closed;
        await gateway.close();
      })();
      return closing;
    },
  };
}

import https from 'node:https';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Gateway } from '../gateway.js';
import { createApp } from './app.js';

export interface RunningGateway {
  readonly gateway: Gateway;
  readonly server: https.Server;
  readonly url: string;
  readonly port: number;
  /** Stops accepting, lets in-flight requests finish (bounded), then closes the store. */
  close(): Promise<void>;
}

/**
 * Listens with mutual TLS only. The handshake asks for a client certificate but completes
 * without a valid one, so the refusal is a 401 problem+json the caller can read.
 */
export async function listen(gateway: Gateway): Promise<RunningGateway> {
  const certs = gateway.config.paths.certs;
  const read = (p: string): string => readFileSync(path.join(certs, p), 'utf8');
  const server = https.createServer(
    {
      key: read('gateway/tls.key.pem'),
      cert: read('gateway/tls.crt.pem'),
      ca: read('ca/ca.crt.pem'),
      requestCert: true,
      rejectUnauthorized: false,
      minVersion: 'TLSv1.2',
    },
    createApp(gateway),
  );
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  server.keepAliveTimeout = 65_000;
  server.maxHeadersCount = 100;
  const { host, port } = gateway.config.listen;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const actual = (server.address() as AddressInfo).port;
  return {
    gateway,
    server,
    url: `https://localhost:${actual}`,
    port: actual,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), 5000).unref();
      });
      await gateway.close();
    },
  };
}

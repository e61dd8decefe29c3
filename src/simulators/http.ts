import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';

/** The HTTP plumbing the simulated systems share (server.ts, consent-service.ts). */

/** The largest request body a simulated system reads. */
export const MAX_BODY_BYTES = 64 * 1024;
const CLIENT_AUTH_OID = '1.3.6.1.5.5.7.3.2';

/** Sends a whole answer, unless one was sent already or the connection is gone. */
export function send(res: ServerResponse, status: number, body: string, type: string): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/** The request body, or undefined when it exceeds MAX_BODY_BYTES. */
/**
 * Answers problem+json with a code from a simulated system's table of problems (its status by
 * default) and returns the status sent.
 */
export function sendProblem<T extends Readonly<Record<string, { readonly status: number; readonly title: string }>>>(
  res: ServerResponse,
  problems: T,
  code: keyof T & string,
  status: number = problems[code]!.status,
): number {
  send(res, status, JSON.stringify({ type: 'about:blank', title: problems[code]!.title, status, code }), 'application/problem+json');
  return status;
}

export function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) over = true;
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(over ? undefined : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/**
 * The CN of the client certificate on the connection, whether the CA verified it, and whether it
 * may be used for client authentication (no EKU, or one that includes clientAuth).
 */
export function peerCertificate(req: IncomingMessage): { cn: string | undefined; verified: boolean; clientAuth: boolean } {
  const socket = req.socket as TLSSocket;
  const cert = socket.getPeerCertificate();
  const cn = cert?.subject?.CN;
  const eku = cert?.ext_key_usage;
  return {
    cn: typeof cn === 'string' ? cn : undefined,
    verified: socket.authorized,
    clientAuth: eku === undefined || eku.includes(CLIENT_AUTH_OID),
  };
}

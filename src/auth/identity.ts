import type { TLSSocket } from 'node:tls';
import { GatewayError } from '../errors.js';
import type { Client, ClientRegistry } from './clients.js';

const CLIENT_AUTH_OID = '1.3.6.1.5.5.7.3.2';

/**
 * Step 1, transport: the client certificate of this TLS connection -> a registered client.
 * The server asks for a certificate but lets the handshake finish without one, so that a
 * refusal can be explained in problem+json instead of a bare TLS alert.
 */
export function identifyClient(socket: TLSSocket, clients: ClientRegistry, isRevoked?: (serialHex: string) => boolean): Client {
  const cert = socket.getPeerCertificate();
  if (!cert || Object.keys(cert).length === 0) throw new GatewayError('CERTIFICATE_REQUIRED');
  if (!socket.authorized) throw new GatewayError('CERTIFICATE_UNTRUSTED');
  // A server-only certificate is not a client credential.
  if (cert.ext_key_usage !== undefined && !cert.ext_key_usage.includes(CLIENT_AUTH_OID)) {
    throw new GatewayError('CERTIFICATE_UNTRUSTED');
  }
  if (isRevoked?.(cert.serialNumber)) throw new GatewayError('CERTIFICATE_UNTRUSTED');
  const cn = Array.isArray(cert.subject?.CN) ? undefined : cert.subject?.CN;
  const client = cn === undefined ? undefined : clients.bySubject(cn);
  if (!client) throw new GatewayError('CLIENT_UNKNOWN');
  return client;
}

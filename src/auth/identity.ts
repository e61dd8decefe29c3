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
  const peer = peerOf(socket);
  if (!peer.present) throw new GatewayError('CERTIFICATE_REQUIRED');
  if (!peer.authorized) throw new GatewayError('CERTIFICATE_UNTRUSTED');
  // A server-only certificate is not a client credential.
  if (!peer.clientAuth) throw new GatewayError('CERTIFICATE_UNTRUSTED');
  if (peer.serial !== undefined && isRevoked?.(peer.serial)) throw new GatewayError('CERTIFICATE_UNTRUSTED');
  const client = peer.cn === undefined ? undefined : clients.bySubject(peer.cn);
  if (!client) throw new GatewayError('CLIENT_UNKNOWN');
  return client;
}

/** What identifyClient needs from a connection's client certificate. */
interface PeerFacts {
  readonly present: boolean;
  readonly authorized: boolean;
  readonly clientAuth: boolean;
  readonly serial: string | undefined;
  readonly cn: string | undefined;
}

/**
 * The peer certificate's facts, read once per connection: getPeerCertificate builds a large
 * object (fingerprints included) on every call, about 20 µs. Only connections that cannot
 * renegotiate are remembered (the gateway's server disables renegotiation on every connection,
 * see server/https.ts; TLS 1.3 has none), so the certificate cannot change under a cached entry.
 * The revocation list and the client registry are still consulted on every request.
 */
const peers = new WeakMap<TLSSocket, PeerFacts>();

function peerOf(socket: TLSSocket): PeerFacts {
  const known = peers.get(socket);
  if (known !== undefined) return known;
  const cert = socket.getPeerCertificate();
  const present = cert !== null && cert !== undefined && Object.keys(cert).length > 0;
  const cn = present && !Array.isArray(cert.subject?.CN) ? cert.subject?.CN : undefined;
  const facts: PeerFacts = {
    present,
    authorized: socket.authorized,
    clientAuth: !present || cert.ext_key_usage === undefined || cert.ext_key_usage.includes(CLIENT_AUTH_OID),
    serial: present ? cert.serialNumber : undefined,
    cn: typeof cn === 'string' ? cn : undefined,
  };
  if (socket.getProtocol() === 'TLSv1.3' || renegotiationDisabled.has(socket)) peers.set(socket, facts);
  return facts;
}

const renegotiationDisabled = new WeakSet<TLSSocket>();

/** Refuses renegotiation on a server connection (so its client certificate is fixed) and lets identifyClient remember it. */
export function pinPeerCertificate(socket: TLSSocket): void {
  socket.disableRenegotiation();
  renegotiationDisabled.add(socket);
}

import path from 'node:path';

/**
 * The development PKI's file layout under the certificate folder (certs/ by default). Other
 * modules (gateway start-up, client registry, simulators, CLI) rely on these exact names.
 *
 *   ca/ca.crt.pem, ca/ca.key.pem                         development CA
 *   gateway/tls.crt.pem, gateway/tls.key.pem             gateway TLS server and client certificate
 *   gateway/signing.key.pem, gateway/signing.pub.pem     gateway ES256 key (PKCS#8 / SPKI)
 *   gateway/pseudonym.key                                HMAC key for CPR pseudonyms (base64url)
 *   clients/<id>/tls.crt.pem, clients/<id>/tls.key.pem   a client/provider system's TLS certificate
 *   clients/<id>/signing.key.pem, signing.pub.pem        that system's ES256 request-signing key
 *   consent-service/tls.crt.pem, tls.key.pem             the demo's simulated consent service: TLS server certificate
 *   consent-service/signing.key.pem, signing.pub.pem     and the ES256 key it signs consent artefacts with
 */

export interface SystemPaths {
  readonly dir: string;
  readonly tlsCert: string;
  readonly tlsKey: string;
  readonly signingKey: string;
  readonly signingPub: string;
}

export interface GatewayPaths extends SystemPaths {
  readonly pseudonymKey: string;
}

export interface DevPkiPaths {
  readonly certsDir: string;
  readonly ca: { readonly dir: string; readonly cert: string; readonly key: string };
  readonly gateway: GatewayPaths;
  readonly clients: Readonly<Record<string, SystemPaths>>;
  /** The simulated consent service's files (src/simulators/consent-service.ts); generated only when asked for. */
  readonly consentService: SystemPaths;
}

/** A system id as the client registry allows it; also safe as a directory name. */
export const SYSTEM_ID = /^[a-z0-9][a-z0-9-]{1,62}$/;
/** A gateway id as the configuration allows it. */
export const GATEWAY_ID = /^[a-z0-9][a-z0-9.-]{1,62}$/;

function systemFiles(dir: string): SystemPaths {
  return {
    dir,
    tlsCert: path.join(dir, 'tls.crt.pem'),
    tlsKey: path.join(dir, 'tls.key.pem'),
    signingKey: path.join(dir, 'signing.key.pem'),
    signingPub: path.join(dir, 'signing.pub.pem'),
  };
}

/** The files of one client/provider system. Throws TypeError for an id that is not a safe name. */
export function systemPaths(certsDir: string, systemId: string): SystemPaths {
  if (!SYSTEM_ID.test(systemId)) throw new TypeError(`"${systemId.slice(0, 70)}" is not a valid system id (${SYSTEM_ID.source})`);
  return systemFiles(path.join(path.resolve(certsDir), 'clients', systemId));
}

/** Every path of the layout, for the given systems. */
export function devPkiPaths(certsDir: string, systems: readonly string[]): DevPkiPaths {
  const root = path.resolve(certsDir);
  const caDir = path.join(root, 'ca');
  const gatewayDir = path.join(root, 'gateway');
  const clients: Record<string, SystemPaths> = {};
  for (const id of systems) clients[id] = systemPaths(root, id);
  return {
    certsDir: root,
    ca: { dir: caDir, cert: path.join(caDir, 'ca.crt.pem'), key: path.join(caDir, 'ca.key.pem') },
    gateway: { ...systemFiles(gatewayDir), pseudonymKey: path.join(gatewayDir, 'pseudonym.key') },
    clients,
    consentService: systemFiles(path.join(root, 'consent-service')),
  };
}

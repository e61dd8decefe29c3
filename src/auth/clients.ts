import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { importSPKI, type CryptoKey, type JWK } from 'jose';
import { displayPath } from '../contracts/registry.js';
import { canonicalJson, sha256hex } from '../lib/digest.js';
import { parseYamlSource, schemaErrors, type SourceFile } from '../contracts/source.js';
import { LoadError, LoadErrors } from '../lib/load-error.js';
import { deepFreeze } from '../lib/deep-freeze.js';
import { localText, localTextSchema, type LocalText } from '../lib/local-text.js';
import { systemPaths } from '../pki/layout.js';

/** A registered calling (and possibly providing) system. */
export interface Client {
  readonly id: string;
  readonly title: LocalText;
  readonly administration: string;
  readonly roles: readonly string[];
  /** Subject CN of the client certificate. */
  readonly certificateSubject: string;
  readonly signingKeys: readonly { readonly kid: string; readonly alg: 'ES256' | 'EdDSA'; readonly key: CryptoKey }[];
  readonly endpoint?: string;
}

export interface ClientRegistry {
  readonly clients: readonly Client[];
  /**
   * hex SHA-256 of the RFC 8785 canonical JSON of the registry file as parsed (the document these
   * clients were loaded from): what its approvers sign (policy/approvals/registries.ts).
   */
  readonly contentDigest?: string;
  bySubject(cn: string): Client | undefined;
  byId(id: string): Client | undefined;
}

const clientsSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['clients'],
  properties: {
    clients: {
      type: 'array',
      maxItems: 10000,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['id', 'title', 'administration', 'roles', 'certificate', 'signingKeys'],
        properties: {
          id: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{1,62}$' },
          title: localTextSchema(200),
          administration: { type: 'string', pattern: '^[A-Z][A-Z0-9-]{1,15}$' },
          roles: {
            type: 'array',
            minItems: 1,
            uniqueItems: true,
            maxItems: 20,
            items: { type: 'string', pattern: '^[a-z][a-z0-9-]{1,40}$' },
          },
          certificate: {
            type: 'object',
            additionalProperties: false,
            required: ['subject'],
            properties: { subject: { type: 'string', minLength: 1, maxLength: 200 } },
          },
          signingKeys: {
            type: 'array',
            minItems: 1,
            maxItems: 5,
            items: {
              type: 'object',
              additionalProperties: false,
              required: ['kid'],
              properties: {
                kid: { type: 'string', minLength: 1, maxLength: 100 },
                file: { type: 'string', minLength: 1, maxLength: 500 },
                jwk: { type: 'object' },
              },
              oneOf: [
                { required: ['file'], properties: { file: true } },
                { required: ['jwk'], properties: { jwk: true } },
              ],
            },
          },
          endpoint: { type: 'string', pattern: '^https://' },
        },
      },
    },
  },
} as const;

/** policies/clients.yaml once its schema has checked it. */
interface ClientsDoc {
  clients: Array<{
    id: string;
    title: string | LocalText;
    administration: string;
    roles: string[];
    certificate: { subject: string };
    signingKeys: Array<{ kid: string; file?: string; jwk?: JWK }>;
    endpoint?: string;
  }>;
}
const validateClients = new Ajv2020({ allErrors: true, strict: true }).compile<ClientsDoc>(clientsSchema);

/** Where the development PKI (`npx snitflade certs`) puts a client's public signing key, relative to the certificate folder. */
export function developmentKeyFile(clientId: string): string {
  const root = path.resolve('certs'); // any folder will do: what counts is the layout under it
  return path.relative(root, systemPaths(root, clientId).signingPub).split(path.sep).join('/');
}

/** Whether a key file as written in the registry is where `npx snitflade certs` puts the client's key. */
export function isDevelopmentKeyFile(written: string, clientId: string): boolean {
  return path.posix.normalize(written.split(path.sep).join('/')) === developmentKeyFile(clientId);
}

/**
 * Why a signing-key file named in the registry cannot be read, and what to do: the path as
 * written (relative to the certificate folder), and the development keys only where
 * `npx snitflade certs` really makes them.
 */
function unreadableKeyFile(registry: string, written: string, certsDir: string, clientId: string, err: unknown): string {
  const certs = displayPath(certsDir);
  const code = (err as NodeJS.ErrnoException).code;
  if (code !== 'ENOENT' && code !== 'ENOTDIR') {
    return `cannot read the signing-key file "${written}" in the certificate folder ${certs} (${code ?? (err as Error).message})`;
  }
  const where = existsSync(certsDir) ? `in the certificate folder ${certs}` : `(there is no certificate folder ${certs})`;
  const dev = isDevelopmentKeyFile(written, clientId)
    ? `in development, "npx snitflade certs" makes it`
    : `in development, "npx snitflade certs" makes a key only at ${developmentKeyFile(clientId)} for this client`;
  return `signing-key file "${written}" not found ${where}; check the path in ${path.basename(registry)} (it is relative to the certificate folder); ${dev}`;
}

/** The key file `written` in the certificate folder, or undefined for a path that leaves it (absolute, or through ".."). */
export function keyFileIn(certsDir: string, written: string): string | undefined {
  if (path.isAbsolute(written) || path.win32.isAbsolute(written)) return undefined;
  const root = path.resolve(certsDir);
  const full = path.resolve(root, written);
  const rel = path.relative(root, full);
  return rel === '' || rel === '..' || rel.startsWith(`..${path.sep}`) || path.isAbsolute(rel) ? undefined : full;
}

async function importKey(
  src: SourceFile,
  where: string,
  clientId: string,
  spec: { file?: string; jwk?: JWK },
  certsDir: string,
): Promise<{ alg: 'ES256' | 'EdDSA'; key: CryptoKey }> {
  // A client's token key is the operators' to give, like its certificate: a key written in the
  // registry, or a path out of the certificate folder, would let whoever writes policies/ choose it.
  if (spec.jwk)
    throw src.error(
      `${where}/jwk`,
      `an inline "jwk" is not accepted: a signing key is a PEM file in the certificate folder ${displayPath(certsDir)}, which the operators hold; put the public key there and name it with "file"`,
    );
  const written = spec.file!;
  const full = keyFileIn(certsDir, written);
  if (full === undefined)
    throw src.error(
      `${where}/file`,
      `signing-key file "${written}" is outside the certificate folder ${displayPath(certsDir)}; name a file in it, by a path relative to it without ".."`,
    );
  let pem: string;
  try {
    pem = readFileSync(full, 'utf8');
  } catch (err) {
    throw src.error(`${where}/file`, unreadableKeyFile(src.file, written, certsDir, clientId, err));
  }
  for (const alg of ['ES256', 'EdDSA'] as const) {
    try {
      return { alg, key: await importSPKI(pem, alg) };
    } catch {
      // try the next algorithm
    }
  }
  throw src.error(
    `${where}/file`,
    `signing-key file "${written}" in the certificate folder ${displayPath(certsDir)} is not a P-256 or Ed25519 public key in SPKI PEM form`,
  );
}

/**
 * Loads and validates the client registry (policies/clients.yaml) and imports every signing key
 * once, so the request path never parses a key.
 */
export async function loadClients(
  file: string,
  certsDir: string,
  endpoints: Readonly<Record<string, string>> = {},
): Promise<ClientRegistry> {
  const shown = displayPath(file);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new LoadError(shown, '', `cannot read the client registry: ${(err as Error).message}`);
  }
  const src = parseYamlSource(shown, text);
  if (Array.isArray(src)) throw new LoadErrors(src);
  const data = src.value;
  if (!validateClients(data)) {
    throw new LoadErrors(schemaErrors(src, validateClients.errors ?? [], validateClients.schema));
  }
  const raw = data.clients;
  const errors: LoadError[] = [];
  const clients: Client[] = [];
  const ids = new Set<string>();
  const subjects = new Set<string>();
  for (const [i, c] of raw.entries()) {
    if (ids.has(c.id)) errors.push(src.error(`/clients/${i}/id`, `client id "${c.id}" is registered twice`));
    if (subjects.has(c.certificate.subject))
      errors.push(src.error(`/clients/${i}/certificate/subject`, `certificate subject "${c.certificate.subject}" belongs to two clients`));
    ids.add(c.id);
    subjects.add(c.certificate.subject);
    const keys: Client['signingKeys'][number][] = [];
    for (const [j, k] of c.signingKeys.entries()) {
      try {
        keys.push({ kid: k.kid, ...(await importKey(src, `/clients/${i}/signingKeys/${j}`, c.id, k, certsDir)) });
      } catch (err) {
        if (err instanceof LoadError) errors.push(err);
        else throw err;
      }
    }
    const endpoint = endpoints[c.id] ?? c.endpoint;
    clients.push({
      id: c.id,
      title: localText(c.title),
      administration: c.administration,
      roles: c.roles,
      certificateSubject: c.certificate.subject,
      signingKeys: keys,
      ...(endpoint !== undefined ? { endpoint } : {}),
    });
  }
  if (errors.length > 0) throw new LoadErrors(errors);
  const bySubject = new Map(clients.map((c) => [c.certificateSubject, c]));
  const byId = new Map(clients.map((c) => [c.id, c]));
  // CryptoKey objects are not plain data: freeze the records, not the keys.
  for (const c of clients) {
    Object.freeze(c.signingKeys);
    Object.freeze(c.roles);
    Object.freeze(c);
  }
  return deepFreeze({
    clients: Object.freeze(clients),
    contentDigest: sha256hex(canonicalJson(data)),
    bySubject: (cn: string) => bySubject.get(cn),
    byId: (id: string) => byId.get(id),
  });
}

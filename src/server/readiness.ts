import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { RevocationList } from '../auth/crl.js';
import type { Gateway } from '../gateway.js';
import type { StoreDurability } from '../store/types.js';

export interface CertificateStatus {
  readonly name: string;
  readonly valid: boolean;
  readonly daysLeft: number | null;
}

/**
 * The certificate revocation list in force. A list whose nextUpdate has passed stays in force
 * (a stale list is better than none) and does not make the gateway unready: a CA that publishes
 * late must not take every instance out of service. `current: false` is for monitoring to alert on.
 */
export interface RevocationStatus {
  /** Whether a CRL is in force (configured, or certs/ca/crl.pem found). */
  readonly configured: boolean;
  readonly revoked: number;
  readonly thisUpdate: string | null;
  readonly nextUpdate: string | null;
  /** False once the list's nextUpdate has passed without a newer list being loaded (reload or SIGHUP). */
  readonly current: boolean;
}

/** Why an instance is not ready, in words a prober's log can show: fixed, and naming nothing of the set-up. */
export type NotReadyReason =
  'store-not-writable' | 'store-commits-not-durable' | 'audit-chain-lease-lost' | 'gateway-certificate-invalid' | 'ca-certificate-invalid';

/**
 * What GET /readyz tells anyone who asks (a load balancer, Kubernetes): ready or not, and why
 * not. The detail (Readiness) is for the operators only: GET /v1/admin/readiness.
 */
export interface ReadinessSummary {
  readonly ready: boolean;
  /** Empty when ready. */
  readonly reasons: readonly NotReadyReason[];
}

export interface Readiness extends ReadinessSummary {
  readonly store: {
    readonly kind: string;
    readonly writable: boolean;
    /** The commit durability in force on the store's own connection (absent when it cannot be read). */
    readonly durability?: { readonly setting: string; readonly value: string; readonly durable: boolean };
  };
  /** This instance's chain and whether it holds the chain's lease (no audit record is written while it is lost). */
  readonly chain: { readonly id: string; readonly lease: 'held' | 'lost' };
  readonly rules: { readonly contracts: number; readonly policies: number; readonly policySet: string };
  readonly certificates: readonly CertificateStatus[];
  readonly revocation: RevocationStatus;
}

/** What the readiness detail says of a revocation list at `now`. */
export function revocationStatus(list: RevocationList, now: number): RevocationStatus {
  return {
    configured: list.file !== undefined,
    revoked: list.count,
    thisUpdate: list.thisUpdate?.toISOString() ?? null,
    nextUpdate: list.nextUpdate?.toISOString() ?? null,
    current: list.nextUpdate === undefined || now < list.nextUpdate.getTime(),
  };
}

const DAY = 86_400_000;

function certificateStatus(name: string, pem: string | undefined, now: number): CertificateStatus {
  if (pem === undefined) return { name, valid: false, daysLeft: null };
  try {
    const cert = new X509Certificate(pem);
    const to = Date.parse(cert.validTo);
    const from = Date.parse(cert.validFrom);
    return { name, valid: from <= now && now < to, daysLeft: Math.floor((to - now) / DAY) };
  } catch {
    return { name, valid: false, daysLeft: null };
  }
}

function readOptional(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/**
 * Readiness in detail (GET /v1/admin/readiness; /readyz shows only its summary): the store accepts
 * writes with durable commits, this instance holds its chain's lease, rules are loaded, and the
 * certificates the gateway relies on (its own, the CA, and the providers' as far as this gateway
 * holds them) are valid, with the days left before each expires; and the revocation list in
 * force, and whether it is current.
 */
export async function readiness(gateway: Gateway): Promise<Readiness> {
  const now = Date.now();
  let writable = true;
  let durability: StoreDurability | undefined;
  try {
    durability = await gateway.store.checkWritable();
  } catch {
    writable = false;
  }
  const lease = gateway.audit.lease;
  const rules = gateway.rules();
  const certs = gateway.config.paths.certs;
  const providers = [...new Set(rules.contracts.list().map((c) => c.provider.system))];
  const certificates = [
    certificateStatus('gateway', readOptional(path.join(certs, 'gateway/tls.crt.pem')), now),
    certificateStatus('ca', readOptional(path.join(certs, 'ca/ca.crt.pem')), now),
    ...providers.map((p) => certificateStatus(`provider:${p}`, readOptional(path.join(certs, 'clients', p, 'tls.crt.pem')), now)),
  ];
  const reasons: NotReadyReason[] = [];
  if (!writable) reasons.push('store-not-writable');
  else if (durability?.durable !== true) reasons.push('store-commits-not-durable');
  if (lease.lost) reasons.push('audit-chain-lease-lost');
  if (!certificates[0]!.valid) reasons.push('gateway-certificate-invalid');
  if (!certificates[1]!.valid) reasons.push('ca-certificate-invalid');
  return {
    ready: reasons.length === 0,
    reasons,
    store: {
      kind: gateway.store.kind,
      writable,
      ...(durability !== undefined
        ? { durability: { setting: durability.setting, value: durability.value, durable: durability.durable } }
        : {}),
    },
    chain: { id: lease.chain, lease: lease.lost ? 'lost' : 'held' },
    rules: { contracts: rules.contracts.list().length, policies: rules.policies.policies.length, policySet: rules.policies.digest },
    certificates,
    revocation: revocationStatus(gateway.revocations(), now),
  };
}

/** What /readyz shows without a client certificate: ready or not, and the reasons. */
export function readinessSummary(report: ReadinessSummary): ReadinessSummary {
  return { ready: report.ready, reasons: report.reasons };
}

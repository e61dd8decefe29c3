import { flattenedVerify } from 'jose';
import { APPROVAL_ALGS, type ApprovalAlg, type Approver, type Approvers } from './approvers.js';
import { dependentContentDigest, POLICY_COMPONENTS, type PolicyComponents } from './digest.js';
import { isSignedRegistry, type SignedRegistry } from './registries.js';
import {
  APPROVAL_TYP,
  approvalPayload,
  REGISTRY_APPROVAL_TYP,
  type ApprovalHeader,
  type RegistryApprovalHeader,
  type SignedPolicy,
} from './sign.js';

/**
 * Verifying one approval, strictly: a detached compact JWS; a protected header with exactly the
 * members sign.ts writes; an algorithm on the allow-list (ES256, EdDSA: never "none", never a MAC)
 * that matches the approver's key; a `kid` that is a configured approver; and a signature, by one
 * of that approver's configured keys, over the policy's content digest as it is now. The header
 * must name this policy and version, and its content digest must be made of the components it names.
 *
 * When the signature does not hold over the policy as it is, the header's own digest is tried: if
 * it holds there, the approver did sign, but another content (the policy changed after signing,
 * or what it depends on did, or the approval belongs to another policy); if not, the signature is
 * invalid. The components in the header say which of the policy, its contract and its purpose changed.
 */

export type ApprovalVerdict =
  | { readonly status: 'valid'; readonly approver: string; readonly signedAt: string; readonly thumbprint: string }
  /** A genuine approval of this policy as it was: it changed since. */
  | { readonly status: 'stale'; readonly approver: string; readonly signedAt: string; readonly problem: string }
  /** Signed by someone who is not a configured approver. */
  | { readonly status: 'unknown-approver'; readonly approver: string; readonly problem: string }
  | { readonly status: 'invalid'; readonly approver: string | undefined; readonly problem: string };

const COMMON_MEMBERS = ['alg', 'digest', 'iat', 'kid', 'typ'];
const DIGEST = /^[0-9a-f]{64}$/;

/** What an approval of each kind has in its header beyond the common members, and how to check it. */
const KINDS = {
  policy: {
    typ: APPROVAL_TYP,
    what: 'a policy approval',
    members: ['components', 'policy', 'version'],
    check: (h: Record<string, unknown>): string | undefined => {
      if (typeof h.policy !== 'string' || h.policy.length > 100) return 'its protected header names no policy';
      if (typeof h.version !== 'number' || !Number.isSafeInteger(h.version)) return 'its protected header names no policy version';
      if (h.components === undefined)
        return "its protected header does not name what the digest covers (components): it was made before an approval covered the policy's contract and purpose too";
      const c = h.components as Record<string, unknown> | null;
      if (
        c === null ||
        typeof c !== 'object' ||
        Array.isArray(c) ||
        Object.keys(c).length !== POLICY_COMPONENTS.length ||
        !POLICY_COMPONENTS.every((k) => typeof c[k] === 'string' && DIGEST.test(c[k]))
      )
        return `its protected header's components are not the digests of ${POLICY_COMPONENTS.join(', ')}`;
      if (dependentContentDigest(c as unknown as PolicyComponents) !== h.digest)
        return "its protected header's content digest is not made of its components";
      return undefined;
    },
  },
  registry: {
    typ: REGISTRY_APPROVAL_TYP,
    what: "a registry's approval",
    members: ['registry'],
    check: (h: Record<string, unknown>): string | undefined =>
      typeof h.registry === 'string' && isSignedRegistry(h.registry) ? undefined : 'its protected header names no signed registry',
  },
} as const;

/** The protected header, when it is exactly an approval's of `kind`; otherwise what is wrong with it. */
function readHeader<K extends keyof typeof KINDS>(encoded: string, kind: K): HeaderOf<K> | string {
  let header: unknown;
  try {
    header = JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8'));
  } catch {
    return 'its protected header is not base64url JSON';
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) return 'its protected header is not a JSON object';
  const h = header as Record<string, unknown>;
  const spec = KINDS[kind];
  const members: readonly string[] = [...COMMON_MEMBERS, ...spec.members];
  const extra = Object.keys(h).filter((k) => !members.includes(k));
  if (extra.length > 0)
    return `its protected header has members an approval does not have: ${extra.map((k) => quoted(k.slice(0, 20))).join(', ')}`;
  if (typeof h.alg !== 'string' || !(APPROVAL_ALGS as readonly string[]).includes(h.alg))
    return `algorithm ${JSON.stringify(typeof h.alg === 'string' ? h.alg.slice(0, 20) : (h.alg ?? null))} is not allowed (an approval is ${APPROVAL_ALGS.join(' or ')})`;
  if (h.typ !== spec.typ) return `its typ is not "${spec.typ}": it is not ${spec.what}`;
  if (typeof h.kid !== 'string' || h.kid.length === 0 || h.kid.length > 100) return 'its protected header names no approver (kid)';
  if (typeof h.digest !== 'string' || !DIGEST.test(h.digest)) return 'its protected header has no content digest';
  const wrong = spec.check(h);
  if (wrong !== undefined) return wrong;
  if (typeof h.iat !== 'number' || !Number.isSafeInteger(h.iat) || h.iat < 0) return 'its protected header has no signing time (iat)';
  return h as unknown as HeaderOf<K>;
}

type HeaderOf<K extends keyof typeof KINDS> = K extends 'policy' ? ApprovalHeader : RegistryApprovalHeader;

/** The approver's key under which `signature` holds over `digest`, if any. */
async function signedBy(
  approver: Approver,
  alg: ApprovalAlg,
  header: string,
  digest: string,
  signature: string,
): Promise<string | undefined> {
  const payload = Buffer.from(approvalPayload(digest)).toString('base64url');
  for (const key of approver.keys) {
    if (key.alg !== alg) continue;
    try {
      await flattenedVerify({ protected: header, payload, signature }, key.key, { algorithms: [alg] });
      return key.thumbprint;
    } catch {
      // not this key
    }
  }
  return undefined;
}

const short = (digest: string): string => digest.slice(0, 12);

/** An approval's parts with its header read and its approver found; or the verdict that stops there. */
function openApproval<K extends keyof typeof KINDS>(
  jws: string,
  kind: K,
  approvers: Approvers,
): ApprovalVerdict | { header: HeaderOf<K>; encodedHeader: string; signature: string; approver: Approver; signedAt: string } {
  const parts = jws.split('.');
  if (parts.length !== 3) return { status: 'invalid', approver: undefined, problem: 'it is not a compact JWS' };
  const [encodedHeader, payload, signature] = parts as [string, string, string];
  if (payload !== '')
    return { status: 'invalid', approver: undefined, problem: 'it is not a detached JWS (its payload section is not empty)' };
  const header = readHeader(encodedHeader, kind);
  if (typeof header === 'string') return { status: 'invalid', approver: undefined, problem: header };
  const approver = approvers.get(header.kid);
  if (approver === undefined) {
    const known = [...approvers.keys()].join(', ') || '(none)';
    return {
      status: 'unknown-approver',
      approver: header.kid.replace(CONTROL, '?'),
      problem: `signed by ${quoted(header.kid)}, an approver not configured (policies.approvers lists: ${known})`,
    };
  }
  if (!approver.keys.some((k) => k.alg === header.alg))
    return {
      status: 'invalid',
      approver: approver.id,
      problem: `signed with ${header.alg}, but approver "${approver.id}"'s configured keys are for ${[...new Set(approver.keys.map((k) => k.alg))].join(', ')}`,
    };
  return { header, encodedHeader, signature, approver, signedAt: new Date(header.iat * 1000).toISOString() };
}

/**
 * What `jws` says about `policy`, checked against the configured `approvers`. Never throws for a
 * bad approval: that is a verdict.
 *
 * @example
 *   const verdict = await verifyApproval(entry.jws, policy, approvers);
 *   if (verdict.status !== 'valid') console.error(verdict.problem);
 */
export async function verifyApproval(jws: string, policy: SignedPolicy, approvers: Approvers): Promise<ApprovalVerdict> {
  const open = openApproval(jws, 'policy', approvers);
  if ('status' in open) return open;
  const { header, encodedHeader, signature, approver, signedAt } = open;
  const now = await signedBy(approver, header.alg, encodedHeader, policy.contentDigest, signature);
  if (now !== undefined) {
    if (header.policy !== policy.id || header.version !== policy.version || header.digest !== policy.contentDigest)
      return {
        status: 'invalid',
        approver: approver.id,
        problem: `its header names policy ${quoted(header.policy.slice(0, 100))} version ${header.version}, not this policy as it is; sign it again`,
      };
    return { status: 'valid', approver: approver.id, signedAt, thumbprint: now };
  }
  const then =
    header.digest === policy.contentDigest ? undefined : await signedBy(approver, header.alg, encodedHeader, header.digest, signature);
  if (then === undefined)
    return {
      status: 'invalid',
      approver: approver.id,
      problem: `signature invalid: it was not made over this policy with a key configured for approver "${approver.id}", or it was altered`,
    };
  if (header.policy !== policy.id)
    return {
      status: 'invalid',
      approver: approver.id,
      problem: `it is approver "${approver.id}"'s approval of another policy (${quoted(header.policy.slice(0, 100))}), not of "${policy.id}"`,
    };
  if (header.components.policy === policy.components.policy) {
    // The policy is as it was signed: what it depends on changed.
    const changed = (['contract', 'purpose'] as const).filter((k) => header.components[k] !== policy.components[k]);
    const what = changed.map((k) => `${k} ${policy[k]}`).join(' and ');
    const detail = changed.map((k) => `${k} content ${short(header.components[k])} then, ${short(policy.components[k])} now`).join('; ');
    return {
      status: 'stale',
      approver: approver.id,
      signedAt,
      problem: `is stale: ${what} changed since policy "${policy.id}" was signed by approver "${approver.id}" (${detail}); an approval covers the policy with the contract it releases from and the purpose it serves`,
    };
  }
  const change =
    header.version === policy.version
      ? `changed after signing, without a new version: approver "${approver.id}" signed version ${header.version} as content ${short(header.digest)}, it is now ${short(policy.contentDigest)} (give a changed policy a new version)`
      : `changed after signing: approver "${approver.id}" signed version ${header.version} (content ${short(header.digest)}), the policy is now version ${policy.version} (content ${short(policy.contentDigest)})`;
  return { status: 'stale', approver: approver.id, signedAt, problem: change };
}

/**
 * What `jws` says about a signed registry (registries.ts) as it is now, checked as a policy's
 * approval is: the same allow-list, header rules and approvers; its header names the registry.
 *
 * @example
 *   const verdict = await verifyRegistryApproval(entry.jws, registry, approvers);
 */
export async function verifyRegistryApproval(jws: string, registry: SignedRegistry, approvers: Approvers): Promise<ApprovalVerdict> {
  const open = openApproval(jws, 'registry', approvers);
  if ('status' in open) return open;
  const { header, encodedHeader, signature, approver, signedAt } = open;
  const now = await signedBy(approver, header.alg, encodedHeader, registry.contentDigest, signature);
  if (now !== undefined) {
    if (header.registry !== registry.id || header.digest !== registry.contentDigest)
      return {
        status: 'invalid',
        approver: approver.id,
        problem: `its header names registry ${quoted(String(header.registry).slice(0, 100))}, not this registry as it is; sign it again`,
      };
    return { status: 'valid', approver: approver.id, signedAt, thumbprint: now };
  }
  const then =
    header.digest === registry.contentDigest ? undefined : await signedBy(approver, header.alg, encodedHeader, header.digest, signature);
  if (then === undefined)
    return {
      status: 'invalid',
      approver: approver.id,
      problem: `signature invalid: it was not made over this registry with a key configured for approver "${approver.id}", or it was altered`,
    };
  if (header.registry !== registry.id)
    return {
      status: 'invalid',
      approver: approver.id,
      problem: `it is approver "${approver.id}"'s approval of another registry (${quoted(String(header.registry).slice(0, 100))}), not of "${registry.id}"`,
    };
  return {
    status: 'stale',
    approver: approver.id,
    signedAt,
    problem: `changed after signing: approver "${approver.id}" signed it as content ${short(header.digest)}, it is now ${short(registry.contentDigest)}`,
  };
}

// eslint-disable-next-line no-control-regex -- the control characters a forged header may carry
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

/**
 * A value from a header nobody vouches for, as a message may show it: in quotes, every control
 * character escaped, so a forged approval cannot rewrite the operator's terminal.
 */
function quoted(value: string): string {
  return JSON.stringify(value).replace(/[\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

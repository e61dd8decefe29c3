import type { Pseudonymizer } from '../audit/pseudonym.js';
import { CodedError } from '../errors.js';
import { addDuration, copenhagenDate } from '../policy/dates.js';
import type { ConsentEvidence, Purpose } from '../policy/types.js';
import { addDays, relationState } from '../relations/register.js';
import type { RelationStore } from '../relations/types.js';
import { MAX_CONSENTS_PER_SUBJECT, type ConsentStore, type StoredConsent } from '../store/consents.js';
import { artefactConsentId, verifyArtefact, type ConsentIssuer, type VerifiedArtefact } from './artefact.js';
import { consentStatus, type ConsentCandidate } from './status.js';
import type { ConsentQuery, ConsentRecord, ConsentService, ConsentSource } from './types.js';

export interface LedgerConsentSourceOptions {
  /** Longest a look-up may take, the consent services included; a slower one is a failure and denies (fail closed). Default 2000. */
  readonly timeoutMs?: number;
  /** The trusted consent services' keys: an artefact from a service is relied on only if it verifies. */
  readonly issuers?: ReadonlyMap<string, ConsentIssuer>;
  /** The consent services asked, at decision time, for the artefacts in force (for a policy that accepts citizen-signed). */
  readonly services?: readonly ConsentService[];
  /** The relations register: a consent tied to a case relation ends when the relation does. */
  readonly relations?: Pick<RelationStore, 'get'>;
  /** The purposes in force: an artefact's period counts only up to its purposes' consentMaxDuration. */
  readonly purposes?: () => ReadonlyMap<string, Purpose>;
}

/** A consent look-up that did not answer in time. */
export class ConsentLookupTimeoutError extends CodedError {
  readonly code = 'ERR_CONSENT_LOOKUP_TIMEOUT';
  constructor(ms: number) {
    super(`the consent look-up did not answer within ${ms} ms`);
  }
}

/**
 * The gateway's own consent registry as a consent source (the embedded default), with the
 * consent services the municipality trusts. Every check reads the store: there is no cache, so
 * a withdrawal recorded through any gateway instance stops the very next release on every
 * instance sharing the store. The citizen is looked up by pseudonym under every pseudonym key
 * (consents recorded before a key rotation still count); the CPR number itself is never stored.
 *
 * When the policy accepts citizen-signed consent and consent services are configured, each is
 * asked for the citizen's artefacts in force, in parallel with the registry: an artefact counts
 * only if it verifies under its issuer's key (the service's channel is not trusted for it), and
 * a recorded citizen-signed consent counts only while its service still holds it in force, so a
 * withdrawal the citizen makes at the service is honoured on the next request. A consent tied to
 * a case relation counts only while the relation is in force.
 *
 * A look-up that fails or takes longer than `timeoutMs` rejects; the pipeline turns that into
 * a deny with CONSENT_SOURCE_UNAVAILABLE (fail closed). A consent service that fails makes the
 * answer `unavailable` unless another consent permits on its own.
 *
 * @example
 *   const consent = ledgerConsentSource(store.consents, pseudonyms, { timeoutMs: 2000 });
 *   await consent.check({ cpr, recipient: 'SOF', purpose: 'summons-copy', contract, categories, fields, at: new Date() });
 */
export function ledgerConsentSource(
  store: { readonly consents: ConsentStore } | ConsentStore,
  pseudonyms: Pseudonymizer,
  options: LedgerConsentSourceOptions = {},
): ConsentSource {
  const consents: ConsentStore = 'consents' in store ? store.consents : store;
  const timeoutMs = options.timeoutMs ?? 2000;
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1) throw new TypeError('ledgerConsentSource: timeoutMs must be a positive integer');
  const issuers = options.issuers ?? new Map<string, ConsentIssuer>();
  const services = options.services ?? [];
  return {
    async check(query) {
      const subjects = pseudonyms.all(query.cpr);
      const asked = query.evidence.includes('citizen-signed') ? services : [];
      const abort = new AbortController();
      try {
        const [stored, found] = await withTimeout(
          Promise.all([consents.bySubject(subjects), inForceAt(asked, issuers, query, abort.signal)]),
          timeoutMs,
        );
        // A list cut at the cap may miss the record of a withdrawal: fail closed rather than guess.
        if (stored.length >= MAX_CONSENTS_PER_SUBJECT) return UNAVAILABLE;
        const candidates = await withTimeout(candidatesOf(consents, stored, found, query, pseudonyms, { ...options, issuers }), timeoutMs);
        const answer = consentStatus(candidates, query);
        return answer.status !== 'active' && found.failed.size > 0 ? UNAVAILABLE : answer;
      } finally {
        abort.abort();
      }
    },
  };
}

const UNAVAILABLE: ConsentEvidence = Object.freeze({ status: 'unavailable' });

/** What the consent services said: the verified artefacts in force, by issuer, and the services that did not answer. */
interface InForce {
  readonly artefacts: ReadonlyMap<string, readonly VerifiedArtefact[]>;
  readonly failed: ReadonlySet<string>;
}

async function inForceAt(
  services: readonly ConsentService[],
  issuers: ReadonlyMap<string, ConsentIssuer>,
  q: ConsentQuery,
  signal: AbortSignal,
): Promise<InForce> {
  const artefacts = new Map<string, VerifiedArtefact[]>();
  const failed = new Set<string>();
  await Promise.all(
    services.map(async (service) => {
      let answer: readonly string[];
      try {
        answer = await service.inForce(q.cpr, signal);
      } catch {
        failed.add(service.issuer);
        return;
      }
      const verified: VerifiedArtefact[] = [];
      for (const jws of answer) {
        // One that does not verify, names another citizen or another issuer is not relied on.
        const v = await verifyArtefact(jws, issuers, q.cpr, q.at).catch(() => undefined);
        if (v !== undefined && v.claims.iss === service.issuer) verified.push(v);
      }
      artefacts.set(service.issuer, verified);
    }),
  );
  return { artefacts, failed };
}

/**
 * The consents a decision weighs: the registry's (a recorded citizen-signed one only while its
 * issuer and key are still trusted, and withdrawn when its service, asked and answering, no longer
 * holds it in force), and the artefacts the services hold in force that are not recorded (whether
 * one is recorded is read by its id, however many consents the citizen has, so a withdrawal in
 * the registry always hides it); each with its period held to its purposes' maximum from the day
 * it was given, and whether its case relation has ended.
 */
async function candidatesOf(
  consents: ConsentStore,
  stored: readonly StoredConsent[],
  found: InForce,
  q: ConsentQuery,
  pseudonyms: Pseudonymizer,
  options: LedgerConsentSourceOptions & { readonly issuers: ReadonlyMap<string, ConsentIssuer> },
): Promise<ConsentCandidate[]> {
  const day = copenhagenDate(q.at);
  const byId = new Map(stored.map((s) => [s.consent.id, s]));
  const unread = [...found.artefacts.values()]
    .flat()
    .map((a) => artefactConsentId(a.claims.iss, a.claims.jti))
    .filter((id) => !byId.has(id));
  for (const recorded of await Promise.all(unread.map((id) => consents.get(id)))) {
    if (recorded !== undefined) byId.set(recorded.consent.id, recorded);
  }
  const candidates: ConsentCandidate[] = [];
  const recorded = new Set<string>();
  for (const s of byId.values()) {
    const artefact = s.consent.evidence.artefact;
    if (artefact !== undefined) {
      recorded.add(artefactConsentId(artefact.issuer, artefact.id));
      // An issuer (or key) no longer trusted vouches for nothing; a service that could not say
      // whether the citizen withdrew it leaves it unconfirmed (the answer is then unavailable).
      if (options.issuers.get(artefact.issuer)?.keys.has(artefact.kid) !== true || found.failed.has(artefact.issuer)) continue;
    }
    candidates.push(bounded(standing(s, found, day), options));
  }
  for (const list of found.artefacts.values()) {
    for (const a of list) {
      if (!recorded.has(artefactConsentId(a.claims.iss, a.claims.jti)))
        candidates.push(bounded({ consent: artefactConsent(a, pseudonyms.pseudonym(q.cpr)), state: 'active' }, options));
    }
  }
  const relations = options.relations;
  if (relations === undefined) return candidates;
  return Promise.all(
    candidates.map(async (c) => {
      if (c.consent.relation === undefined) return c;
      const r = await relations.get(c.consent.relation);
      return { ...c, relationEnded: r === undefined || relationState(r.relation, day) !== 'active' };
    }),
  );
}

/** A recorded consent as it stands: a citizen-signed one its service (asked) no longer holds in force is withdrawn there. */
function standing(s: StoredConsent, found: InForce, day: string): ConsentCandidate {
  const artefact = s.consent.evidence.artefact;
  if (artefact === undefined) return s;
  const inForce = found.artefacts.get(artefact.issuer);
  // Not asked, held in force, or its period over anyway (then it has expired, not been withdrawn).
  if (inForce === undefined || inForce.some((a) => a.claims.jti === artefact.id) || day > s.consent.scope.validTo) return s;
  return { ...s, state: 'withdrawn' };
}

/**
 * The consent with its period ending no later than each of its purposes' consentMaxDuration
 * allows from the day it was given (the artefact's givenAt, or the day it was recorded): a
 * consent recorded before the bounds, or an artefact a service issued for longer, counts only so long.
 */
function bounded(c: ConsentCandidate, options: Pick<LedgerConsentSourceOptions, 'purposes'>): ConsentCandidate {
  const scope = c.consent.scope;
  const givenOn = copenhagenDate(new Date(c.consent.evidence.artefact?.givenAt ?? c.consent.recordedAt));
  const validTo = [scope.validTo, ...scope.purposes.map((p) => maxEnd(givenOn, p, options))].sort()[0]!;
  return validTo === scope.validTo ? c : { ...c, consent: { ...c.consent, scope: { ...scope, validTo } } };
}

/** An artefact found at a consent service, as a consent the decision can weigh (never stored), citing the artefact's digest. */
function artefactConsent(a: VerifiedArtefact, subject: string): ConsentRecord {
  const c = a.claims;
  return {
    id: `${c.iss}/${c.jti}`,
    subject,
    scope: {
      recipients: c.recipients,
      sources: c.sources,
      purposes: c.purposes,
      contracts: c.contracts ?? [],
      categories: c.categories ?? [],
      validFrom: c.validFrom,
      validTo: c.validTo,
    },
    evidence: {
      kind: 'citizen-signed',
      reference: `${c.iss}/${c.jti}`,
      artefact: { issuer: c.iss, id: c.jti, kid: a.kid, digest: a.digest, text: c.text, givenAt: c.givenAt },
    },
    recordedBy: { system: c.iss, administration: c.iss, caseworker: null },
    givenBy: c.givenBy,
    recordedAt: new Date(c.iat * 1000).toISOString(),
    receipt: '',
    receiptDigest: a.digest,
  };
}

/** The last day a consent from `from` for `purpose` may run: its consentMaxDuration (default P1Y) less a day. */
export function maxEnd(from: string, purpose: string, options: Pick<LedgerConsentSourceOptions, 'purposes'>): string {
  const duration = options.purposes?.().get(purpose)?.consentMaxDuration ?? DEFAULT_CONSENT_MAX_DURATION;
  return addDays(addDuration(from, duration), -1);
}

/** A purpose's maximum consent duration when purposes.yaml names none. */
export const DEFAULT_CONSENT_MAX_DURATION = 'P1Y';

/** The promise's value, or a ConsentLookupTimeoutError after `ms`. */
export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ConsentLookupTimeoutError(ms)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

import { randomUUID } from 'node:crypto';
import type { Client } from '../auth/clients.js';
import type { RequestToken } from '../auth/token.js';
import { auditEntry, policyRef, withRecipient, type ExchangeFacts } from '../audit/entry.js';
import { DENY_REASON, NOTIFICATION_AUDIT, callerDenyReasons, denialCode } from '../audit/reasons.js';
import type { AuditEntry } from '../audit/types.js';
import type { Contract } from '../contracts/types.js';
import { GatewayError, isGatewayError } from '../errors.js';
import { isIdempotencyKey, keyDigest } from '../outbox/idempotency-key.js';
import {
  IdempotencyKeyTakenError,
  type AcceptedNotification,
  type DeliveryMeta,
  type NewDelivery,
  type OutboxStore,
} from '../outbox/types.js';
import { decide } from '../policy/evaluate.js';
import { legalBasisText } from '../policy/legal-basis.js';
import type { Decision, PolicySet } from '../policy/types.js';
import { sha256b64url } from '../lib/digest.js';
import { beginExchange, elapsedMs } from './begin.js';
import { categoriesOf, consentCheck, consentRequirement } from './consent-check.js';
import { checkContract, type CheckedRequest } from './contract-check.js';
import { relationCheck, relationReasonsOf } from './relation-check.js';
import { subjectAge } from './subject.js';
import type { ExchangeDeps, ExchangeRequest } from './deps.js';
import { minimiseEvent, type Kept } from './minimise.js';

/** The notification pipeline's extra parts: the durable outbox and a nudge for its worker. */
export interface NotificationDeps extends ExchangeDeps {
  readonly outbox: OutboxStore;
  /** Tells the delivery worker there is something new (it would find it on its next poll anyway). */
  readonly wake?: () => void;
}

/** What the provider learns about one recipient. */
export type DeliveryReceipt =
  | {
      readonly recipient: Recipient;
      readonly status: 'queued';
      readonly deliveryId: string;
      readonly released: readonly string[];
      readonly withheld: readonly string[];
    }
  | { readonly recipient: Recipient; readonly status: 'refused'; readonly reasons: readonly string[] };

export interface Recipient {
  readonly system: string;
  readonly administration: string;
}

/** The 202 answer: the event is audited and durable in the outbox for every permitted recipient. */
export interface NotificationResult {
  readonly auditId: string;
  readonly contract: string;
  readonly purpose: string;
  readonly deliveries: readonly DeliveryReceipt[];
}

/**
 * A notification, end to end: token, contract and sender, policy per recipient, minimise per
 * recipient, audit and outbox in one commit, respond.
 *
 * The provider system the contract names posts an event about a citizen. For every registered
 * recipient system (a client with an endpoint, in an administration some policy of this
 * contract names as recipient, holding a role such a policy names), the policies decide whether
 * it may receive the event and which fields, exactly as for a query with the recipient as the
 * receiving party (consent included). One audit record per recipient decision and one outbox
 * row per permitted recipient, holding the minimised payload, are made durable in one commit
 * (with the Idempotency-Key, if any); only then does the provider get 202 with the audit id.
 * Delivery (src/outbox/worker.ts) happens after, with retries, and survives restarts. If no
 * recipient is permitted, the answer is 403 POLICY_DENIED with every recipient's reasons
 * (CONSENT_REQUIRED when every reason is about consent), audited the same way.
 */
export async function runNotification(deps: NotificationDeps, req: ExchangeRequest): Promise<NotificationResult> {
  const exchange = beginExchange(deps, req);
  const { rules, at, facts, refuse } = exchange;

  // 2 token
  let token: RequestToken;
  let checked: CheckedRequest;
  let present: string[];
  let idempotency: { readonly keyDigest: string; readonly bodyDigest: string } | undefined;
  let acceptedBefore: AcceptedNotification | undefined;
  try {
    token = await exchange.verifyToken();

    // 3 contract, and the sender: only the contract's provider system may send it, checked
    // before its body is looked at; and the Idempotency-Key, if any
    const named = rules.contracts.get(req.contractId);
    if (named?.kind === 'notification' && (req.client.id !== named.provider.system || !req.client.roles.includes('provider'))) {
      facts.contract = named.id;
      throw new GatewayError('NOTIFICATION_SENDER_INVALID');
    }
    checked = checkContract(rules.contracts, req.contractId, 'notification', req.body);
    facts.contract = checked.contract.id;
    facts.subject = deps.pseudonyms.pseudonym(checked.cpr);
    const event = checked.body.event as Record<string, unknown>;
    present = checked.contract.fieldNames.filter((f) => Object.hasOwn(event, f));
    facts.fields = { requested: present };
    if (!rules.policies.purposes.has(token.purpose)) throw new GatewayError('PURPOSE_UNKNOWN');

    if (req.idempotencyKey !== undefined) {
      if (!isIdempotencyKey(req.idempotencyKey)) throw new GatewayError('IDEMPOTENCY_KEY_INVALID');
      idempotency = { keyDigest: keyDigest(req.client.id, req.idempotencyKey), bodyDigest: sha256b64url(req.body) };
      try {
        acceptedBefore = await deps.outbox.accepted(idempotency.keyDigest);
      } catch (err) {
        throw new GatewayError('OUTBOX_UNAVAILABLE', {}, { cause: err });
      }
      if (acceptedBefore !== undefined && acceptedBefore.bodyDigest !== idempotency.bodyDigest)
        throw new GatewayError('IDEMPOTENCY_KEY_REUSED');
    }
  } catch (err) {
    return refuse(err);
  }
  // Sent before under the same key, with the same body: the first answer, nothing queued again.
  // The record goes with the first notification's (its audit id), and claims this token.
  if (acceptedBefore !== undefined) {
    await exchange.recordDecision([alreadyAccepted({ ...facts, auditId: acceptedBefore.auditId }, req)]);
    return JSON.parse(acceptedBefore.result) as NotificationResult;
  }
  const contract = checked.contract;
  const event = checked.body.event as Record<string, unknown>;

  // 4 policy, recipient by recipient
  const recipients = recipientSystems(rules.policies, rules.clients.clients, contract, req.client.id);
  const relations = relationCheck(deps, checked.cpr, at, [req.client.administration, ...recipients.map((r) => r.administration)]);
  const age = subjectAge(checked.cpr, at);
  const decisions: { recipient: Client; decision: Decision }[] = [];
  try {
    for (const recipient of recipients) {
      const decision = await decide(
        rules.policies,
        rules.contracts,
        {
          contract: contract.id,
          administration: recipient.administration,
          roles: recipient.roles,
          purpose: token.purpose,
          requestedFields: present,
          at,
          provider: req.client.administration,
          subjectAge: age,
        },
        consentCheck(
          deps,
          checked.cpr,
          { recipient: recipient.administration, source: req.client.administration, caller: req.client.administration },
          contract,
          at,
        ),
        relations,
      );
      decisions.push({ recipient, decision });
    }
  } catch (err) {
    return refuse(err); // the relations register could not be read: nothing is decided
  }

  // 5 minimise, recipient by recipient: a permitted recipient's delivery holds only its released
  // fields; every decision gets its audit record
  const notification: Notification = { req, token, facts, policySet: rules.policies.digest, contract, cpr: checked.cpr, present };
  let entries: AuditEntry[] = [];
  const deliveries: NewDelivery[] = [];
  const receipts: DeliveryReceipt[] = [];
  for (const { recipient, decision } of decisions) {
    const who: Recipient = { system: recipient.id, administration: recipient.administration };
    const f: ExchangeFacts = {
      ...facts,
      ...(decision.policy ? { policy: policyRef(decision.policy), legalBasis: legalBasisText(decision.policy) } : {}),
      ...(decision.consent?.receiptDigest ? { consent: decision.consent.receiptDigest } : {}),
    };
    if (decision.decision === 'deny') {
      // A recipient that does not serve the citizen (need to know) is skipped: the sender's
      // answer does not name it, so the sender learns nothing about it; the trail says why.
      const skipped = decision.reasons.includes(DENY_REASON.relationMissing);
      const reasons = skipped ? [NOTIFICATION_AUDIT.skipped, ...decision.reasons] : decision.reasons;
      entries.push(
        withRecipient(auditEntry('notification', { ...f, decision: 'deny', reasons, latencyMs: elapsedMs(req.receivedAt) }), who),
      );
      if (!skipped) receipts.push({ recipient: who, status: 'refused', reasons: callerDenyReasons(decision.reasons) });
      continue;
    }
    const kept = minimiseEvent(event, decision.fields, present);
    const { released, withheld } = kept;
    entries.push(
      withRecipient(
        auditEntry('notification', {
          ...f,
          decision: 'permit',
          reasons: [NOTIFICATION_AUDIT.queued, ...relationReasonsOf(decision.relations)],
          fields: { requested: present, released, withheld },
          latencyMs: elapsedMs(req.receivedAt),
        }),
        who,
      ),
    );
    const delivery = newDelivery(notification, who, decision, kept);
    deliveries.push(delivery);
    receipts.push({ recipient: who, status: 'queued', deliveryId: delivery.id, released, withheld });
  }
  if (entries.length === 0) {
    // Nobody could receive it: no policy names a recipient, or no such system is registered.
    const reasons = rules.policies.policies.some((p) => p.contract === contract.id)
      ? [NOTIFICATION_AUDIT.noRecipient]
      : [DENY_REASON.noPolicy];
    entries.push(auditEntry('notification', { ...facts, decision: 'deny', reasons, latencyMs: elapsedMs(req.receivedAt) }));
  }
  // The status the provider gets: 202 if anyone may receive it, or if every recipient was skipped
  // for need to know (the answer lists nobody); else 403 with the reasons of the recipients it
  // may hear of (audited, nothing queued).
  const refusals = receipts.filter((r) => r.status === 'refused');
  const skippedAll = deliveries.length === 0 && refusals.length === 0 && entries.some((e) => e.reasons[0] === NOTIFICATION_AUDIT.skipped);
  const status = deliveries.length > 0 || skippedAll ? 202 : 403;
  entries = entries.map((e) => ({ ...e, status }));
  if (deliveries.length === 0 && !skippedAll) {
    await exchange.recordDecision(entries);
    const reasons =
      refusals.length > 0 ? [...new Set(refusals.flatMap((r) => r.reasons))] : callerDenyReasons(entries.flatMap((e) => e.reasons));
    throw Object.assign(new GatewayError(denialCode(reasons), { reasons }), { auditId: facts.auditId });
  }

  // 6 audit and outbox, in one commit: a QUEUED record exists exactly when its deliveries (and
  // the answer under the Idempotency-Key) do, and the provider hears "accepted" only after that
  // commit.
  const result: NotificationResult = { auditId: facts.auditId, contract: contract.id, purpose: token.purpose, deliveries: receipts };
  const accepted = idempotency && {
    ...idempotency,
    sender: req.client.id,
    auditId: facts.auditId,
    result: JSON.stringify(result),
    createdAt: Date.now(),
  };
  try {
    await exchange.recordDecision(entries, accepted === undefined ? { deliveries } : { deliveries, accepted });
  } catch (err) {
    if (isGatewayError(err) && err.code === 'OUTBOX_UNAVAILABLE') return refuse(err);
    if (!(err instanceof IdempotencyKeyTakenError)) throw err;
    // A request with the same key was accepted while this one was being decided: nothing of this
    // one was written. Answered as if it had come after: the first answer (same body), or refused.
    let first: AcceptedNotification | undefined;
    try {
      first = await deps.outbox.accepted(idempotency!.keyDigest);
    } catch (cause) {
      return refuse(new GatewayError('OUTBOX_UNAVAILABLE', {}, { cause }));
    }
    if (first === undefined) return refuse(new GatewayError('OUTBOX_UNAVAILABLE')); // forgotten at this very moment: send it again
    if (first.bodyDigest !== idempotency!.bodyDigest) return refuse(new GatewayError('IDEMPOTENCY_KEY_REUSED'));
    await exchange.recordDecision([alreadyAccepted({ ...facts, auditId: first.auditId }, req)]);
    return JSON.parse(first.result) as NotificationResult;
  }

  // 7 respond: 202, and the delivery worker is told there is something to send
  deps.wake?.();
  return result;
}

/** The notification being queued: what every one of its deliveries shares. */
interface Notification {
  readonly req: ExchangeRequest;
  readonly token: RequestToken;
  readonly facts: ExchangeFacts;
  readonly policySet: string;
  readonly contract: Contract;
  readonly cpr: string;
  /** The contract's fields the event holds. */
  readonly present: readonly string[];
}

/**
 * The outbox row of one permitted recipient: the minimised event, and what the worker needs to
 * deliver it, to check consent and need to know again before sending, and to write the delivery's
 * audit record.
 */
function newDelivery(n: Notification, who: Recipient, decision: Extract<Decision, { decision: 'permit' }>, kept: Kept): NewDelivery {
  const { req, token, contract } = n;
  const { released, withheld } = kept;
  const policy = decision.policy;
  const meta: DeliveryMeta = {
    purpose: token.purpose,
    policy: policyRef(policy),
    policySet: n.policySet,
    legalBasis: legalBasisText(policy),
    consent: decision.consent?.receiptDigest ?? null,
    consentCheck: policy.consent.required
      ? consentRequirement(
          { recipient: who.administration, source: req.client.administration, caller: req.client.administration },
          policy,
          contract.id,
          categoriesOf(contract, released),
          released,
        )
      : null,
    relationCheck:
      policy.relation !== undefined
        ? { requirement: policy.relation, administration: who.administration, provider: req.client.administration }
        : null,
    fields: { requested: n.present, released, withheld },
    caller: { system: req.client.id, administration: req.client.administration },
    caseworker: token.caseworker,
    caseRef: token.caseRef,
    tokenDigest: token.digest,
  };
  return {
    id: randomUUID(),
    auditId: n.facts.auditId,
    requestId: req.requestId,
    contract: contract.id,
    recipient: who,
    subject: n.facts.subject!,
    meta,
    payload: JSON.stringify({ cpr: n.cpr, event: kept.data }),
    createdAt: Date.now(),
  };
}

/** The record of a notification answered from one accepted before under the same key. */
function alreadyAccepted(facts: ExchangeFacts, req: ExchangeRequest): AuditEntry {
  return auditEntry('notification', {
    ...facts,
    decision: null,
    reasons: [NOTIFICATION_AUDIT.alreadyAccepted],
    status: 202,
    latencyMs: elapsedMs(req.receivedAt),
  });
}

const recipientCache = new WeakMap<PolicySet, Map<string, ReadonlyMap<string, ReadonlySet<string>>>>();

/** The administrations named as recipients by the policies of a contract, each with the roles named. */
function recipientRoles(set: PolicySet, contract: string): ReadonlyMap<string, ReadonlySet<string>> {
  let byContract = recipientCache.get(set);
  if (!byContract) recipientCache.set(set, (byContract = new Map<string, ReadonlyMap<string, ReadonlySet<string>>>()));
  let roles = byContract.get(contract);
  if (!roles) {
    const built = new Map<string, Set<string>>();
    for (const p of set.policies) {
      if (p.contract !== contract) continue;
      for (const a of p.requester.administrations) {
        const s = built.get(a) ?? new Set<string>();
        for (const r of p.requester.roles) s.add(r);
        built.set(a, s);
      }
    }
    roles = built;
    byContract.set(contract, roles);
  }
  return roles;
}

/**
 * The systems that may be asked to receive: registered with an endpoint, not the sender, in an
 * administration a policy of this contract names as recipient, holding a role it names.
 */
export function recipientSystems(set: PolicySet, clients: readonly Client[], contract: Contract, sender: string): Client[] {
  const roles = recipientRoles(set, contract.id);
  return clients.filter((c) => {
    if (c.id === sender || c.endpoint === undefined) return false;
    const named = roles.get(c.administration);
    return named !== undefined && c.roles.some((r) => named.has(r));
  });
}

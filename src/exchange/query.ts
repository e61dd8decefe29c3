import type { RequestToken } from '../auth/token.js';
import { auditEntry, policyRef } from '../audit/entry.js';
import { callerDenyReasons, denialCode } from '../audit/reasons.js';
import { writeAudit } from '../audit/write.js';
import { GatewayError } from '../errors.js';
import { sha256b64url, canonicalJson } from '../lib/digest.js';
import { decide } from '../policy/evaluate.js';
import { legalBasisText } from '../policy/legal-basis.js';
import type { ConsentEvidence, Decision } from '../policy/types.js';
import { postJson, signGatewayToken } from '../upstream/provider.js';
import { beginExchange, elapsedMs } from './begin.js';
import { consentCheck } from './consent-check.js';
import { checkContract, type CheckedRequest } from './contract-check.js';
import type { ExchangeDeps, ExchangeRequest } from './deps.js';
import { minimise } from './minimise.js';
import { relationCheck, relationReasonsOf } from './relation-check.js';
import { subjectAge } from './subject.js';

/** What the caller receives for a permitted query (ARCHITECTURE step 9). */
export interface Disclosure {
  readonly auditId: string;
  readonly policy: { readonly id: string; readonly version: number };
  readonly purpose: string;
  readonly legalBasis: string;
  readonly released: readonly string[];
  readonly withheld: readonly string[];
}

export interface QueryResult {
  readonly data: Record<string, unknown>;
  readonly disclosure: Disclosure;
}

/**
 * A query, end to end: token, contract, policy (need to know and consent included), audit,
 * forward, minimise, audit, respond.
 * Every refusal after the caller is identified is in the audit trail before it is answered;
 * nothing is released unless its release record is durable.
 */
export async function runQuery(deps: ExchangeDeps, req: ExchangeRequest): Promise<QueryResult> {
  const exchange = beginExchange(deps, req);
  const { rules, at, facts, refuse } = exchange;

  // 2 token
  let token: RequestToken;
  let checked: CheckedRequest;
  let decision: Decision;
  try {
    token = await exchange.verifyToken();

    // 3 contract
    checked = checkContract(rules.contracts, req.contractId, 'query', req.body);
    facts.contract = checked.contract.id;
    facts.subject = deps.pseudonyms.pseudonym(checked.cpr);
    facts.fields = { requested: checked.requestedFields };
    if (!rules.policies.purposes.has(token.purpose)) throw new GatewayError('PURPOSE_UNKNOWN');

    // 4 policy
    const contract = checked.contract;
    decision = await decide(
      rules.policies,
      rules.contracts,
      {
        contract: contract.id,
        administration: req.client.administration,
        roles: req.client.roles,
        purpose: token.purpose,
        requestedFields: checked.requestedFields,
        at,
        provider: contract.provider.administration,
        caseworker: token.caseworker,
        subjectAge: subjectAge(checked.cpr, at),
      },
      consentCheck(
        deps,
        checked.cpr,
        { recipient: req.client.administration, source: contract.provider.administration, caller: req.client.administration },
        contract,
        at,
      ),
      relationCheck(deps, checked.cpr, at),
    );
  } catch (err) {
    return refuse(err);
  }

  // 5 audit the decision
  const consent: ConsentEvidence | undefined = decision.consent;
  if (decision.policy) {
    facts.policy = policyRef(decision.policy);
    facts.legalBasis = legalBasisText(decision.policy);
  }
  if (consent?.receiptDigest) facts.consent = consent.receiptDigest;
  if (decision.decision === 'deny') {
    const denied = new GatewayError(denialCode(decision.reasons), { reasons: callerDenyReasons(decision.reasons) });
    await exchange.recordDecision([
      auditEntry('decision', {
        ...facts,
        decision: 'deny',
        reasons: decision.reasons,
        status: denied.status,
        latencyMs: elapsedMs(req.receivedAt),
      }),
    ]);
    denied.auditId = facts.auditId;
    throw denied;
  }
  const policy = decision.policy;
  // The provider's token is signed here, before the decision record is written (signing is
  // synchronous, it does not overlap the write); it is sent only once the record is durable, and a
  // decision that fails to write leaves it unused.
  const provider = rules.clients.byId(checked.contract.provider.system);
  const upstreamPath = `/snitflade/v1/queries/${checked.contract.id}`;
  const upstreamBody = JSON.stringify({ cpr: checked.cpr, fields: decision.fields });
  const upstreamToken = provider?.endpoint
    ? signGatewayToken(deps.upstream, {
        audience: provider.id,
        purpose: token.purpose,
        policy: `${policy.id}@${policy.version}`,
        auditId: facts.auditId,
        path: upstreamPath,
        body: upstreamBody,
      })
    : undefined;
  upstreamToken?.catch(() => undefined); // awaited below; a decision that fails to write leaves it unawaited
  await exchange.recordDecision([
    auditEntry('decision', {
      ...facts,
      decision: 'permit',
      reasons: relationReasonsOf(decision.relations),
      fields: { requested: checked.requestedFields, released: decision.fields },
    }),
  ]);

  const releaseFailure = async (err: GatewayError, dropped: readonly string[] = []): Promise<never> => {
    await writeAudit(
      deps.trail,
      auditEntry('release', {
        ...facts,
        decision: 'permit',
        reasons: [err.code],
        fields: { requested: checked.requestedFields, withheld: checked.requestedFields, dropped },
        status: err.status,
        latencyMs: elapsedMs(req.receivedAt),
      }),
      deps.observe,
    );
    err.auditId = facts.auditId;
    throw err;
  };

  // 6 forward: ask only for what may be released, holding one of the provider's slots while
  // waiting for it (a provider that hangs holds only its own slots)
  const providerSystem = checked.contract.provider.system;
  let answer;
  if (!provider?.endpoint || upstreamToken === undefined) {
    answer = { ok: false as const, code: 'PROVIDER_UNAVAILABLE' as const, status: null, latencyMs: 0 };
  } else {
    const release = deps.providerSlots.take(providerSystem);
    if (release === undefined) {
      deps.observe?.provider(providerSystem, 'PROVIDER_BUSY', 0);
      return releaseFailure(new GatewayError('PROVIDER_BUSY', { retryAfterSeconds: 1 }));
    }
    try {
      answer = await postJson(deps.upstream, provider.endpoint, upstreamPath, upstreamBody, {
        authorization: `Bearer ${await upstreamToken}`,
        'x-request-id': req.requestId,
      });
    } finally {
      release();
    }
  }
  deps.observe?.provider(providerSystem, answer.ok ? String(answer.status) : answer.code, answer.latencyMs / 1000);
  facts.upstream = { status: answer.status, latencyMs: answer.latencyMs };

  // 7 minimise
  if (!answer.ok) return releaseFailure(new GatewayError(answer.code));
  const kept = minimise(checked.contract, decision.fields, checked.requestedFields, answer.data);
  if (!kept.ok) return releaseFailure(new GatewayError('PROVIDER_RESPONSE_INVALID'), kept.dropped);

  // 8 audit the release
  const disclosure: Disclosure = {
    auditId: facts.auditId,
    policy: { id: policy.id, version: policy.version },
    purpose: token.purpose,
    legalBasis: facts.legalBasis!,
    released: kept.released,
    withheld: kept.withheld,
  };
  await writeAudit(
    deps.trail,
    auditEntry('release', {
      ...facts,
      decision: 'permit',
      fields: { requested: checked.requestedFields, released: kept.released, withheld: kept.withheld, dropped: kept.dropped },
      responseDigest: sha256b64url(canonicalJson(kept.data)),
      status: 200,
      latencyMs: elapsedMs(req.receivedAt),
    }),
    deps.observe,
  );

  // 9 respond
  return { data: kept.data, disclosure };
}

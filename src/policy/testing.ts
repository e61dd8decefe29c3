import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { DenyReason } from '../audit/reasons.js';
import { contractAjv } from '../contracts/ajv.js';
import { displayPath } from '../contracts/registry.js';
import { byFileAndLine, parseYamlSource, schemaErrors } from '../contracts/source.js';
import type { ContractRegistry } from '../contracts/types.js';
import { LoadError, LoadErrors } from '../lib/load-error.js';
import { assumedRelations, decide, DEFAULT_SUBJECT_AGE, otherSide, type AssumedRelation, type ConsentCheck } from './evaluate.js';
import { evidenceAccepted } from './evidence.js';
import { policyCasesSchema } from './schemas.js';
import type { ConsentStatus, EvidenceLevel, PolicySet } from './types.js';

/**
 * Policy test cases: a lawyer's intent written beside the policy (policies/<id>.test.yaml) and
 * checked by `npm test` against the real evaluator.
 */
export const CASES_SUFFIX = '.test.yaml';

export interface PolicyCaseRequest {
  readonly contract: string;
  readonly administration: string;
  readonly roles: readonly string[];
  readonly purpose: string;
  readonly fields: readonly string[];
  /** The day of the request (YYYY-MM-DD, read as noon UTC, which is the same date in Copenhagen); default today. */
  readonly at?: string;
  /** What the consent registry answers; default "missing". */
  readonly consent?: ConsentStatus;
  /**
   * For `consent: active`, the evidence that consent rests on: its level and, for a caseworker's
   * record, the administration that recorded it; default citizen-signed. The policy's
   * `consent.evidence` is applied to it as the registry applies it (a consent on evidence the
   * policy does not accept answers `evidence`).
   */
  readonly consentEvidence?: { readonly level: EvidenceLevel; readonly recordedBy?: string };
  /** The token's caseworker (a policy with `sameCaseworker` compares it with the relation's). */
  readonly caseworker?: string;
  /** The citizen's age on the day, in completed years (a policy's `subject:` clause); default 40, an adult. */
  readonly subjectAge?: number;
  /** The relations in force on the day, with the citizen (need to know); default none. */
  readonly relations?: readonly AssumedRelation[];
}

export type PolicyCaseOutcome =
  | { readonly decision: 'permit'; readonly policy: string; readonly fields: readonly string[] }
  | { readonly decision: 'deny'; readonly reasons: readonly DenyReason[] };

export interface PolicyCase {
  /** The case file, relative to the project root. */
  readonly file: string;
  /** 1-based line of the case in its file. */
  readonly line: number | undefined;
  /** The policy the file is about (its `policy:`). */
  readonly policy: string;
  readonly name: string;
  readonly request: PolicyCaseRequest;
  readonly expect: PolicyCaseOutcome;
}

export interface PolicyCaseResult {
  readonly file: string;
  readonly line: number | undefined;
  readonly policy: string;
  readonly name: string;
  readonly ok: boolean;
  readonly expected: PolicyCaseOutcome;
  readonly actual: PolicyCaseOutcome;
  /** The evaluator's explanation, for a failing case's message. */
  readonly trace: readonly string[];
}

export interface PolicyCoverage {
  /** True when every list below is empty. */
  readonly complete: boolean;
  /** Policies no case file is about. */
  readonly policiesWithoutCases: readonly string[];
  /** Policies no case expects to permit. */
  readonly policiesWithoutPermitCase: readonly string[];
  /** Policies whose case file has no deny case. */
  readonly policiesWithoutDenyCase: readonly string[];
  /** Permitted fields that no passing permit case releases. */
  readonly fieldsNotExercised: readonly { readonly policy: string; readonly field: string }[];
  /** Case files about a policy that does not exist. */
  readonly unknownPolicies: readonly string[];
}

/** A cases file once its schema has checked it. */
type PolicyCasesDoc = { policy: string; cases: Omit<PolicyCase, 'file' | 'line' | 'policy'>[] };
const validateCases = contractAjv({ allErrors: true }).compile<PolicyCasesDoc>(policyCasesSchema);

/**
 * Reads every `*.test.yaml` in `dir`. Throws LoadErrors (file, line, path) for a broken file,
 * a file named after another policy than its `policy:`, or two cases with the same name.
 */
export function loadPolicyCases(dir: string): PolicyCase[] {
  const errors: LoadError[] = [];
  const cases: PolicyCase[] = [];
  let names: string[];
  try {
    names = readdirSync(dir)
      .filter((n) => n.endsWith(CASES_SUFFIX))
      .sort();
  } catch (err) {
    throw new LoadErrors([new LoadError(displayPath(dir), '', `cannot read the policies folder: ${(err as Error).message}`)]);
  }
  for (const name of names) {
    const shown = displayPath(path.join(dir, name));
    let text: string;
    try {
      text = readFileSync(path.join(dir, name), 'utf8');
    } catch (err) {
      errors.push(new LoadError(shown, '', `cannot read the file: ${(err as Error).message}`));
      continue;
    }
    const src = parseYamlSource(shown, text);
    if (Array.isArray(src)) {
      errors.push(...src);
      continue;
    }
    if (!validateCases(src.value)) {
      errors.push(...schemaErrors(src, validateCases.errors ?? [], validateCases.schema));
      continue;
    }
    const doc = src.value;
    if (name !== `${doc.policy}${CASES_SUFFIX}`) {
      errors.push(
        src.error('/policy', `the cases are about "${doc.policy}" but the file is named ${name}; name it "${doc.policy}${CASES_SUFFIX}"`),
      );
    }
    const seen = new Set<string>();
    doc.cases.forEach((c, i) => {
      if (seen.has(c.name)) errors.push(src.error(`/cases/${i}/name`, `two cases are named "${c.name}"; give each case its own name`));
      seen.add(c.name);
      cases.push({ file: shown, line: src.lineOf(`/cases/${i}`), policy: doc.policy, name: c.name, request: c.request, expect: c.expect });
    });
  }
  if (errors.length > 0) throw new LoadErrors(byFileAndLine(errors));
  return cases;
}

/** An expected or actual outcome of a case, in words. */
export function describeOutcome(o: PolicyCaseOutcome): string {
  return o.decision === 'permit' ? `permit by ${o.policy} of [${o.fields.join(', ')}]` : `deny (${o.reasons.join(', ')})`;
}

/** A case's day as an instant: noon UTC is the same calendar date in Copenhagen. */
function caseInstant(at: string | undefined): Date {
  return at === undefined ? new Date() : new Date(`${at}T12:00:00Z`);
}

const sameSet = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((x) => b.includes(x));

/** Runs one case through the real evaluator. */
export async function runPolicyCase(set: PolicySet, contracts: ContractRegistry, c: PolicyCase): Promise<PolicyCaseResult> {
  const status: ConsentStatus = c.request.consent ?? 'missing';
  const evidence = c.request.consentEvidence ?? { level: 'citizen-signed' };
  const consent: ConsentCheck = async (policy) => {
    if (status !== 'active') return { status };
    const accepted = evidenceAccepted(policy.consent.evidence, evidence.level, evidence.recordedBy ?? '', {
      recipient: c.request.administration,
      caller: policy.recipient !== undefined ? (otherSide(contracts, c.request.contract).provider ?? '') : c.request.administration,
    });
    return accepted ? { status, consentId: 'policy-case-consent', level: evidence.level } : { status: 'evidence' };
  };
  const decision = await decide(
    set,
    contracts,
    {
      contract: c.request.contract,
      administration: c.request.administration,
      roles: c.request.roles,
      purpose: c.request.purpose,
      requestedFields: c.request.fields,
      at: caseInstant(c.request.at),
      ...otherSide(contracts, c.request.contract),
      caseworker: c.request.caseworker ?? null,
      subjectAge: c.request.subjectAge ?? DEFAULT_SUBJECT_AGE,
    },
    consent,
    assumedRelations(c.request.relations ?? []),
  );
  const actual: PolicyCaseOutcome =
    decision.decision === 'permit'
      ? { decision: 'permit', policy: decision.policy.id, fields: decision.fields }
      : { decision: 'deny', reasons: decision.reasons };
  const e = c.expect;
  const ok =
    e.decision === 'permit'
      ? actual.decision === 'permit' && actual.policy === e.policy && sameSet(actual.fields, e.fields)
      : actual.decision === 'deny' && sameSet(actual.reasons, e.reasons);
  return { file: c.file, line: c.line, policy: c.policy, name: c.name, ok, expected: e, actual, trace: decision.trace };
}

/**
 * Runs every case and measures coverage: each policy needs at least one permit case and one
 * deny case, and every field it permits must be released by some passing permit case.
 */
export async function runPolicyCases(
  set: PolicySet,
  contracts: ContractRegistry,
  cases: readonly PolicyCase[],
): Promise<{ results: PolicyCaseResult[]; coverage: PolicyCoverage }> {
  const results: PolicyCaseResult[] = [];
  for (const c of cases) results.push(await runPolicyCase(set, contracts, c));
  return { results, coverage: coverage(set, results) };
}

function coverage(set: PolicySet, results: readonly PolicyCaseResult[]): PolicyCoverage {
  const ids = new Set(set.policies.map((p) => p.id));
  const about = new Set(results.map((r) => r.policy));
  const permitExpected = new Set(results.flatMap((r) => (r.expected.decision === 'permit' ? [r.expected.policy] : [])));
  const denyCase = new Set(results.filter((r) => r.expected.decision === 'deny').map((r) => r.policy));
  const released = new Map<string, Set<string>>();
  for (const r of results) {
    if (!r.ok || r.actual.decision !== 'permit') continue;
    let s = released.get(r.actual.policy);
    if (!s) released.set(r.actual.policy, (s = new Set()));
    for (const f of r.actual.fields) s.add(f);
  }
  const policiesWithoutCases = set.policies.filter((p) => !about.has(p.id)).map((p) => p.id);
  const policiesWithoutPermitCase = set.policies.filter((p) => !permitExpected.has(p.id)).map((p) => p.id);
  const policiesWithoutDenyCase = set.policies.filter((p) => !denyCase.has(p.id)).map((p) => p.id);
  const fieldsNotExercised = set.policies.flatMap((p) =>
    p.fields.filter((f) => !released.get(p.id)?.has(f)).map((field) => ({ policy: p.id, field })),
  );
  const unknownPolicies = [...about].filter((id) => !ids.has(id));
  return {
    complete:
      policiesWithoutCases.length +
        policiesWithoutPermitCase.length +
        policiesWithoutDenyCase.length +
        fieldsNotExercised.length +
        unknownPolicies.length ===
      0,
    policiesWithoutCases,
    policiesWithoutPermitCase,
    policiesWithoutDenyCase,
    fieldsNotExercised,
    unknownPolicies,
  };
}

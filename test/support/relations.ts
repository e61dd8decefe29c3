/**
 * Need to know in tests: the relations register entries a test's citizens need before a policy
 * with a `relation:` clause permits (docs/RELATIONS.md). Registered through the real API, as the
 * case systems would: POST /v1/relations over mutual TLS with the system's own certificate and a
 * request token bound to the body. The one place tests register relations.
 */
import { randomUUID } from 'node:crypto';
import { copenhagenDate } from '../../src/policy/dates.js';
import type { RegisterRelationBody } from '../../src/relations/requests.js';
import { postAs } from './calls.js';

/** The case system that registers an administration's relations in the test environment. */
export const RELATION_SYSTEMS = { BIF: 'bif-jobcentre-system', SOF: 'sof-case-system' } as const;

/** A relation as a test asks for it: who serves the citizen, as what (and which caseworker, for `sameCaseworker`). */
export interface RelationSpec {
  readonly administration: keyof typeof RELATION_SYSTEMS;
  readonly capacity: string;
  /** The responsible caseworker; a coordinating caseworker policy requires the token's (`${client}-cw-0042` by default). */
  readonly caseworker?: string;
  /** Default: today (Copenhagen), so the relation is in force from now on and not backdated. */
  readonly from?: string;
  readonly to?: string;
}

export interface RegisteredRelation {
  readonly id: string;
  readonly caseRef: string;
  readonly auditId: string;
}

/**
 * A shared citizen: social services and the jobcentre both serve them, as the example query and
 * notification policies between the two require (sof-reads-employment-status,
 * bif-reads-social-coordination-summary, bif-notifies-sof-of-sanctions).
 */
export const SERVED_BY_BOTH: readonly RelationSpec[] = [
  { administration: 'SOF', capacity: 'social-case' },
  { administration: 'BIF', capacity: 'cash-benefit' },
];

/**
 * The citizen's coordinating caseworker in each administration, named as the test tokens' default
 * caseworker (`${client}-cw-0042`, tokenFor), as the coordinating caseworker policies require (sameCaseworker).
 */
export const COORDINATED: readonly RelationSpec[] = [
  { administration: 'SOF', capacity: 'coordinating-caseworker', caseworker: 'sof-case-system-cw-0042' },
  { administration: 'BIF', capacity: 'coordinating-caseworker', caseworker: 'bif-jobcentre-system-cw-0042' },
];

/** A fresh case reference of the administration's (never made from the CPR number). */
export function relationCaseRef(administration: string): string {
  return `${administration}-TEST-${randomUUID().slice(0, 8)}`;
}

/**
 * Registers one relation as `system` would and resolves its id, case reference and audit id;
 * throws on any refusal (naming the status and code, never the citizen).
 */
export async function registerRelation(
  gateway: string | { readonly url: string },
  system: string,
  body: RegisterRelationBody,
): Promise<RegisteredRelation> {
  const url = typeof gateway === 'string' ? gateway : gateway.url;
  const res = await postAs(url, system, '/v1/relations', body, { caseRef: body.caseRef });
  const answer = res.body as { relation?: { id: string }; auditId?: string; code?: string };
  if ((res.status !== 200 && res.status !== 201) || answer.relation === undefined || answer.auditId === undefined)
    throw new Error(`registering a ${body.capacity} relation as ${system} was refused: ${res.status} ${answer.code ?? 'no code'}`);
  return { id: answer.relation.id, caseRef: body.caseRef, auditId: answer.auditId };
}

/**
 * Makes the citizen `cpr` have each relation asked for (a new case reference each), in order.
 *
 * @example
 *   await withRelations(env, shared.cpr, [{ administration: 'SOF', capacity: 'social-case' }, { administration: 'BIF', capacity: 'cash-benefit' }]);
 */
export async function withRelations(
  gateway: string | { readonly url: string },
  cpr: string,
  specs: readonly RelationSpec[],
): Promise<RegisteredRelation[]> {
  const out: RegisteredRelation[] = [];
  for (const s of specs) {
    const body: RegisterRelationBody = {
      cpr,
      capacity: s.capacity,
      caseRef: relationCaseRef(s.administration),
      from: s.from ?? copenhagenDate(new Date()),
      ...(s.caseworker !== undefined ? { caseworker: s.caseworker } : {}),
      ...(s.to !== undefined ? { to: s.to } : {}),
    };
    out.push(await registerRelation(gateway, RELATION_SYSTEMS[s.administration], body));
  }
  return out;
}

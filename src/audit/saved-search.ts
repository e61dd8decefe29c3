import { randomUUID } from 'node:crypto';
import { copenhagenDayStart, nextDay } from '../store/dpo-rollup.js';
import type { AuditQuery, Store } from '../store/types.js';
import { searchRecords } from './search.js';
import type { AuditKind, AuditRecord } from './types.js';

/**
 * The DPO pages' searches of the trail, saved server-side and tied to the DPO's session: the
 * results page's address holds only the search's random id, and the saved search holds the
 * citizen only as pseudonyms, never the CPR number.
 */

/** A search as saved server-side: the citizen only as pseudonyms, never the CPR number. */
export interface SearchCriteria {
  readonly subjects?: readonly string[];
  readonly callerSystem?: string;
  readonly caseworker?: string;
  readonly contract?: string;
  readonly purpose?: string;
  readonly decision?: 'permit' | 'deny';
  readonly kind?: AuditKind;
  /** Copenhagen calendar days, inclusive. */
  readonly fromDay?: string;
  readonly toDay?: string;
}

/** Saves the criteria for the session (by the SHA-256 of its token); resolves with the search's id. */
export async function saveSearch(
  deps: { readonly store: Pick<Store, 'dpo'> },
  sessionHash: string,
  criteria: SearchCriteria,
): Promise<string> {
  const id = randomUUID();
  await deps.store.dpo.saveSearch({ id, sessionHash, createdAt: Date.now(), query: JSON.stringify(criteria) });
  return id;
}

/** The criteria of a search this session saved; undefined for another session's or an expired one. */
export async function savedSearch(
  deps: { readonly store: Pick<Store, 'dpo'> },
  id: string,
  sessionHash: string,
): Promise<SearchCriteria | undefined> {
  const saved = await deps.store.dpo.savedSearch(id, sessionHash);
  return saved === undefined ? undefined : (JSON.parse(saved.query) as SearchCriteria);
}

/** One page of the records matching the criteria, newest first; an unknown cursor is AUDIT_QUERY_INVALID. */
export function searchByCriteria(
  deps: { readonly store: Pick<Store, 'audit'> },
  c: SearchCriteria,
  page: { after?: string; limit: number },
): Promise<{ records: AuditRecord[]; next?: string }> {
  const query: AuditQuery = {
    ...(c.subjects !== undefined ? { subject: c.subjects } : {}),
    ...(c.callerSystem !== undefined ? { callerSystem: c.callerSystem } : {}),
    ...(c.caseworker !== undefined ? { caseworker: c.caseworker } : {}),
    ...(c.contract !== undefined ? { contract: c.contract } : {}),
    ...(c.purpose !== undefined ? { purpose: c.purpose } : {}),
    ...(c.decision !== undefined ? { decision: c.decision } : {}),
    ...(c.kind !== undefined ? { kind: c.kind } : {}),
    ...(c.fromDay !== undefined ? { from: copenhagenDayStart(c.fromDay) } : {}),
    ...(c.toDay !== undefined ? { to: copenhagenDayStart(nextDay(c.toDay)) } : {}),
    ...(page.after !== undefined ? { after: page.after } : {}),
    limit: page.limit,
  };
  return searchRecords(deps.store, query);
}

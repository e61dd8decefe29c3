import type { ConsentEventRecord, ConsentRecord } from '../consent/types.js';
import { canonicalJson } from '../lib/digest.js';

/**
 * The consent registry's store. Rows hold the consent as canonical JSON (the source of truth)
 * plus the columns it is found by: its id and the citizen's pseudonym. No CPR number, ever.
 * Every read goes to the database: there is no cache, so a withdrawal written by one gateway
 * instance is seen by the next check on every other instance sharing the store.
 */
export interface StoredConsent {
  readonly consent: ConsentRecord;
  /** Stored state; `expired` is derived by the reader from the period. */
  readonly state: 'active' | 'withdrawn';
  /** In the order they happened: `given` first. */
  readonly events: readonly ConsentEventRecord[];
}

export interface ConsentStore {
  /** Stores a new consent and its `given` event, together; durable when resolved. */
  add(consent: ConsentRecord, given: ConsentEventRecord): Promise<void>;
  /** The consent with its history, or undefined. */
  get(id: string): Promise<StoredConsent | undefined>;
  /**
   * The consents of a citizen under any of the given pseudonyms (one per pseudonym key), newest
   * first, at most MAX_CONSENTS_PER_SUBJECT.
   */
  bySubject(subjects: readonly string[]): Promise<StoredConsent[]>;
  /**
   * Marks an active consent withdrawn and appends the event, together. Resolves 'withdrawn',
   * or 'not-found' / 'already-withdrawn' when nothing changed.
   */
  withdraw(id: string, event: ConsentEventRecord): Promise<'withdrawn' | 'not-found' | 'already-withdrawn'>;
}

/** No citizen has more consents than this; a look-up reads at most this many. */
export const MAX_CONSENTS_PER_SUBJECT = 1000;

/** The consent columns, as both dialects store them. */
export interface ConsentRow {
  readonly id: string;
  readonly subject: string;
  readonly state: string;
  readonly valid_from: string;
  readonly valid_to: string;
  readonly recorded_at: string;
  readonly receipt_digest: string;
  readonly record: string;
}

export interface ConsentEventRow {
  readonly consent_id: string;
  readonly seq: number;
  readonly type: string;
  readonly at: string;
  readonly actor: string;
  readonly audit_id: string;
  readonly reason: string | null;
}

export function toConsentRow(c: ConsentRecord): ConsentRow {
  return {
    id: c.id,
    subject: c.subject,
    state: 'active',
    valid_from: c.scope.validFrom,
    valid_to: c.scope.validTo,
    recorded_at: c.recordedAt,
    receipt_digest: c.receiptDigest,
    record: canonicalJson(c),
  };
}

export function toEventRow(consentId: string, seq: number, e: ConsentEventRecord): ConsentEventRow {
  return { consent_id: consentId, seq, type: e.type, at: e.at, actor: canonicalJson(e.actor), audit_id: e.auditId, reason: e.reason };
}

function fromEventRow(r: ConsentEventRow): ConsentEventRecord {
  return {
    type: r.type as ConsentEventRecord['type'],
    at: r.at,
    actor: JSON.parse(r.actor) as ConsentEventRecord['actor'],
    auditId: r.audit_id,
    reason: (r.reason ?? null) as ConsentEventRecord['reason'],
  };
}

/** Joins consent rows with their event rows (any order) into stored consents, keeping the rows' order. */
export function assembleConsents(
  rows: readonly Pick<ConsentRow, 'id' | 'state' | 'record'>[],
  events: readonly ConsentEventRow[],
): StoredConsent[] {
  const byConsent = new Map<string, ConsentEventRow[]>();
  for (const e of events) {
    const list = byConsent.get(e.consent_id);
    if (list) list.push(e);
    else byConsent.set(e.consent_id, [e]);
  }
  return rows.map((r) => ({
    consent: JSON.parse(r.record) as ConsentRecord,
    state: r.state === 'withdrawn' ? 'withdrawn' : 'active',
    events: (byConsent.get(r.id) ?? []).sort((a, b) => Number(a.seq) - Number(b.seq)).map(fromEventRow),
  }));
}

/** Refuses values that are not what a caller of the store may pass (programming mistakes). */
export function checkConsentRecord(c: ConsentRecord, given: ConsentEventRecord): void {
  if (typeof c?.id !== 'string' || c.id.length === 0) throw new TypeError('ConsentStore.add: consent id is required');
  if (typeof c.subject !== 'string' || !/^[A-Za-z0-9_-]{1,32}:[A-Za-z0-9_-]{43}$/.test(c.subject))
    throw new TypeError('ConsentStore.add: subject must be a pseudonym');
  if (given?.type !== 'given') throw new TypeError('ConsentStore.add: the first event must be "given"');
}

import type { AuditRecord } from '../audit/types.js';

/**
 * What the DPO review pages need from a store beyond the audit trail itself: daily rollups of
 * the trail (for the overview charts and the anomaly checks), record look-up by id, and the
 * DPO's sign-in sessions and saved searches. SQLite and PostgreSQL implement it
 * (sqlite-dpo.ts, postgres-dpo.ts) and pass one shared test suite (test/dpo-store.test.ts).
 *
 * Why rollups: at a million records and more, counting requests per day, purpose, contract and
 * caller from audit_record itself reads every record of the period on every page view. The
 * rollup tables hold one row per (day, dimension...) instead. An audit append does not touch
 * them: a watermark per chain says up to which seq a chain is counted, and a catch-up pass
 * (src/audit/rollups.ts) counts the records after it, every few seconds in the background and
 * before a DPO page reads the rollups, one compare-and-set batch at a time (addToRollups). Days
 * are Copenhagen calendar days.
 */

/** Inclusive range of Copenhagen calendar days, "YYYY-MM-DD". */
export interface DayRange {
  readonly fromDay: string;
  readonly toDay: string;
}

export interface TrafficIncrement {
  readonly day: string;
  readonly callerSystem: string;
  readonly contract: string;
  readonly purpose: string;
  readonly requests: number;
  readonly refused: number;
}

export interface ReasonIncrement {
  readonly day: string;
  readonly callerSystem: string;
  readonly reason: string;
  readonly n: number;
}

export interface CaseworkerIncrement {
  readonly day: string;
  readonly callerSystem: string;
  readonly caseworker: string;
  readonly requests: number;
  readonly refused: number;
  /** Look-ups outside office hours (Copenhagen time). */
  readonly offHours: number;
  /** Permitted decisions that named the fields they asked for. */
  readonly asked: number;
  /** ... of which asked for at least one field the policy does not release. */
  readonly askedWithheld: number;
}

export interface CitizenSeen {
  readonly day: string;
  readonly callerSystem: string;
  readonly caseworker: string;
  /** The citizen's pseudonym, as in the trail. */
  readonly subject: string;
}

export interface WithheldIncrement {
  readonly day: string;
  readonly callerSystem: string;
  readonly contract: string;
  readonly field: string;
  readonly n: number;
}

export interface OffHoursLookup {
  readonly recordId: string;
  readonly time: string;
  readonly callerSystem: string;
  readonly caseworker: string;
}

export interface ConsentUse {
  /** The consent receipt digest the release relied on. */
  readonly consent: string;
  readonly recordId: string;
  readonly time: string;
  readonly callerSystem: string;
  readonly contract: string;
}

/** A consent withdrawal, from the trail's consent record of it. */
export interface ConsentWithdrawal {
  /** The receipt digest of the consent withdrawn. */
  readonly consent: string;
  readonly recordId: string;
  readonly time: string;
  /** The citizen's pseudonym. */
  readonly subject: string;
}

/** A consent recorded, from the trail's consent record of it (CONSENT_RECORDED). */
export interface ConsentRecording {
  /** The receipt digest the record cites: the key the permits relying on it cite too. */
  readonly consent: string;
  readonly recordId: string;
  readonly time: string;
  /** The citizen's pseudonym. */
  readonly subject: string;
  /** Who recorded it: the recording system, its administration and caseworker ('' when not known). */
  readonly callerSystem: string;
  readonly administration: string;
  readonly caseworker: string;
  /** citizen-signed when the record cites an artefact (`artefact-sha256=`), else recorded-by-caseworker. */
  readonly level: 'citizen-signed' | 'recorded-by-caseworker';
  /** CONSENT_BACKDATED: its period starts before the day it was recorded. */
  readonly backdated: boolean;
  /** CONSENT_BY_REPRESENTATIVE: a guardian, a holder of a power of attorney or a parent with custody gave it. */
  readonly representative: boolean;
}

/**
 * A permit that relied on a consent: a permitted decision of a query (its recipient is the
 * caller), or a notice queued or delivered for a recipient.
 */
export interface ConsentPermit {
  /** The digest the record cites (a receipt's; an artefact's for one never recorded). */
  readonly consent: string;
  readonly recordId: string;
  readonly auditId: string;
  readonly time: string;
  readonly kind: 'decision' | 'notification';
  /** Who received the data (or will, for a queued notice). */
  readonly recipientSystem: string;
  readonly recipientAdministration: string;
  readonly contract: string;
}

/** What DpoStore.consentRecordings reads: the recordings in [from, to) (ISO times), newest first. */
export interface ConsentRecordingQuery {
  readonly from: string;
  readonly to: string;
  /** Only those on this evidence level. */
  readonly level?: ConsentRecording['level'];
  /** Only back-dated ones. */
  readonly backdated?: true;
  readonly limit: number;
}

/** The rollup rows one run of records adds, already summed per key. */
export interface RollupBatch {
  readonly chain: string;
  /** The chain's watermark before these records; the batch applies only if it still is. */
  readonly afterSeq: number;
  /** The watermark after them: the seq of the last record counted. */
  readonly throughSeq: number;
  readonly traffic: readonly TrafficIncrement[];
  readonly reasons: readonly ReasonIncrement[];
  readonly caseworkers: readonly CaseworkerIncrement[];
  readonly citizens: readonly CitizenSeen[];
  readonly withheld: readonly WithheldIncrement[];
  readonly offHours: readonly OffHoursLookup[];
  readonly consentUses: readonly ConsentUse[];
  readonly withdrawals: readonly ConsentWithdrawal[];
  readonly consentRecordings: readonly ConsentRecording[];
  readonly consentPermits: readonly ConsentPermit[];
}

export interface DayCount {
  readonly day: string;
  readonly requests: number;
  readonly refused: number;
}

export interface KeyCount {
  readonly key: string;
  readonly requests: number;
  readonly refused: number;
}

export interface ReasonCount {
  readonly callerSystem: string;
  readonly reason: string;
  readonly n: number;
}

/** The distinct citizens one calling system looked up on one Copenhagen day, under how many caseworker ids. */
export interface SystemCitizensDay {
  readonly callerSystem: string;
  readonly day: string;
  readonly citizens: number;
  readonly caseworkers: number;
}

export interface CaseworkerActivity {
  readonly callerSystem: string;
  readonly caseworker: string;
  readonly requests: number;
  readonly refused: number;
  readonly offHours: number;
  readonly asked: number;
  readonly askedWithheld: number;
  /** Distinct citizens looked up in the period. */
  readonly citizens: number;
}

export interface WithheldCount {
  readonly callerSystem: string;
  readonly contract: string;
  readonly field: string;
  readonly n: number;
}

/** A signed-in DPO. The session token itself is never stored, only its SHA-256. */
export interface DpoSession {
  readonly idHash: string;
  readonly clientId: string;
  /** SHA-256 of the client certificate the session was opened with; every request must present it. */
  readonly fingerprint: string;
  /** The synchroniser token that every state-changing form of this session carries. */
  readonly csrf: string;
  readonly lang: 'da' | 'en';
  readonly createdAt: number; // ms since the epoch
  readonly lastSeenAt: number;
}

/** A search the DPO ran; holds pseudonyms and filters, never a CPR number. */
export interface SavedSearch {
  readonly id: string;
  readonly sessionHash: string;
  readonly createdAt: number;
  readonly query: string; // JSON
}

export interface DpoStore {
  /** Up to which seq each chain is counted in the rollups. */
  rollupWatermarks(): Promise<ReadonlyMap<string, number>>;
  /**
   * Adds a batch to the rollups and moves the chain's watermark to batch.throughSeq, all or
   * nothing, if the watermark is still batch.afterSeq; resolves false (writing nothing) if
   * another writer counted these records first.
   */
  addToRollups(batch: RollupBatch): Promise<boolean>;
  trafficByDay(range: DayRange): Promise<DayCount[]>;
  trafficBy(dimension: 'callerSystem' | 'contract' | 'purpose', range: DayRange): Promise<KeyCount[]>;
  reasons(range: DayRange): Promise<ReasonCount[]>;
  caseworkers(range: DayRange): Promise<CaseworkerActivity[]>;
  /** Per calling system and day: distinct citizens looked up (whatever caseworker id the client named). */
  systemCitizens(range: DayRange): Promise<SystemCitizensDay[]>;
  withheld(range: DayRange): Promise<WithheldCount[]>;
  /** Look-ups outside office hours in [from, to) (ISO times), newest first. */
  offHours(from: string, to: string, limit: number): Promise<OffHoursLookup[]>;
  /** Releases that relied on one of these consents (receipt digests), newest first. */
  consentUses(consents: readonly string[], limit: number): Promise<ConsentUse[]>;
  /** Consent withdrawals in [from, to) (ISO times), newest first. */
  consentWithdrawals(from: string, to: string, limit: number): Promise<ConsentWithdrawal[]>;
  /** Consents recorded in a period, newest first. */
  consentRecordings(query: ConsentRecordingQuery): Promise<ConsentRecording[]>;
  /** Permits in [from, to) (ISO times) that relied on one of these consents (digests), newest first. */
  consentPermits(consents: readonly string[], from: string, to: string, limit: number): Promise<ConsentPermit[]>;
  /** A record by its id (not its audit id). */
  record(id: string): Promise<AuditRecord | undefined>;

  createSession(session: DpoSession): Promise<void>;
  session(idHash: string): Promise<DpoSession | undefined>;
  touchSession(idHash: string, at: number, lang?: 'da' | 'en'): Promise<void>;
  deleteSession(idHash: string): Promise<void>;
  /** Removes sessions idle since before `idleBefore` or opened before `createdBefore`, and their searches. */
  pruneSessions(idleBefore: number, createdBefore: number): Promise<number>;
  saveSearch(search: SavedSearch): Promise<void>;
  /** A saved search, only for the session that saved it. */
  savedSearch(id: string, sessionHash: string): Promise<SavedSearch | undefined>;
}

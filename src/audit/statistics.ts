import type { Relation, RelationActor, RelationEndReason } from '../relations/types.js';
import type { StoredConsent } from '../store/consents.js';
import type { ConsentPermit, ConsentRecording, DayCount, DayRange, DpoStore, KeyCount, ReasonCount } from '../store/dpo-types.js';
import { copenhagenDayStart, nextDay } from '../store/dpo-rollup.js';
import type { Store } from '../store/types.js';
import { DENY_REASON } from './reasons.js';

export type {
  CaseworkerActivity,
  ConsentPermit,
  ConsentRecording,
  DayRange,
  OffHoursLookup,
  ReasonCount,
  SystemCitizensDay,
  WithheldCount,
} from '../store/dpo-types.js';
/** Days are Copenhagen calendar days ("YYYY-MM-DD"), as the rollups count them. */
export { copenhagen, copenhagenDayStart, nextDay, OFFICE_HOURS } from '../store/dpo-rollup.js';

/**
 * The DPO's statistics: what the daily rollups of the trail say about a period of days (the
 * catch-up pass in rollups.ts counts them), and the look-ups the anomaly rules need besides.
 * The DPO pages read the rollups through this and nothing else.
 *
 * @example
 * const statistics = statisticsOf(store);
 * const traffic = await statistics.traffic({ fromDay: '2026-02-01', toDay: '2026-02-28' });
 */

/** Requests and refusals in a period: per day, per calling system, contract and purpose, and the refusals per reason. */
export interface Traffic {
  readonly days: readonly DayCount[];
  readonly byCaller: readonly KeyCount[];
  readonly byContract: readonly KeyCount[];
  readonly byPurpose: readonly KeyCount[];
  readonly reasons: readonly ReasonCount[];
}

/** A release that relied on a consent that was withdrawn afterwards. */
export interface WithdrawnConsentUse {
  readonly consentId: string;
  readonly withdrawnAt: string;
  readonly uses: readonly { readonly recordId: string; readonly time: string; readonly callerSystem: string; readonly contract: string }[];
}

/** The rollups the anomaly rules read. */
export type AnomalySource = Pick<DpoStore, 'caseworkers' | 'systemCitizens' | 'reasons' | 'withheld' | 'offHours'>;

/** Counts of citizens below this are not shown, only that there are fewer (small-cell suppression). */
export const SUPPRESS_BELOW = 5;

/** Citizens held on a day by exactly these administrations (relations in force). */
export interface SharedCitizenCount {
  readonly administrations: readonly string[];
  /** null: fewer than SUPPRESS_BELOW, not shown. */
  readonly citizens: number | null;
}

/** A record shown as evidence: its id (for /dpo/records/:id) and time. */
export interface Evidence {
  readonly recordId: string;
  readonly time: string;
}

/** Requests of one caller refused because its administration held no relation to the citizen. */
export interface RelationMissingCount {
  readonly callerSystem: string;
  readonly caseworker: string;
  /** Refusals found, at most MAX_RELATION_MISSING_READ ... */
  readonly refused: number;
  /** ... and true when there are more than that. */
  readonly more: boolean;
  /** The latest few, newest first. */
  readonly evidence: readonly Evidence[];
}

/** A relation ended soon after its registration, and the permitted look-ups that relied on it in between. */
export interface ShortLivedRelation {
  readonly relation: Pick<Relation, 'id' | 'administration' | 'capacity' | 'endReason'>;
  readonly registered: { readonly at: string; readonly actor: RelationActor; readonly recordId: string | null };
  readonly ended: {
    readonly at: string;
    readonly actor: RelationActor;
    readonly reason: RelationEndReason | null;
    readonly recordId: string | null;
  };
  /** Permitted decisions citing the relation (`relation=<id>`) within the window of both events, newest first. */
  readonly lookups: readonly (Evidence & { readonly callerSystem: string; readonly caseworker: string })[];
}

/** A recorded consent as the registry holds it, for the words of an anomaly: never the CPR number, never the pseudonym. */
export interface RecordedConsent {
  readonly id: string;
  readonly validFrom: string;
  /** The form's reference in the recording system (checked to hold no CPR number when recorded). */
  readonly reference: string;
  /** Paper or verbal; null on a record made before the form was recorded. */
  readonly form: 'paper' | 'verbal' | null;
}

/**
 * A consent a caseworker recorded, relied on soon after by the caseworker's own administration:
 * the recipient's own word unlocked its own flow.
 */
export interface SelfRecordedConsentUse {
  readonly recording: ConsentRecording;
  /** null when the registry no longer holds it (or could not be matched). */
  readonly consent: RecordedConsent | null;
  /** The permits to the recording administration within the window after the recording, oldest first. */
  readonly permits: readonly ConsentPermit[];
}

/** A consent whose period starts before the day it was recorded (CONSENT_BACKDATED). */
export interface BackdatedConsent {
  readonly recording: ConsentRecording;
  /** null when the registry no longer holds it, or when it was not looked up (beyond MAX_CONSENT_LOOKUPS). */
  readonly consent: RecordedConsent | null;
}

/** The most consent recordings the two consent rules read in one period, and the most consents they look up in the registry. */
export const MAX_CONSENT_RECORDINGS = 1000;
export const MAX_CONSENT_LOOKUPS = 200;
/** The most permits the self-recorded consent rule reads for the recordings of one period. */
export const MAX_CONSENT_PERMITS = 5000;

/** The most callers rule (a) reads the trail for, and the most refusals it reads for one. */
export const MAX_RELATION_MISSING_CALLERS = 50;
export const MAX_RELATION_MISSING_READ = 500;
/** The most short-lived relations rule (b) looks into in one period. */
export const MAX_SHORT_LIVED = 200;

export interface Statistics extends AnomalySource {
  traffic(range: DayRange): Promise<Traffic>;
  /** The consents withdrawn in the period (at most 200), each with the releases that relied on it before. */
  withdrawnConsentUses(range: DayRange): Promise<WithdrawnConsentUse[]>;
  /**
   * How many citizens are held on the Copenhagen day `day` (relations in force) by each
   * combination of administrations, largest first, counts under SUPPRESS_BELOW suppressed. One
   * aggregate query on the register (RelationStore.sharedCitizens); a citizen whose relations sit
   * under two pseudonym keys counts under each.
   */
  sharedCitizens(day: string): Promise<SharedCitizenCount[]>;
  /**
   * The requests of these callers refused in the period for a missing relation (deny decisions
   * with RELATION_MISSING), from the trail: one search a caller on its caseworker index, at most
   * MAX_RELATION_MISSING_CALLERS callers and MAX_RELATION_MISSING_READ records each. The anomaly
   * rule picks the callers from the rollups first.
   */
  relationMissing(range: DayRange, callers: readonly { callerSystem: string; caseworker: string }[]): Promise<RelationMissingCount[]>;
  /**
   * Relations ended (or voided) in the period at most 2 × `windowMs` after their registration
   * (at most MAX_SHORT_LIVED, from the register), each with the permitted decisions citing it
   * that lie within `windowMs` of both its registration and its end (from the trail: one search
   * on the citizen's index per relation); relations no decision relied on are left out.
   */
  shortLivedRelations(range: DayRange, windowMs: number): Promise<ShortLivedRelation[]>;
  /**
   * Consents recorded by a caseworker (not citizen-signed) that the recording administration
   * then received data on (a permitted decision, a notice queued or delivered) in the period,
   * within `windowMs` after the recording; oldest recording first. From the rollups: at most
   * MAX_CONSENT_RECORDINGS recordings and MAX_CONSENT_PERMITS permits read; the flagged ones
   * looked up in the registry (one read per citizen, at most MAX_CONSENT_LOOKUPS).
   */
  selfRecordedConsents(range: DayRange, windowMs: number): Promise<SelfRecordedConsentUse[]>;
  /**
   * Consents recorded in the period whose period starts before the day they were recorded
   * (CONSENT_BACKDATED), newest first, at most MAX_CONSENT_RECORDINGS; the first
   * MAX_CONSENT_LOOKUPS looked up in the registry (one read per citizen) for their start and form.
   */
  backdatedConsents(range: DayRange): Promise<BackdatedConsent[]>;
}

export function statisticsOf(store: Pick<Store, 'dpo' | 'consents' | 'relations' | 'audit'>): Statistics {
  const dpo = store.dpo;
  const periodOf = (range: DayRange) => ({ from: copenhagenDayStart(range.fromDay), to: copenhagenDayStart(nextDay(range.toDay)) });
  /** The registry's consents for these recordings' citizens, by receipt digest: one read per citizen, at most `max` recordings. */
  const registryOf = async (recordings: readonly ConsentRecording[], max: number): Promise<Map<string, RecordedConsent>> => {
    const found = new Map<string, RecordedConsent>();
    const wanted = new Set(recordings.slice(0, max).map((r) => r.consent));
    for (const subject of new Set(recordings.slice(0, max).map((r) => r.subject))) {
      for (const s of await store.consents.bySubject([subject])) {
        if (wanted.has(s.consent.receiptDigest)) found.set(s.consent.receiptDigest, recordedConsent(s));
      }
    }
    return found;
  };
  const recordOf = async (auditId: string): Promise<string | null> =>
    (await store.audit.search({ auditId, kind: 'relation', limit: 1 })).records[0]?.id ?? null;
  return {
    caseworkers: (range) => dpo.caseworkers(range),
    systemCitizens: (range) => dpo.systemCitizens(range),
    reasons: (range) => dpo.reasons(range),
    withheld: (range) => dpo.withheld(range),
    offHours: (from, to, limit) => dpo.offHours(from, to, limit),
    async traffic(range) {
      const [days, byCaller, byContract, byPurpose, reasons] = await Promise.all([
        dpo.trafficByDay(range),
        dpo.trafficBy('callerSystem', range),
        dpo.trafficBy('contract', range),
        dpo.trafficBy('purpose', range),
        dpo.reasons(range),
      ]);
      return { days, byCaller, byContract, byPurpose, reasons };
    },
    async withdrawnConsentUses(range) {
      const withdrawals = await dpo.consentWithdrawals(copenhagenDayStart(range.fromDay), copenhagenDayStart(nextDay(range.toDay)), 200);
      if (withdrawals.length === 0) return [];
      const uses = await dpo.consentUses(
        withdrawals.map((w) => w.consent),
        1000,
      );
      const out: WithdrawnConsentUse[] = [];
      for (const w of withdrawals) {
        const consents = await store.consents.bySubject([w.subject]);
        const id = consents.find((s) => s.consent.receiptDigest === w.consent)?.consent.id ?? w.consent.slice(0, 12);
        out.push({ consentId: id, withdrawnAt: w.time, uses: uses.filter((u) => u.consent === w.consent && u.time <= w.time) });
      }
      return out;
    },
    async sharedCitizens(day) {
      return (await store.relations.sharedCitizens(day)).map((c) => ({
        administrations: c.administrations,
        citizens: c.citizens < SUPPRESS_BELOW ? null : c.citizens,
      }));
    },
    async relationMissing(range, callers) {
      const { from, to } = periodOf(range);
      const out: RelationMissingCount[] = [];
      for (const c of callers.slice(0, MAX_RELATION_MISSING_CALLERS)) {
        const page = await store.audit.search({
          callerSystem: c.callerSystem,
          caseworker: c.caseworker,
          kind: 'decision',
          decision: 'deny',
          reason: DENY_REASON.relationMissing,
          from,
          to,
          limit: MAX_RELATION_MISSING_READ,
        });
        if (page.records.length === 0) continue;
        out.push({
          callerSystem: c.callerSystem,
          caseworker: c.caseworker,
          refused: page.records.length,
          more: page.next !== undefined,
          evidence: page.records.slice(0, 5).map((r) => ({ recordId: r.id, time: r.time })),
        });
      }
      return out;
    },
    async selfRecordedConsents(range, windowMs) {
      const { from, to } = periodOf(range);
      const recordings = await dpo.consentRecordings({
        from: new Date(Date.parse(from) - windowMs).toISOString(),
        to,
        level: 'recorded-by-caseworker',
        limit: MAX_CONSENT_RECORDINGS,
      });
      if (recordings.length === 0) return [];
      const permits = await dpo.consentPermits(
        recordings.map((r) => r.consent),
        from,
        to,
        MAX_CONSENT_PERMITS,
      );
      const flagged: { recording: ConsentRecording; permits: ConsentPermit[] }[] = [];
      for (const recording of [...recordings].reverse()) {
        const at = Date.parse(recording.time);
        const own = permits
          .filter(
            (p) =>
              p.consent === recording.consent &&
              p.recipientAdministration === recording.administration &&
              Date.parse(p.time) >= at &&
              Date.parse(p.time) - at <= windowMs,
          )
          .reverse();
        if (own.length > 0) flagged.push({ recording, permits: own });
      }
      const registry = await registryOf(
        flagged.map((f) => f.recording),
        MAX_CONSENT_LOOKUPS,
      );
      return flagged.map((f) => ({ ...f, consent: registry.get(f.recording.consent) ?? null }));
    },
    async backdatedConsents(range) {
      const { from, to } = periodOf(range);
      const recordings = await dpo.consentRecordings({ from, to, backdated: true, limit: MAX_CONSENT_RECORDINGS });
      const registry = await registryOf(recordings, MAX_CONSENT_LOOKUPS);
      return recordings.map((recording) => ({ recording, consent: registry.get(recording.consent) ?? null }));
    },
    async shortLivedRelations(range, windowMs) {
      const { from, to } = periodOf(range);
      const withinMs = 2 * windowMs;
      const out: ShortLivedRelation[] = [];
      for (const { relation, events } of await store.relations.shortLived({
        endedFrom: from,
        endedTo: to,
        withinMs,
        limit: MAX_SHORT_LIVED,
      })) {
        const registered = events.find((e) => e.type === 'registered');
        if (registered === undefined) continue;
        const ended = events.find(
          (e) => e.type === 'ended' && e.at >= from && e.at < to && Date.parse(e.at) - Date.parse(registered.at) <= withinMs,
        );
        if (ended === undefined) continue;
        // A decision at most windowMs after the registration and at most windowMs before the end.
        const page = await store.audit.search({
          subject: relation.subject,
          kind: 'decision',
          decision: 'permit',
          reason: `relation=${relation.id}`,
          from: new Date(Date.parse(ended.at) - windowMs).toISOString(),
          to: new Date(Date.parse(registered.at) + windowMs + 1).toISOString(),
          limit: 20,
        });
        if (page.records.length === 0) continue;
        out.push({
          relation: {
            id: relation.id,
            administration: relation.administration,
            capacity: relation.capacity,
            endReason: relation.endReason,
          },
          registered: { at: registered.at, actor: registered.actor, recordId: await recordOf(registered.auditId) },
          ended: { at: ended.at, actor: ended.actor, reason: ended.reason, recordId: await recordOf(ended.auditId) },
          lookups: page.records.map((r) => ({
            recordId: r.id,
            time: r.time,
            callerSystem: r.caller?.system ?? '',
            caseworker: r.caseworker ?? '',
          })),
        });
      }
      return out;
    },
  };
}

function recordedConsent(s: StoredConsent): RecordedConsent {
  const c = s.consent;
  return { id: c.id, validFrom: c.scope.validFrom, reference: c.evidence.reference, form: c.evidence.form ?? null };
}

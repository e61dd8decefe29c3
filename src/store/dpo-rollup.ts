import { CONSENT_AUDIT, NOTIFICATION_AUDIT, ROLLUP_REASONS } from '../audit/reasons.js';
import type { AuditRecord } from '../audit/types.js';
import type {
  CaseworkerIncrement,
  CitizenSeen,
  ConsentPermit,
  ConsentRecording,
  ConsentUse,
  ConsentWithdrawal,
  OffHoursLookup,
  ReasonIncrement,
  RollupBatch,
  TrafficIncrement,
  WithheldIncrement,
} from './dpo-types.js';

/**
 * How audit records count in the DPO rollups (no SQL here; both stores use it):
 *
 * - a request is a `decision` or a `refusal` record (every request that reached the gateway's
 *   checks leaves exactly one of them); it is refused if it is a refusal or a deny decision;
 * - the reasons of a refused request are its reason codes (policy deny reasons or error codes);
 * - a look-up is a decision record; it counts against its caseworker, its citizen (pseudonym)
 *   and, when it falls outside office hours in Copenhagen, as an off-hours look-up;
 * - a permitted decision "asked for withheld fields" when the caller asked for fields the
 *   policy does not release (requested minus permitted);
 * - a consent use is a successful release that relied on a consent: a release record with
 *   status 200, or a notice delivered to its recipient (counted against the recipient's system);
 *   a consent record with the reason CONSENT_WITHDRAWAL is a withdrawal of the consent it cites;
 * - a consent record with CONSENT_RECORDED is a recording of the consent it cites (its
 *   evidence level is citizen-signed when it cites an artefact, `artefact-sha256=`), back-dated
 *   with CONSENT_BACKDATED, given by a representative with CONSENT_BY_REPRESENTATIVE;
 * - a consent permit is a permitted decision, or a notice queued or delivered for a recipient,
 *   that relied on a consent (it cites one), counted against who receives the data;
 * - a notification counts as a request per recipient when the gateway decided on it (queued,
 *   or denied when it arrived); delivery outcomes are not requests.
 *
 * Days are Copenhagen calendar days. Missing dimensions are stored as '' (never NULL) so that
 * they can be part of a primary key in both dialects.
 */

export const TIME_ZONE = 'Europe/Copenhagen';

/** Office hours: Monday to Friday, 07:00 to 18:00 Copenhagen time. Public holidays are not modelled. */
export const OFFICE_HOURS = { fromHour: 7, toHour: 18 } as const;

export interface LocalTime {
  /** Copenhagen calendar day, YYYY-MM-DD. */
  readonly day: string;
  readonly hour: number;
  readonly minute: number;
  /** 0 = Sunday ... 6 = Saturday. */
  readonly weekday: number;
}

const formatter = new Intl.DateTimeFormat('en-GB', {
  timeZone: TIME_ZONE,
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  weekday: 'short',
  hourCycle: 'h23',
});
const WEEKDAYS: Record<string, number> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };
/** Copenhagen's offset from UTC is whole hours, so the local hour is a function of the UTC hour. */
const byUtcHour = new Map<number, Omit<LocalTime, 'minute'>>();

/** The Copenhagen calendar day, hour, minute and weekday of an instant. */
export function copenhagen(time: string | number | Date): LocalTime {
  const ms = typeof time === 'number' ? time : time instanceof Date ? time.getTime() : Date.parse(time);
  if (!Number.isFinite(ms)) throw new TypeError('copenhagen: not a valid time');
  const hourKey = Math.floor(ms / 3_600_000);
  let local = byUtcHour.get(hourKey);
  if (local === undefined) {
    const parts: Record<string, string> = {};
    for (const p of formatter.formatToParts(new Date(hourKey * 3_600_000))) parts[p.type] = p.value;
    local = { day: `${parts.year}-${parts.month}-${parts.day}`, hour: Number(parts.hour), weekday: WEEKDAYS[parts.weekday ?? ''] ?? 0 };
    if (byUtcHour.size > 100_000) byUtcHour.clear();
    byUtcHour.set(hourKey, local);
  }
  return { ...local, minute: new Date(ms).getUTCMinutes() };
}

/** True outside office hours: weekends, and before 07:00 or from 18:00 on weekdays. */
export function isOffHours(local: LocalTime): boolean {
  return local.weekday === 0 || local.weekday === 6 || local.hour < OFFICE_HOURS.fromHour || local.hour >= OFFICE_HOURS.toHour;
}

/** The UTC instant (ISO) at which a Copenhagen calendar day begins. */
export function copenhagenDayStart(day: string): string {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day) || Number.isNaN(Date.parse(`${day}T00:00:00Z`)))
    throw new TypeError('copenhagenDayStart: not a YYYY-MM-DD day');
  const midnightUtc = Date.parse(`${day}T00:00:00Z`);
  for (const offsetHours of [1, 2, 0]) {
    const candidate = midnightUtc - offsetHours * 3_600_000;
    const local = copenhagen(candidate);
    if (local.day === day && local.hour === 0) return new Date(candidate).toISOString();
  }
  return new Date(midnightUtc - 3_600_000).toISOString();
}

/** The Copenhagen day after `day`. */
export function nextDay(day: string): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
}

function counter<T extends object>(): { add(key: string, init: () => T, fn: (row: T) => void): void; rows(): T[] } {
  const map = new Map<string, T>();
  return {
    add(key, init, fn) {
      let row = map.get(key);
      if (row === undefined) {
        row = init();
        map.set(key, row);
      }
      fn(row);
    },
    rows: () => [...map.values()],
  };
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * The rollup rows for consecutive records of one chain (seq afterSeq+1 ... throughSeq), summed
 * per key.
 */
export function rollupBatch(chain: string, afterSeq: number, records: readonly AuditRecord[]): RollupBatch {
  const traffic = counter<Mutable<TrafficIncrement>>();
  const reasons = counter<Mutable<ReasonIncrement>>();
  const caseworkers = counter<Mutable<CaseworkerIncrement>>();
  const withheld = counter<Mutable<WithheldIncrement>>();
  const citizens = new Map<string, CitizenSeen>();
  const offHours: OffHoursLookup[] = [];
  const consentUses: ConsentUse[] = [];
  const withdrawals: ConsentWithdrawal[] = [];
  const consentRecordings: ConsentRecording[] = [];
  const consentPermits: ConsentPermit[] = [];
  let throughSeq = afterSeq;

  for (const r of records) {
    throughSeq = r.seq;
    if (r.kind === 'consent') {
      if (r.consent !== null && r.subject !== null && r.reasons.includes(ROLLUP_REASONS.consentWithdrawal))
        withdrawals.push({ consent: r.consent, recordId: r.id, time: r.time, subject: r.subject });
      if (r.consent !== null && r.subject !== null && r.reasons.includes(CONSENT_AUDIT.recorded))
        consentRecordings.push(recordingOf(r, r.consent, r.subject));
      continue;
    }
    const permit = consentPermitOf(r);
    if (permit !== undefined) consentPermits.push(permit);
    const notificationDecided =
      r.kind === 'notification' &&
      (r.reasons.includes(ROLLUP_REASONS.notificationQueued) ||
        (r.decision === 'deny' &&
          !r.reasons.includes(ROLLUP_REASONS.deliveryCancelled) &&
          !r.reasons.includes(ROLLUP_REASONS.recipientSkipped)));
    const isRequest = r.kind === 'decision' || r.kind === 'refusal' || notificationDecided;
    const delivered = r.kind === 'notification' && r.decision === 'permit' && r.reasons.includes(NOTIFICATION_AUDIT.delivered);
    const isRelease = ((r.kind === 'release' && r.status === 200) || delivered) && r.consent !== null;
    if (!isRequest && !isRelease) continue;
    const local = copenhagen(r.time);
    const day = local.day;
    const callerSystem = r.caller?.system ?? '';
    const contract = r.contract ?? '';
    if (isRelease) {
      // A delivered notice went to its recipient; a query's release to the caller.
      const receiver = delivered ? (r.recipient?.system ?? '') : callerSystem;
      consentUses.push({ consent: r.consent, recordId: r.id, time: r.time, callerSystem: receiver, contract });
      continue;
    }
    const caseworker = r.caseworker ?? '';
    const refused = r.kind === 'refusal' || r.decision === 'deny' ? 1 : 0;
    const purpose = r.purpose ?? '';
    traffic.add(
      `${day}\u0000${callerSystem}\u0000${contract}\u0000${purpose}`,
      () => ({ day, callerSystem, contract, purpose, requests: 0, refused: 0 }),
      (row) => {
        row.requests += 1;
        row.refused += refused;
      },
    );
    if (refused === 1) {
      for (const reason of new Set(r.reasons)) {
        reasons.add(
          `${day}\u0000${callerSystem}\u0000${reason}`,
          () => ({ day, callerSystem, reason, n: 0 }),
          (row) => {
            row.n += 1;
          },
        );
      }
    }
    const lookup = r.kind === 'decision';
    const off = lookup && isOffHours(local) ? 1 : 0;
    const permitted = new Set(r.fields.released);
    const policyWithheld = lookup && r.decision === 'permit' ? r.fields.requested.filter((f) => !permitted.has(f)) : [];
    const asked = lookup && r.decision === 'permit' && r.fields.requested.length > 0 ? 1 : 0;
    caseworkers.add(
      `${day}\u0000${callerSystem}\u0000${caseworker}`,
      () => ({ day, callerSystem, caseworker, requests: 0, refused: 0, offHours: 0, asked: 0, askedWithheld: 0 }),
      (row) => {
        row.requests += 1;
        row.refused += refused;
        row.offHours += off;
        row.asked += asked;
        row.askedWithheld += policyWithheld.length > 0 ? 1 : 0;
      },
    );
    for (const field of new Set(policyWithheld)) {
      withheld.add(
        `${day}\u0000${callerSystem}\u0000${contract}\u0000${field}`,
        () => ({ day, callerSystem, contract, field, n: 0 }),
        (row) => {
          row.n += 1;
        },
      );
    }
    if (off === 1) offHours.push({ recordId: r.id, time: r.time, callerSystem, caseworker });
    if (lookup && r.subject !== null) {
      citizens.set(`${day}\u0000${callerSystem}\u0000${caseworker}\u0000${r.subject}`, {
        day,
        callerSystem,
        caseworker,
        subject: r.subject,
      });
    }
  }
  return {
    chain,
    afterSeq,
    throughSeq,
    traffic: traffic.rows(),
    reasons: reasons.rows(),
    caseworkers: caseworkers.rows(),
    citizens: [...citizens.values()],
    withheld: withheld.rows(),
    offHours,
    consentUses,
    withdrawals,
    consentRecordings,
    consentPermits,
  };
}

/** The prefix of the reason by which a consent record cites the artefact a citizen-signed consent rests on. */
const ARTEFACT_CITED = 'artefact-sha256=';

function recordingOf(r: AuditRecord, consent: string, subject: string): ConsentRecording {
  return {
    consent,
    recordId: r.id,
    time: r.time,
    subject,
    callerSystem: r.caller?.system ?? '',
    administration: r.caller?.administration ?? '',
    caseworker: r.caseworker ?? '',
    level: r.reasons.some((x) => x.startsWith(ARTEFACT_CITED)) ? 'citizen-signed' : 'recorded-by-caseworker',
    backdated: r.reasons.includes(CONSENT_AUDIT.backdated),
    representative: r.reasons.includes(CONSENT_AUDIT.representative),
  };
}

/** The permit a record is, if it is one that relied on a consent: a permitted decision, a notice queued or delivered. */
function consentPermitOf(r: AuditRecord): ConsentPermit | undefined {
  if (r.consent === null || r.decision !== 'permit') return undefined;
  const base = { consent: r.consent, recordId: r.id, auditId: r.auditId, time: r.time, contract: r.contract ?? '' };
  if (r.kind === 'decision' && r.caller !== null)
    return { ...base, kind: 'decision', recipientSystem: r.caller.system, recipientAdministration: r.caller.administration };
  const decided = r.reasons.includes(NOTIFICATION_AUDIT.queued) || r.reasons.includes(NOTIFICATION_AUDIT.delivered);
  if (r.kind === 'notification' && decided && r.recipient !== undefined)
    return { ...base, kind: 'notification', recipientSystem: r.recipient.system, recipientAdministration: r.recipient.administration };
  return undefined;
}

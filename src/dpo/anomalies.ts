import { DENY_REASON } from '../audit/reasons.js';
import {
  copenhagen,
  copenhagenDayStart,
  MAX_RELATION_MISSING_CALLERS,
  nextDay,
  OFFICE_HOURS,
  type AnomalySource,
  type BackdatedConsent,
  type CaseworkerActivity,
  type DayRange,
  type OffHoursLookup,
  type ReasonCount,
  type RecordedConsent,
  type RelationMissingCount,
  type SelfRecordedConsentUse,
  type ShortLivedRelation,
  type Statistics,
  type SystemCitizensDay,
  type WithdrawnConsentUse,
  type WithheldCount,
} from '../audit/statistics.js';
import type { RelationActor } from '../relations/types.js';
import { formatTime, type Lang } from './html.js';
import { texts, type Texts } from './texts/index.js';

/**
 * Unusual patterns in the audit trail, each explained in words for the DPO. These are leads
 * for a human to look into, not verdicts: every anomaly names the numbers it is based on and
 * the rule that flagged it. All of them are computed from the rollups (src/audit/statistics.ts),
 * so they cost the same at a million records as at a hundred. Their words are in texts/.
 */

export type AnomalyKind =
  | 'many-citizens'
  | 'system-many-citizens'
  | 'off-hours'
  | 'repeated-refusals'
  | 'withheld-fields'
  | 'withdrawn-consent'
  | 'relation-missing'
  | 'short-lived-relation'
  | 'self-recorded-consent'
  | 'backdated-consent';

export interface Anomaly {
  readonly kind: AnomalyKind;
  readonly callerSystem: string;
  /** '' when the anomaly concerns the calling system as a whole, or the caseworker was not known. */
  readonly caseworker: string;
  /** What was found, in Danish and English. */
  readonly explanation: { readonly da: string; readonly en: string };
  /** Records that show it (at most a few), newest first. */
  readonly evidence: readonly { readonly recordId: string; readonly time: string }[];
}

/** The rules' thresholds; a municipality tunes them to its own traffic. */
export interface AnomalyThresholds {
  /** A caseworker is flagged when they looked up at least this many distinct citizens ... */
  readonly manyCitizensMin: number;
  /** ... and more than this many times the median of the other caseworkers of the same calling system. */
  readonly manyCitizensFactor: number;
  /** ... of whom there must be at least this many for a norm to exist. */
  readonly manyCitizensPeers: number;
  /**
   * A calling system is flagged for a day on which it looked up at least this many distinct
   * citizens, whatever caseworker ids it named (a client chooses them, so a bulk look-up with a new
   * id per request escapes the rule per caseworker) ...
   */
  readonly systemCitizensMin: number;
  /** ... and more than this many times its own norm: the median of its other days with look-ups ... */
  readonly systemCitizensFactor: number;
  /** ... of which there must be at least this many (in the period and the systemCitizensNormDays before it) for a norm to exist. */
  readonly systemCitizensDays: number;
  /** How many days before the period count towards a system's norm. */
  readonly systemCitizensNormDays: number;
  /** A fixed ceiling: a calling system is flagged for a day with more distinct citizens than this, norm or not (0: no ceiling). */
  readonly systemCitizensMax: number;
  /** Off-hours look-ups by one caseworker in the period that are flagged. */
  readonly offHoursMin: number;
  /** Refused requests of one caller (system and caseworker) in the period that are flagged. */
  readonly refusalsMin: number;
  /** A calling system is flagged when at least this many of its permitted requests asked for withheld fields ... */
  readonly withheldMin: number;
  /** ... and they are at least this share of its permitted requests. */
  readonly withheldShare: number;
  /** Requests of one caller (system and caseworker) refused in the period for a missing relation (RELATION_MISSING) that are flagged. */
  readonly relationMissingMin: number;
  /**
   * A relation is flagged when a permitted decision relied on it (`relation=<id>`) and both its
   * registration and its end lie within this many hours of that decision.
   */
  readonly shortRelationWindowHours: number;
  /**
   * A consent recorded by a caseworker (not signed by the citizen at a consent service) is flagged
   * when the caseworker's own administration received data on it within this many minutes of
   * its recording: the recipient's own word unlocked its own flow.
   */
  readonly selfRecordedConsentMinutes: number;
  /** A recording system and caseworker is flagged when it recorded at least this many back-dated consents in the period. */
  readonly backdatedConsentsMin: number;
}

export const DEFAULT_THRESHOLDS: AnomalyThresholds = {
  manyCitizensMin: 10,
  manyCitizensFactor: 3,
  manyCitizensPeers: 3,
  systemCitizensMin: 20,
  systemCitizensFactor: 3,
  systemCitizensDays: 3,
  systemCitizensNormDays: 28,
  systemCitizensMax: 500,
  offHoursMin: 1,
  refusalsMin: 5,
  withheldMin: 5,
  withheldShare: 0.25,
  relationMissingMin: 3,
  shortRelationWindowHours: 48,
  selfRecordedConsentMinutes: 60,
  backdatedConsentsMin: 1,
};

export interface AnomalyInput {
  readonly range: DayRange;
  readonly thresholds?: AnomalyThresholds;
  /** Words for reason codes and field names, for the explanations. */
  readonly describeReason?: (code: string, lang: 'da' | 'en') => string;
  /** Disclosures relying on consents withdrawn later (when the consent registry is there). */
  readonly withdrawnConsents?: () => Promise<readonly WithdrawnConsentUse[]>;
  /** The trail and the relations register, for the two relation rules (src/audit/statistics.ts). */
  readonly relations?: Pick<Statistics, 'relationMissing' | 'shortLivedRelations'>;
  /** The consent rollups and the consent registry, for the self-recorded and back-dated consent rules. */
  readonly consents?: Pick<Statistics, 'selfRecordedConsents' | 'backdatedConsents'>;
}

function median(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** The sentence's subject, capitalised: it starts the explanation. */
const Who = (a: { callerSystem: string; caseworker: string }, lang: 'da' | 'en'): string => {
  const s = who(a, lang);
  return s.charAt(0).toUpperCase() + s.slice(1);
};

const who = (a: { callerSystem: string; caseworker: string }, lang: 'da' | 'en'): string => {
  const words = texts(lang).explanations;
  return a.caseworker === '' ? words.system(a.callerSystem || words.unknownSystem) : words.caseworker(a.caseworker, a.callerSystem);
};

/** An explanation in both languages, each from its own words. */
const explain = (say: (words: Texts['explanations'], lang: Lang) => string): Anomaly['explanation'] => ({
  da: say(texts('da').explanations, 'da'),
  en: say(texts('en').explanations, 'en'),
});

const pct = (x: number): string => `${Math.round(x * 100)} %`;
const NUMBERS = {
  da: new Intl.NumberFormat('da-DK', { maximumFractionDigits: 1 }),
  en: new Intl.NumberFormat('en-GB', { maximumFractionDigits: 1 }),
};
const num = (n: number, lang: 'da' | 'en'): string => NUMBERS[lang].format(n);

/** Every anomaly in the period, most telling first within each kind, from the period's rollups. */
export async function findAnomalies(rollups: AnomalySource, input: AnomalyInput): Promise<Anomaly[]> {
  const t = input.thresholds ?? DEFAULT_THRESHOLDS;
  const describe = input.describeReason ?? ((code: string) => code);
  const range = input.range;
  const normFrom = new Date(Date.parse(`${range.fromDay}T12:00:00Z`) - t.systemCitizensNormDays * 86_400_000).toISOString().slice(0, 10);
  const [caseworkers, systemDays, reasons, withheld, offHours] = await Promise.all([
    rollups.caseworkers(range),
    rollups.systemCitizens({ fromDay: normFrom, toDay: range.toDay }),
    rollups.reasons(range),
    rollups.withheld(range),
    rollups.offHours(copenhagenDayStart(range.fromDay), copenhagenDayStart(nextDay(range.toDay)), 5000),
  ]);
  const out: Anomaly[] = [
    ...manyCitizens(caseworkers, t),
    ...systemManyCitizens(systemDays, range, t),
    ...offHoursLookups(offHours, t),
    ...repeatedRefusals(caseworkers, reasons, t, describe),
    ...withheldFields(caseworkers, withheld, t),
  ];
  if (input.withdrawnConsents !== undefined) out.push(...withdrawnConsents(await input.withdrawnConsents()));
  if (input.relations !== undefined) {
    const counts = await input.relations.relationMissing(range, relationMissingCandidates(caseworkers, reasons, t));
    out.push(...relationMissing(counts, t));
    out.push(...shortLivedRelations(await input.relations.shortLivedRelations(range, t.shortRelationWindowHours * 3_600_000), t));
  }
  if (input.consents !== undefined) {
    out.push(...selfRecordedConsents(await input.consents.selfRecordedConsents(range, t.selfRecordedConsentMinutes * 60_000), t));
    out.push(...backdatedConsents(await input.consents.backdatedConsents(range), t));
  }
  return out;
}

export function manyCitizens(activity: readonly CaseworkerActivity[], t: AnomalyThresholds): Anomaly[] {
  const bySystem = new Map<string, CaseworkerActivity[]>();
  for (const a of activity) {
    if (a.caseworker === '' || a.citizens === 0) continue;
    bySystem.set(a.callerSystem, [...(bySystem.get(a.callerSystem) ?? []), a]);
  }
  const out: (Anomaly & { citizens: number })[] = [];
  for (const [system, group] of bySystem) {
    for (const a of group) {
      const peers = group.filter((p) => p !== a).map((p) => p.citizens);
      if (peers.length < t.manyCitizensPeers) continue;
      const norm = median(peers);
      if (a.citizens < t.manyCitizensMin || a.citizens <= t.manyCitizensFactor * Math.max(norm, 1)) continue;
      const times = norm > 0 ? Math.round((a.citizens / norm) * 10) / 10 : a.citizens;
      out.push({
        kind: 'many-citizens',
        callerSystem: system,
        caseworker: a.caseworker,
        explanation: explain((w, lang) =>
          w.manyCitizens({
            who: Who(a, lang),
            citizens: a.citizens,
            peers: peers.length,
            median: num(norm, lang),
            times: num(times, lang),
            min: t.manyCitizensMin,
            factor: t.manyCitizensFactor,
          }),
        ),
        evidence: [],
        citizens: a.citizens,
      });
    }
  }
  return out
    .sort((a, b) => b.citizens - a.citizens || a.caseworker.localeCompare(b.caseworker))
    .map(({ citizens: _n, ...anomaly }) => anomaly);
}

/**
 * The rule per calling system beside the rule per caseworker: a day on which a system looked up
 * many more distinct citizens than on its other days (its own norm), or more than a fixed
 * ceiling, whatever caseworker ids it named. `days` may reach back before the period (the norm);
 * only days in the period are flagged.
 */
export function systemManyCitizens(days: readonly SystemCitizensDay[], range: DayRange, t: AnomalyThresholds): Anomaly[] {
  const bySystem = new Map<string, SystemCitizensDay[]>();
  for (const d of days) if (d.citizens > 0) bySystem.set(d.callerSystem, [...(bySystem.get(d.callerSystem) ?? []), d]);
  const out: (Anomaly & { citizens: number })[] = [];
  for (const [system, list] of bySystem) {
    for (const d of list) {
      if (d.day < range.fromDay || d.day > range.toDay) continue;
      const others = list.filter((o) => o !== d).map((o) => o.citizens);
      const norm = others.length >= t.systemCitizensDays ? median(others) : undefined;
      const overNorm = norm !== undefined && d.citizens >= t.systemCitizensMin && d.citizens > t.systemCitizensFactor * Math.max(norm, 1);
      const overCeiling = t.systemCitizensMax > 0 && d.citizens > t.systemCitizensMax;
      if (!overNorm && !overCeiling) continue;
      const a = { callerSystem: system, caseworker: '' };
      out.push({
        kind: 'system-many-citizens',
        callerSystem: system,
        caseworker: '',
        explanation: explain((w, lang) =>
          w.systemManyCitizens({
            who: Who(a, lang),
            day: d.day,
            citizens: d.citizens,
            caseworkers: d.caseworkers,
            ...(norm !== undefined
              ? {
                  days: others.length,
                  median: num(norm, lang),
                  times: num(norm > 0 ? Math.round((d.citizens / norm) * 10) / 10 : d.citizens, lang),
                }
              : {}),
            min: t.systemCitizensMin,
            factor: t.systemCitizensFactor,
            max: t.systemCitizensMax,
          }),
        ),
        evidence: [],
        citizens: d.citizens,
      });
    }
  }
  return out.sort((a, b) => b.citizens - a.citizens || a.callerSystem.localeCompare(b.callerSystem)).map(({ citizens: _n, ...x }) => x);
}

export function offHoursLookups(lookups: readonly OffHoursLookup[], t: AnomalyThresholds): Anomaly[] {
  const groups = new Map<string, OffHoursLookup[]>();
  for (const l of lookups) {
    const key = `${l.callerSystem}\u0000${l.caseworker}`;
    groups.set(key, [...(groups.get(key) ?? []), l]);
  }
  const out: Anomaly[] = [];
  for (const list of groups.values()) {
    if (list.length < t.offHoursMin) continue;
    const first = list[0] as OffHoursLookup;
    const n = list.length;
    out.push({
      kind: 'off-hours',
      callerSystem: first.callerSystem,
      caseworker: first.caseworker,
      explanation: explain((w, lang) =>
        w.offHours({ who: Who(first, lang), n, fromHour: OFFICE_HOURS.fromHour, toHour: OFFICE_HOURS.toHour }),
      ),
      evidence: list.slice(0, 5).map((l) => ({ recordId: l.recordId, time: l.time })),
    });
  }
  return out.sort((a, b) => b.evidence.length - a.evidence.length);
}

export function repeatedRefusals(
  activity: readonly CaseworkerActivity[],
  reasons: readonly ReasonCount[],
  t: AnomalyThresholds,
  describe: (code: string, lang: 'da' | 'en') => string,
): Anomaly[] {
  const out: Anomaly[] = [];
  const flagged = activity.filter((a) => a.refused >= t.refusalsMin).sort((a, b) => b.refused - a.refused);
  for (const a of flagged) {
    const top = reasons.filter((r) => r.callerSystem === a.callerSystem).slice(0, 3);
    const list = (lang: 'da' | 'en') => top.map((r) => `${describe(r.reason, lang)} (${r.n})`).join('; ');
    out.push({
      kind: 'repeated-refusals',
      callerSystem: a.callerSystem,
      caseworker: a.caseworker,
      explanation: explain((w, lang) =>
        w.repeatedRefusals({
          who: Who(a, lang),
          refused: a.refused,
          requests: a.requests,
          share: pct(a.refused / Math.max(1, a.requests)),
          min: t.refusalsMin,
          reasons: list(lang),
        }),
      ),
      evidence: [],
    });
  }
  return out;
}

export function withheldFields(
  activity: readonly CaseworkerActivity[],
  withheld: readonly WithheldCount[],
  t: AnomalyThresholds,
): Anomaly[] {
  const bySystem = new Map<string, { asked: number; askedWithheld: number }>();
  for (const a of activity) {
    const s = bySystem.get(a.callerSystem) ?? { asked: 0, askedWithheld: 0 };
    s.asked += a.asked;
    s.askedWithheld += a.askedWithheld;
    bySystem.set(a.callerSystem, s);
  }
  const out: Anomaly[] = [];
  for (const [system, s] of bySystem) {
    if (s.askedWithheld < t.withheldMin || s.askedWithheld / Math.max(1, s.asked) < t.withheldShare) continue;
    const fields = withheld
      .filter((w) => w.callerSystem === system)
      .slice(0, 5)
      .map((w) => `${w.field} (${w.contract}, ${w.n})`)
      .join('; ');
    out.push({
      kind: 'withheld-fields',
      callerSystem: system,
      caseworker: '',
      explanation: explain((w) =>
        w.withheldFields({ system, withheld: s.askedWithheld, asked: s.asked, share: pct(s.askedWithheld / Math.max(1, s.asked)), fields }),
      ),
      evidence: [],
    });
  }
  return out;
}

export function withdrawnConsents(list: readonly WithdrawnConsentUse[]): Anomaly[] {
  return list
    .filter((w) => w.uses.length > 0)
    .map((w) => {
      const systems = [...new Set(w.uses.map((u) => u.callerSystem))].join(', ');
      const n = w.uses.length;
      return {
        kind: 'withdrawn-consent' as const,
        callerSystem: systems,
        caseworker: '',
        explanation: explain((words) => words.withdrawnConsent({ n, systems, consent: w.consentId, day: w.withdrawnAt.slice(0, 10) })),
        evidence: w.uses.slice(0, 5).map((u) => ({ recordId: u.recordId, time: u.time })),
      };
    });
}

/**
 * The callers rule (a) reads the trail for, from the rollups, so that its cost is bounded: only
 * systems with at least relationMissingMin RELATION_MISSING refusals in the period (per system,
 * dpo_daily_reason), and of those only caseworkers refused at least that often for any reason
 * (dpo_daily_caseworker), most refused first, at most MAX_RELATION_MISSING_CALLERS.
 */
export function relationMissingCandidates(
  activity: readonly CaseworkerActivity[],
  reasons: readonly ReasonCount[],
  t: AnomalyThresholds,
): { callerSystem: string; caseworker: string }[] {
  const systems = new Set(
    reasons.filter((r) => r.reason === DENY_REASON.relationMissing && r.n >= t.relationMissingMin).map((r) => r.callerSystem),
  );
  return activity
    .filter((a) => systems.has(a.callerSystem) && a.caseworker !== '' && a.refused >= t.relationMissingMin)
    .sort((a, b) => b.refused - a.refused || a.caseworker.localeCompare(b.caseworker))
    .slice(0, MAX_RELATION_MISSING_CALLERS)
    .map((a) => ({ callerSystem: a.callerSystem, caseworker: a.caseworker }));
}

export function relationMissing(counts: readonly RelationMissingCount[], t: AnomalyThresholds): Anomaly[] {
  return counts
    .filter((c) => c.refused >= t.relationMissingMin)
    .sort((a, b) => b.refused - a.refused || a.caseworker.localeCompare(b.caseworker))
    .map((c) => ({
      kind: 'relation-missing' as const,
      callerSystem: c.callerSystem,
      caseworker: c.caseworker,
      explanation: explain((w, lang) =>
        w.relationMissing({ who: Who(c, lang), refused: c.more ? w.atLeast(c.refused) : String(c.refused), min: t.relationMissingMin }),
      ),
      evidence: c.evidence,
    }));
}

const actorText = (a: RelationActor): string => `${a.system} (${a.administration})${a.caseworker !== null ? `, ${a.caseworker}` : ''}`;

export function shortLivedRelations(list: readonly ShortLivedRelation[], t: AnomalyThresholds): Anomaly[] {
  return list
    .filter((s) => s.lookups.length > 0)
    .map((s) => {
      const systems = [...new Set(s.lookups.map((l) => l.callerSystem))];
      const caseworkers = [...new Set(s.lookups.map((l) => l.caseworker))];
      const callerSystem = systems.join(', ');
      const caseworker = systems.length === 1 && caseworkers.length === 1 ? (caseworkers[0] as string) : '';
      const hours = Math.round(((Date.parse(s.ended.at) - Date.parse(s.registered.at)) / 3_600_000) * 10) / 10;
      const evidence = [
        ...(s.ended.recordId !== null ? [{ recordId: s.ended.recordId, time: s.ended.at }] : []),
        ...s.lookups.slice(0, 3).map((l) => ({ recordId: l.recordId, time: l.time })),
        ...(s.registered.recordId !== null ? [{ recordId: s.registered.recordId, time: s.registered.at }] : []),
      ];
      return {
        kind: 'short-lived-relation' as const,
        callerSystem,
        caseworker,
        explanation: explain((w, lang) =>
          w.shortLivedRelation({
            relation: s.relation.id,
            capacity: s.relation.capacity,
            administration: s.relation.administration,
            registeredAt: formatTime(s.registered.at, lang),
            registeredBy: actorText(s.registered.actor),
            endedAt: formatTime(s.ended.at, lang),
            endedBy: actorText(s.ended.actor),
            reason: s.ended.reason ?? '',
            hours: num(hours, lang),
            who: who({ callerSystem, caseworker }, lang),
            n: s.lookups.length,
            window: t.shortRelationWindowHours,
          }),
        ),
        evidence,
      };
    });
}

/** A consent's id as the anomaly names it: the registry's, or the start of its receipt digest when the registry no longer holds it. */
const consentName = (digest: string, consent: RecordedConsent | null): string => consent?.id ?? digest.slice(0, 12);

const minutesBetween = (from: string, to: string): number => Math.max(0, Math.round((Date.parse(to) - Date.parse(from)) / 60_000));

/**
 * Consents a caseworker recorded that the caseworker's own administration then received data on
 * within the window: one anomaly per consent, oldest recording first, with the recording and the
 * first permits as evidence (newest first).
 */
export function selfRecordedConsents(list: readonly SelfRecordedConsentUse[], t: AnomalyThresholds): Anomaly[] {
  return list
    .filter((u) => u.permits.length > 0)
    .map((u) => {
      const r = u.recording;
      const first = u.permits[0]!;
      const exchanges = new Set(u.permits.map((p) => `${p.auditId}\u0000${p.recipientSystem}`)).size;
      const systems = [...new Set(u.permits.map((p) => p.recipientSystem))].join(', ');
      const recorder = { callerSystem: r.callerSystem, caseworker: r.caseworker };
      return {
        kind: 'self-recorded-consent' as const,
        callerSystem: r.callerSystem,
        caseworker: r.caseworker,
        explanation: explain((w, lang) =>
          w.selfRecordedConsent({
            who: Who(recorder, lang),
            consent: consentName(r.consent, u.consent),
            recordedAt: formatTime(r.time, lang),
            form: u.consent?.form ?? null,
            reference: u.consent?.reference ?? null,
            administration: r.administration,
            systems,
            n: exchanges,
            firstAfter: minutesBetween(r.time, first.time),
            window: t.selfRecordedConsentMinutes,
          }),
        ),
        evidence: [...u.permits.slice(0, 4)]
          .reverse()
          .map((p) => ({ recordId: p.recordId, time: p.time }))
          .concat([{ recordId: r.recordId, time: r.time }]),
      };
    });
}

/** How many days before the day it was recorded a consent's period starts. */
function daysBack(validFrom: string, recordedAt: string): number {
  const recordedOn = copenhagen(recordedAt).day;
  return Math.round((Date.parse(`${recordedOn}T00:00:00Z`) - Date.parse(`${validFrom}T00:00:00Z`)) / 86_400_000);
}

/** Back-dated consents per recording system and caseworker: most first, each with its consents listed (at most 5) and the records. */
export function backdatedConsents(list: readonly BackdatedConsent[], t: AnomalyThresholds): Anomaly[] {
  const groups = new Map<string, BackdatedConsent[]>();
  for (const b of list) {
    const key = `${b.recording.callerSystem}\u0000${b.recording.caseworker}`;
    groups.set(key, [...(groups.get(key) ?? []), b]);
  }
  return [...groups.values()]
    .filter((g) => g.length >= t.backdatedConsentsMin)
    .sort((a, b) => b.length - a.length || a[0]!.recording.caseworker.localeCompare(b[0]!.recording.caseworker))
    .map((g) => {
      const r = g[0]!.recording;
      const recorder = { callerSystem: r.callerSystem, caseworker: r.caseworker };
      return {
        kind: 'backdated-consent' as const,
        callerSystem: r.callerSystem,
        caseworker: r.caseworker,
        explanation: explain((w, lang) =>
          w.backdatedConsents({
            who: Who(recorder, lang),
            n: g.length,
            consents: g.slice(0, 5).map((b) => ({
              consent: consentName(b.recording.consent, b.consent),
              validFrom: b.consent?.validFrom ?? null,
              recordedOn: copenhagen(b.recording.time).day,
              days: b.consent !== null ? daysBack(b.consent.validFrom, b.recording.time) : null,
              reference: b.consent?.reference ?? null,
              representative: b.recording.representative,
            })),
            min: t.backdatedConsentsMin,
          }),
        ),
        evidence: g.slice(0, 5).map((b) => ({ recordId: b.recording.recordId, time: b.recording.time })),
      };
    });
}

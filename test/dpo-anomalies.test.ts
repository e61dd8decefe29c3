/**
 * The anomaly rules of the DPO pages (src/dpo/anomalies.ts), on a trail planted with a
 * controlled clock and counted into the rollups by the catch-up pass: each rule flags what it
 * should, explains it in words with its numbers, and leaves the usual alone.
 */
import { randomUUID } from 'node:crypto';
import { statisticsOf } from '../src/audit/statistics.js';
import { AuditTrail } from '../src/audit/trail.js';
import type { AuditEntry } from '../src/audit/types.js';
import { DEFAULT_THRESHOLDS, findAnomalies, type Anomaly, type AnomalyInput } from '../src/dpo/anomalies.js';
import { reasonText } from '../src/dpo/labels.js';
import { RollupCatchUp } from '../src/audit/rollups.js';
import type { Relation, RelationActor } from '../src/relations/types.js';
import type { Store } from '../src/store/types.js';
import { auditEntry, testPseudonyms } from './support/audit-entries.js';
import { sqliteDatabase, type TestDatabase } from './support/databases.js';

const citizen = (n: number): string => testPseudonyms.pseudonym(`01019${String(n % 10)}99${String(n % 100).padStart(2, '0')}`.slice(0, 10));
const RANGE = { fromDay: '2026-02-01', toDay: '2026-02-28' };
// Wednesday 11 February 2026, 10:00 Copenhagen (CET): office hours. Saturday 14 February 23:10: not.
const WEEKDAY = '2026-02-11T09:00:00.000Z';
const SATURDAY = '2026-02-14T22:10:00.000Z';

const entry = (over: Partial<AuditEntry>): AuditEntry =>
  auditEntry({ caseworker: 'cw', caseRef: null, subject: citizen(0), policy: null, policySet: null, legalBasis: null, ...over });

let db: TestDatabase;
let store: Store;
let anomalies: Anomaly[];
let beforeCatchUp: Anomaly[];
const relationIds: Record<string, string> = {};
const relationRecords: Record<string, string[]> = {};

beforeAll(async () => {
  db = await sqliteDatabase('anomalies');
  store = await db.open();
  let now = WEEKDAY;
  const trail = await AuditTrail.open(store, { chain: 'gw-plant', now: () => new Date(now) });
  const add = (e: Partial<AuditEntry>, at = WEEKDAY) => {
    now = at;
    return trail.append(entry(e));
  };
  // Four caseworkers of the social system with 2 citizens each, one with 15.
  for (let cw = 1; cw <= 4; cw++) for (let i = 0; i < 2; i++) await add({ caseworker: `sof-${cw}`, subject: citizen(cw * 10 + i) });
  for (let i = 0; i < 15; i++) await add({ caseworker: 'sof-many', subject: citizen(50 + i) });
  // The jobcentre system: two caseworkers, one with many citizens, but too few peers for a norm.
  for (let i = 0; i < 15; i++)
    await add({ caller: { system: 'bif-jobcentre-system', administration: 'BIF' }, caseworker: 'bif-alone', subject: citizen(i) });
  await add({ caller: { system: 'bif-jobcentre-system', administration: 'BIF' }, caseworker: 'bif-other', subject: citizen(1) });
  // A system that looks up two citizens a day on four days, then 25 in one bulk, each under a new
  // caseworker id (the client names them): no caseworker reaches the rule per caseworker.
  const BULK = { system: 'bulk-system', administration: 'SOF' };
  for (const day of ['02', '03', '04', '05'])
    for (let i = 0; i < 2; i++) await add({ caller: BULK, caseworker: 'bulk-usual', subject: citizen(i) }, `2026-02-${day}T09:00:00.000Z`);
  for (let i = 0; i < 25; i++)
    await add({ caller: BULK, caseworker: `bulk-${randomUUID()}`, subject: citizen(i) }, '2026-02-12T09:00:00.000Z');
  // Saturday-night look-ups by one caseworker.
  await add({ caseworker: 'sof-night', subject: citizen(70) }, SATURDAY);
  await add({ caseworker: 'sof-night', subject: citizen(71) }, SATURDAY);
  // Six refusals for one caseworker, four for another.
  for (let i = 0; i < 6; i++)
    await add({ caseworker: 'sof-refused', decision: 'deny', reasons: ['NO_POLICY'], contract: 'social.coordination-summary.v1' });
  for (let i = 0; i < 4; i++) await add({ caseworker: 'sof-some', decision: 'deny', reasons: ['PURPOSE_NOT_ALLOWED'] });
  // A system that asks for a withheld field in 6 of its 10 permitted requests.
  for (let i = 0; i < 10; i++) {
    await add({
      caller: { system: 'greedy-system', administration: 'BIF' },
      caseworker: `g-${i}`,
      contract: 'social.coordination-summary.v1',
      fields:
        i < 6
          ? { requested: ['openSocialCase', 'efforts'], released: ['openSocialCase'], withheld: [], dropped: [] }
          : { requested: ['openSocialCase'], released: ['openSocialCase'], withheld: [], dropped: [] },
    });
  }
  // Refused for a missing relation: four times for one caseworker, twice for another.
  for (let i = 0; i < 4; i++)
    await add({ caseworker: 'sof-norel', decision: 'deny', reasons: ['RELATION_MISSING'], subject: citizen(80 + i) });
  for (let i = 0; i < 2; i++) await add({ caseworker: 'sof-norel-few', decision: 'deny', reasons: ['RELATION_MISSING'] });

  // Relations of the jobcentre, each with its registration and end in the register and the trail,
  // and look-ups relying on them.
  const bif: RelationActor = { system: 'bif-jobcentre-system', administration: 'BIF', caseworker: 'bif-quick' };
  const plant = async (name: string, n: number, registeredAt: string, endedAt: string | null, lookups: string[]) => {
    const subject = citizen(n);
    const id = randomUUID();
    relationIds[name] = id;
    relationRecords[name] = [];
    const relation: Relation = {
      id,
      subject,
      administration: 'BIF',
      capacity: 'cash-benefit',
      caseRef: `BIF-${name}`,
      caseworker: 'bif-quick',
      from: '2026-02-01',
      to: null,
      endReason: null,
      version: 1,
      registeredAt,
      updatedAt: registeredAt,
    };
    const audited = async (at: string, reasons: string[]) => {
      const auditId = randomUUID();
      const record = await add(
        {
          kind: 'relation',
          auditId,
          caller: bif,
          caseworker: 'bif-quick',
          subject,
          contract: null,
          purpose: null,
          decision: null,
          reasons,
        },
        at,
      );
      relationRecords[name]!.push(record.id);
      return auditId;
    };
    const registered = await audited(registeredAt, ['RELATION_REGISTERED', `relation=${id}`]);
    await store.relations.save(
      relation,
      { type: 'registered', at: registeredAt, actor: bif, auditId: registered, changed: [], reason: null },
      0,
    );
    for (const at of lookups) {
      const lookup = await add(
        {
          caller: bif,
          caseworker: 'bif-quick',
          subject,
          reasons: [`relation=${id}`, 'relations-sha256=x'],
          contract: 'social.coordination-summary.v1',
        },
        at,
      );
      relationRecords[name]!.push(lookup.id);
    }
    if (endedAt !== null) {
      const ended = await audited(endedAt, ['RELATION_ENDED', `relation=${id}`, 'case-closed']);
      await store.relations.save(
        { ...relation, to: endedAt.slice(0, 10), endReason: 'case-closed', version: 2, updatedAt: endedAt },
        { type: 'ended', at: endedAt, actor: bif, auditId: ended, changed: [], reason: 'case-closed' },
        1,
      );
    }
  };
  // Registered an hour before a look-up, ended 23 hours after it: flagged.
  await plant('quick', 90, '2026-02-11T08:00:00.000Z', '2026-02-12T08:00:00.000Z', [WEEKDAY]);
  // As short-lived, but nothing relied on it.
  await plant('unused', 91, '2026-02-11T08:00:00.000Z', '2026-02-12T08:00:00.000Z', []);
  // Ended 69 hours after the look-up: outside the 48-hour window, though within twice it of the registration.
  await plant('slow', 92, '2026-02-16T08:00:00.000Z', '2026-02-19T06:00:00.000Z', ['2026-02-16T09:00:00.000Z']);
  // Not ended at all.
  await plant('open', 93, '2026-02-16T08:00:00.000Z', null, ['2026-02-16T09:00:00.000Z']);
  await trail.close();
  const input: AnomalyInput = {
    range: RANGE,
    describeReason: reasonText,
    withdrawnConsents: async () => [
      {
        consentId: 'consent-1',
        withdrawnAt: '2026-02-20T10:00:00.000Z',
        uses: [{ recordId: 'r-1', time: WEEKDAY, callerSystem: 'bif-jobcentre-system', contract: 'social.coordination-summary.v1' }],
      },
    ],
    relations: statisticsOf(store),
  };
  beforeCatchUp = await findAnomalies(store.dpo, input);
  // Pages of 7 records: batch boundaries fall inside every group of look-ups planted above.
  const catchUp = new RollupCatchUp(store, { pageSize: 7 });
  while ((await catchUp.run(1000)) > 0);
  anomalies = await findAnomalies(store.dpo, input);
});

afterAll(async () => {
  await db?.cleanup();
});

const of = (kind: Anomaly['kind']) => anomalies.filter((a) => a.kind === kind);

it('flags a caseworker looking up many more distinct citizens than the others of the same system, and only where a norm exists', () => {
  expect(of('many-citizens').map((a) => a.caseworker)).toEqual(['sof-many']);
  const [a] = of('many-citizens');
  expect(a!.explanation.da).toContain('slog 15 forskellige borgere op');
  expect(a!.explanation.da).toContain('typisk (median) 2 op');
  expect(a!.explanation.en).toContain('looked up 15 distinct citizens');
  expect(a!.explanation.en).toContain('7.5 times as many');
});

it('flags a calling system that looks up many more distinct citizens on a day than its own norm, whatever caseworker ids it names', async () => {
  // The rule per caseworker does not see it: each id looked up one citizen.
  expect(of('many-citizens').filter((a) => a.callerSystem === 'bulk-system')).toEqual([]);
  const flagged = of('system-many-citizens');
  expect(flagged.map((a) => [a.callerSystem, a.caseworker])).toEqual([['bulk-system', '']]);
  expect(flagged[0]!.explanation.en).toContain('looked up 25 distinct citizens on 2026-02-12, under 25 caseworker ids');
  expect(flagged[0]!.explanation.en).toContain('On its 4 other days it typically (median) looked up 2: 12.5 times as many');
  expect(flagged[0]!.explanation.da).toContain('slog 25 forskellige borgere op den 2026-02-12 under 25 forskellige sagsbehandler-id’er');
  expect(flagged[0]!.explanation.da).toContain('typisk (median) 2 op: 12,5 gange så mange');
  // The social system's busy day has no norm of its own (one other day) and is under the ceiling.
  expect(flagged.some((a) => a.callerSystem === 'sof-case-system')).toBe(false);
  // Its norm reaches back before the period: a period of the bulk day alone still compares it with the days before.
  const oneDay = await findAnomalies(store.dpo, { range: { fromDay: '2026-02-12', toDay: '2026-02-12' } });
  expect(oneDay.filter((a) => a.kind === 'system-many-citizens').map((a) => a.callerSystem)).toEqual(['bulk-system']);
  // A fixed ceiling flags a system without a norm.
  const ceiling = await findAnomalies(store.dpo, {
    range: RANGE,
    thresholds: { ...DEFAULT_THRESHOLDS, systemCitizensDays: 100, systemCitizensMax: 20 },
  });
  const byCeiling = ceiling.filter((a) => a.kind === 'system-many-citizens');
  expect(byCeiling.map((a) => a.callerSystem).sort()).toEqual(['bulk-system', 'sof-case-system']);
  expect(byCeiling.find((a) => a.callerSystem === 'sof-case-system')!.explanation.en).toContain('too few other days for a norm');
});

it('flags look-ups outside office hours, Copenhagen time, with the records', () => {
  const flagged = of('off-hours');
  expect(flagged.map((a) => a.caseworker)).toEqual(['sof-night']);
  expect(flagged[0]!.evidence).toHaveLength(2);
  expect(flagged[0]!.evidence.every((e) => e.time === SATURDAY)).toBe(true);
  expect(flagged[0]!.explanation.en).toContain('2 times outside office hours');
});

it('flags repeated refusals for one caller, with the reasons in words', () => {
  expect(of('repeated-refusals').map((a) => a.caseworker)).toEqual(['sof-refused']);
  const text = of('repeated-refusals')[0]!.explanation;
  expect(text.da).toContain('fik 6 af 6 forespørgsler afvist');
  expect(text.da).toContain('Ingen politik tillader udvekslingen (6)');
  expect(text.en).toContain('No policy permits the exchange (6)');
});

it('flags a caller that regularly asks for fields the policies do not release, naming them', () => {
  expect(of('withheld-fields').map((a) => a.callerSystem)).toEqual(['greedy-system']);
  const text = of('withheld-fields')[0]!.explanation;
  expect(text.en).toContain('asked in 6 of 10 permitted requests (60 %)');
  expect(text.en).toContain('efforts (social.coordination-summary.v1, 6)');
});

it('flags disclosures that relied on a consent withdrawn later', () => {
  const [a] = of('withdrawn-consent');
  expect(a!.explanation.da).toContain('samtykke consent-1');
  expect(a!.explanation.en).toContain('later withdrew (2026-02-20)');
  expect(a!.evidence).toEqual([{ recordId: 'r-1', time: WEEKDAY }]);
});

it('flags a caseworker refused again and again because the administration holds no relation to the citizens, with the records', () => {
  const flagged = of('relation-missing');
  // sof-refused was refused six times too, but never for a missing relation; sof-norel-few only twice.
  expect(flagged.map((a) => [a.callerSystem, a.caseworker])).toEqual([['sof-case-system', 'sof-norel']]);
  expect(flagged[0]!.evidence).toHaveLength(4);
  expect(flagged[0]!.explanation.da).toContain('fik 4 forespørgsler afvist');
  expect(flagged[0]!.explanation.en).toContain('registered no relation in force');
});

it('flags a relation registered shortly before a look-up relying on it and ended soon after, with the records', async () => {
  const flagged = of('short-lived-relation');
  expect(flagged).toHaveLength(1);
  const [a] = flagged;
  expect(a!.callerSystem).toBe('bif-jobcentre-system');
  expect(a!.caseworker).toBe('bif-quick');
  expect(a!.explanation.en).toContain(`Relation ${relationIds.quick} (cash-benefit, BIF)`);
  expect(a!.explanation.en).toContain('24 hours later');
  expect(a!.explanation.en).toContain('1 time relying on it, within 48 hours');
  // The end, the look-up and the registration, newest first.
  expect(a!.evidence.map((e) => e.recordId)).toEqual([...relationRecords.quick!].reverse());
  // A narrower window leaves it alone.
  expect(await shortLivedRelationsOf({ ...DEFAULT_THRESHOLDS, shortRelationWindowHours: 12 })).toEqual([]);
});

it('sees the trail only once the catch-up pass has counted it (appends leave the rollups alone)', () => {
  // The rules fed from outside the rollups: withdrawn consents, and relations ended soon after a look-up.
  expect(beforeCatchUp.map((a) => a.kind)).toEqual(['withdrawn-consent', 'short-lived-relation']);
});

it('finds nothing outside the period, and nothing with thresholds nobody reaches', async () => {
  expect(await findAnomalies(store.dpo, { range: { fromDay: '2026-03-01', toDay: '2026-03-31' } })).toEqual([]);
  const strict = {
    ...DEFAULT_THRESHOLDS,
    manyCitizensMin: 100,
    systemCitizensMin: 100,
    systemCitizensMax: 0,
    offHoursMin: 100,
    refusalsMin: 100,
    withheldMin: 100,
    relationMissingMin: 100,
    shortRelationWindowHours: 0,
  };
  expect(await findAnomalies(store.dpo, { range: RANGE, thresholds: strict, relations: statisticsOf(store) })).toEqual([]);
  expect(await findAnomalies(store.dpo, { range: { fromDay: '2026-03-01', toDay: '2026-03-31' }, relations: statisticsOf(store) })).toEqual(
    [],
  );
});

function shortLivedRelationsOf(thresholds: typeof DEFAULT_THRESHOLDS): Promise<Anomaly[]> {
  return findAnomalies(store.dpo, { range: RANGE, thresholds, relations: statisticsOf(store) }).then((list) =>
    list.filter((a) => a.kind === 'short-lived-relation'),
  );
}

/**
 * The anomaly rules of the DPO pages (src/dpo/anomalies.ts), on a trail planted with a
 * controlled clock and counted into the rollups by the catch-up pass: each rule flags what it
 * should, explains it in words with its numbers, and leaves the usual alone.
 */
import { AuditTrail } from '../src/audit/trail.js';
import type { AuditEntry } from '../src/audit/types.js';
import { DEFAULT_THRESHOLDS, findAnomalies, type Anomaly, type AnomalyInput } from '../src/dpo/anomalies.js';
import { reasonText } from '../src/dpo/labels.js';
import { RollupCatchUp } from '../src/audit/rollups.js';
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

it('sees the trail only once the catch-up pass has counted it (appends leave the rollups alone)', () => {
  expect(beforeCatchUp.map((a) => a.kind)).toEqual(['withdrawn-consent']); // the one rule fed from outside the rollups
});

it('finds nothing outside the period, and nothing with thresholds nobody reaches', async () => {
  expect(await findAnomalies(store.dpo, { range: { fromDay: '2026-03-01', toDay: '2026-03-31' } })).toEqual([]);
  const strict = { ...DEFAULT_THRESHOLDS, manyCitizensMin: 100, offHoursMin: 100, refusalsMin: 100, withheldMin: 100 };
  expect(await findAnomalies(store.dpo, { range: RANGE, thresholds: strict })).toEqual([]);
});

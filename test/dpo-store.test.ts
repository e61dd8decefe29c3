/**
 * The DPO store (src/store/dpo-types.ts), one suite against SQLite and PostgreSQL alike: the
 * rollups counted by the catch-up pass agree with the trail whatever the size of its pages, an
 * audit append never touches them, counting is compare-and-set (concurrent passes, also from a
 * second store on the same database, never count a record twice), and sessions and saved
 * searches behave. PostgreSQL must be reachable (SNITFLADE_TEST_PG, default
 * postgres://postgres@127.0.0.1:5432/postgres).
 */
import { CONSENT_AUDIT, NOTIFICATION_AUDIT, ROLLUP_REASONS } from '../src/audit/reasons.js';
import { AuditTrail } from '../src/audit/trail.js';
import type { AuditEntry } from '../src/audit/types.js';
import { RollupCatchUp } from '../src/audit/rollups.js';
import { copenhagen, copenhagenDayStart, isOffHours, rollupBatch } from '../src/store/dpo-rollup.js';
import type { Store } from '../src/store/types.js';
import { auditEntry, testPseudonyms } from './support/audit-entries.js';
import { postgresDatabase, sqliteDatabase, type TestDatabase } from './support/databases.js';

const citizen = (n: number): string =>
  testPseudonyms.pseudonym(`0101${String(90 + (n % 9)).padStart(2, '0')}99${String(n % 100).padStart(2, '0')}`);
const entry = (over: Partial<AuditEntry> = {}): AuditEntry => auditEntry({ subject: citizen(1), ...over });

// Tuesday 10 March 2026: 09:00 and 14:00 Copenhagen (CET, UTC+1) are office hours; Saturday 14 March 02:30 is not.
const TUE_0900 = '2026-03-10T08:00:00.000Z';
const TUE_1400 = '2026-03-10T13:00:00.000Z';
const WED_0945 = '2026-03-11T08:45:00.000Z';
const WED_1000 = '2026-03-11T09:00:00.000Z';
const WED_1100 = '2026-03-11T10:00:00.000Z';
const SAT_0230 = '2026-03-14T01:30:00.000Z';
const MARCH = { fromDay: '2026-03-01', toDay: '2026-03-31' };

/** Writes the same planted trail on a chain; returns the trail (its clock set per entry). */
async function plant(store: Store, chain: string): Promise<void> {
  let now = TUE_0900;
  const trail = await AuditTrail.open(store, { chain, now: () => new Date(now) });
  const at = async (time: string, e: Partial<AuditEntry>) => {
    now = time;
    await trail.append(entry(e));
  };
  // cw-1: three look-ups of two citizens, one asking for a field the policy does not release.
  await at(TUE_0900, { subject: citizen(1) });
  await at(TUE_0900, {
    subject: citizen(1),
    kind: 'release',
    status: 200,
    fields: { requested: ['targetGroup'], released: ['targetGroup'], withheld: [], dropped: [] },
  });
  await at(TUE_1400, {
    subject: citizen(2),
    fields: { requested: ['targetGroup', 'efforts'], released: ['targetGroup'], withheld: [], dropped: [] },
  });
  await at(WED_1000, { subject: citizen(2) });
  // cw-2: a denied look-up and a Saturday-night look-up.
  await at(WED_1000, {
    caseworker: 'cw-2',
    subject: citizen(3),
    decision: 'deny',
    reasons: ['NO_POLICY'],
    purpose: 'whole-person-plan',
    fields: { requested: ['x'], released: [], withheld: [], dropped: [] },
  });
  await at(SAT_0230, { caseworker: 'cw-2', subject: citizen(4) });
  // a refusal before any decision (no caseworker known, no contract)
  await at(WED_1000, {
    kind: 'refusal',
    caseworker: null,
    contract: null,
    purpose: null,
    subject: null,
    policy: null,
    decision: null,
    reasons: ['TOKEN_MISSING'],
  });
  // the jobcentre's caseworker records a paper consent (the consent record cites its receipt) ...
  await at(WED_0945, {
    kind: 'consent',
    caller: { system: 'bif-jobcentre-system', administration: 'BIF' },
    caseworker: 'bif-1',
    contract: null,
    purpose: 'rehabilitation-team-assessment',
    decision: null,
    subject: citizen(5),
    consent: 'receipt-digest-1',
    reasons: [CONSENT_AUDIT.recorded],
    policy: null,
    status: 201,
  });
  // ... and social services a back-dated one given by a guardian, on a signed artefact
  await at(TUE_1400, {
    kind: 'consent',
    caseworker: 'sof-9',
    contract: null,
    decision: null,
    subject: citizen(6),
    consent: 'receipt-digest-2',
    reasons: [CONSENT_AUDIT.recorded, CONSENT_AUDIT.backdated, CONSENT_AUDIT.representative, 'artefact-sha256=abc'],
    policy: null,
    status: 201,
  });
  // a release relying on a consent, and the consent's later withdrawal
  await at(WED_1000, {
    caller: { system: 'bif-jobcentre-system', administration: 'BIF' },
    caseworker: 'bif-1',
    contract: 'social.coordination-summary.v1',
    purpose: 'rehabilitation-team-assessment',
    subject: citizen(5),
    consent: 'receipt-digest-1',
  });
  await at(WED_1000, {
    caller: { system: 'bif-jobcentre-system', administration: 'BIF' },
    caseworker: 'bif-1',
    contract: 'social.coordination-summary.v1',
    kind: 'release',
    status: 200,
    subject: citizen(5),
    consent: 'receipt-digest-1',
  });
  await at('2026-03-20T10:00:00.000Z', {
    kind: 'consent',
    decision: null,
    subject: citizen(5),
    consent: 'receipt-digest-1',
    reasons: [CONSENT_AUDIT.withdrawn],
    policy: null,
  });
  // a notification the gateway queued for one recipient on a consent, and its later delivery (not a request)
  const notice: Partial<AuditEntry> = {
    kind: 'notification',
    caller: { system: 'bif-jobcentre-system', administration: 'BIF' },
    recipient: { system: 'sof-case-system', administration: 'SOF' },
    caseworker: 'bif-1',
    contract: 'employment.sanction-notice.v1',
    purpose: 'sanction-notice',
    subject: citizen(6),
    consent: 'receipt-digest-2',
  };
  await at(WED_1000, { ...notice, reasons: [NOTIFICATION_AUDIT.queued] });
  await at(WED_1100, { ...notice, reasons: [NOTIFICATION_AUDIT.delivered] });
  // an admin record counts nowhere
  await at(WED_1000, { kind: 'admin', caseworker: null, subject: null, decision: null, reasons: ['RULES_RELOADED'] });
  await trail.close();
}

const ROLLUP_TABLES = [
  'dpo_daily_traffic',
  'dpo_daily_reason',
  'dpo_daily_caseworker',
  'dpo_daily_citizen',
  'dpo_daily_withheld',
  'dpo_off_hours',
  'dpo_consent_use',
  'dpo_consent_withdrawal',
  'dpo_consent_recorded',
  'dpo_consent_permit',
];

/** Forgets every count: as if the trail had been written before the rollup tables existed. */
async function forgetRollups(h: TestDatabase): Promise<void> {
  for (const table of [...ROLLUP_TABLES, 'dpo_rollup_state']) await h.exec(`DELETE FROM ${table}`);
}

/** Runs the catch-up pass until nothing is behind. */
async function catchUpAll(store: Store, pageSize?: number): Promise<void> {
  const catchUp = new RollupCatchUp(store, pageSize !== undefined ? { pageSize } : {});
  while ((await catchUp.run(10_000)) > 0);
}

/** The store as a catch-up pass sees it, counting the batches refused because another pass counted them first. */
function countingRefusals(store: Store, counter: { refused: number }): Store {
  const dpo = store.dpo;
  const addToRollups = async (batch: Parameters<typeof dpo.addToRollups>[0]): Promise<boolean> => {
    const added = await dpo.addToRollups(batch);
    if (!added) counter.refused += 1;
    return added;
  };
  return {
    ...store,
    audit: store.audit,
    dpo: { ...dpo, rollupWatermarks: () => dpo.rollupWatermarks(), addToRollups },
  } as unknown as Store;
}

async function snapshot(store: Store) {
  const dpo = store.dpo;
  return {
    days: await dpo.trafficByDay(MARCH),
    callers: await dpo.trafficBy('callerSystem', MARCH),
    contracts: await dpo.trafficBy('contract', MARCH),
    purposes: await dpo.trafficBy('purpose', MARCH),
    reasons: await dpo.reasons(MARCH),
    caseworkers: (await dpo.caseworkers(MARCH)).sort((a, b) =>
      `${a.callerSystem}/${a.caseworker}`.localeCompare(`${b.callerSystem}/${b.caseworker}`),
    ),
    systemCitizens: await dpo.systemCitizens(MARCH),
    withheld: await dpo.withheld(MARCH),
    offHours: (await dpo.offHours('2026-03-01T00:00:00.000Z', '2026-04-01T00:00:00.000Z', 100)).map(({ recordId: _r, ...rest }) => rest),
    uses: (await dpo.consentUses(['receipt-digest-1', 'other'], 10)).map(({ recordId: _r, ...rest }) => rest),
    withdrawals: (await dpo.consentWithdrawals('2026-03-01T00:00:00.000Z', '2026-04-01T00:00:00.000Z', 10)).map(
      ({ recordId: _r, ...rest }) => rest,
    ),
    recordings: (await dpo.consentRecordings({ from: '2026-03-01T00:00:00.000Z', to: '2026-04-01T00:00:00.000Z', limit: 10 })).map(
      ({ recordId: _r, ...rest }) => rest,
    ),
    permits: (
      await dpo.consentPermits(
        ['receipt-digest-1', 'receipt-digest-2', 'other'],
        '2026-03-01T00:00:00.000Z',
        '2026-04-01T00:00:00.000Z',
        10,
      )
    ).map(({ recordId: _r, auditId: _a, ...rest }) => rest),
  };
}

function describeDpoStore(name: string, makeHarness: () => Promise<TestDatabase>): void {
  describe(`${name} DPO store`, () => {
    let h: TestDatabase;
    let store: Store;
    beforeAll(async () => {
      h = await makeHarness();
      store = await h.open();
    });
    afterAll(async () => {
      await store?.close();
      await h?.cleanup();
    });

    it('leaves the rollups to the catch-up pass, which counts the records by Copenhagen day', async () => {
      await plant(store, 'gw-a');
      // The appends wrote the records and nothing else.
      expect((await store.dpo.rollupWatermarks()).get('gw-a') ?? 0).toBe(0);
      expect(await store.dpo.trafficByDay(MARCH)).toEqual([]);
      // One record per batch, as counting in each append's own transaction did.
      await catchUpAll(store, 1);
      expect((await store.dpo.rollupWatermarks()).get('gw-a')).toBe((await store.audit.head('gw-a'))!.seq);
      const s = await snapshot(store);
      expect(s.days).toEqual([
        { day: '2026-03-10', requests: 2, refused: 0 },
        { day: '2026-03-11', requests: 5, refused: 2 },
        { day: '2026-03-14', requests: 1, refused: 0 },
      ]);
      expect(s.callers).toEqual([
        { key: 'sof-case-system', requests: 6, refused: 2 },
        { key: 'bif-jobcentre-system', requests: 2, refused: 0 },
      ]);
      expect(s.purposes).toEqual(
        expect.arrayContaining([
          { key: 'plan-coordination', requests: 4, refused: 0 },
          { key: 'whole-person-plan', requests: 1, refused: 1 },
          { key: '', requests: 1, refused: 1 },
          { key: 'sanction-notice', requests: 1, refused: 0 },
        ]),
      );
      expect(s.contracts.find((c) => c.key === 'employment.sanction-notice.v1')).toEqual({
        key: 'employment.sanction-notice.v1',
        requests: 1,
        refused: 0,
      });
      expect(s.reasons).toEqual([
        { callerSystem: 'sof-case-system', reason: 'NO_POLICY', n: 1 },
        { callerSystem: 'sof-case-system', reason: 'TOKEN_MISSING', n: 1 },
      ]);
      // distinct citizens per calling system and day, whatever caseworker ids (the rule per calling system)
      expect(s.systemCitizens).toEqual([
        { callerSystem: 'bif-jobcentre-system', day: '2026-03-11', citizens: 1, caseworkers: 1 },
        { callerSystem: 'sof-case-system', day: '2026-03-10', citizens: 2, caseworkers: 1 },
        { callerSystem: 'sof-case-system', day: '2026-03-11', citizens: 2, caseworkers: 2 },
        { callerSystem: 'sof-case-system', day: '2026-03-14', citizens: 1, caseworkers: 1 },
      ]);
      expect(s.caseworkers).toEqual([
        {
          callerSystem: 'bif-jobcentre-system',
          caseworker: 'bif-1',
          requests: 2,
          refused: 0,
          offHours: 0,
          asked: 1,
          askedWithheld: 0,
          citizens: 1,
        },
        { callerSystem: 'sof-case-system', caseworker: '', requests: 1, refused: 1, offHours: 0, asked: 0, askedWithheld: 0, citizens: 0 },
        {
          callerSystem: 'sof-case-system',
          caseworker: 'cw-1',
          requests: 3,
          refused: 0,
          offHours: 0,
          asked: 3,
          askedWithheld: 1,
          citizens: 2,
        },
        {
          callerSystem: 'sof-case-system',
          caseworker: 'cw-2',
          requests: 2,
          refused: 1,
          offHours: 1,
          asked: 1,
          askedWithheld: 0,
          citizens: 2,
        },
      ]);
      expect(s.withheld).toEqual([{ callerSystem: 'sof-case-system', contract: 'employment.citizen-status.v1', field: 'efforts', n: 1 }]);
      expect(s.offHours).toEqual([{ time: SAT_0230, callerSystem: 'sof-case-system', caseworker: 'cw-2' }]);
      // A notice delivered on a consent is a use too, by the system that received it.
      expect(s.uses).toEqual([
        { consent: 'receipt-digest-1', time: WED_1000, callerSystem: 'bif-jobcentre-system', contract: 'social.coordination-summary.v1' },
      ]);
      expect((await store.dpo.consentUses(['receipt-digest-2'], 10)).map(({ recordId: _r, ...rest }) => rest)).toEqual([
        { consent: 'receipt-digest-2', time: WED_1100, callerSystem: 'sof-case-system', contract: 'employment.sanction-notice.v1' },
      ]);
      // The consents recorded: who recorded them, on which evidence, back-dated or given by a representative.
      expect(s.recordings).toEqual([
        {
          consent: 'receipt-digest-1',
          time: WED_0945,
          subject: citizen(5),
          callerSystem: 'bif-jobcentre-system',
          administration: 'BIF',
          caseworker: 'bif-1',
          level: 'recorded-by-caseworker',
          backdated: false,
          representative: false,
        },
        {
          consent: 'receipt-digest-2',
          time: TUE_1400,
          subject: citizen(6),
          callerSystem: 'sof-case-system',
          administration: 'SOF',
          caseworker: 'sof-9',
          level: 'citizen-signed',
          backdated: true,
          representative: true,
        },
      ]);
      const march = { from: '2026-03-01T00:00:00.000Z', to: '2026-04-01T00:00:00.000Z', limit: 10 };
      expect((await store.dpo.consentRecordings({ ...march, backdated: true })).map((r) => r.consent)).toEqual(['receipt-digest-2']);
      expect((await store.dpo.consentRecordings({ ...march, level: 'recorded-by-caseworker' })).map((r) => r.consent)).toEqual([
        'receipt-digest-1',
      ]);
      expect(await store.dpo.consentRecordings({ ...march, from: WED_1000 })).toEqual([]);
      // The permits that relied on them, by who receives the data: the decision's caller, the notice's recipient (queued and delivered).
      expect(s.permits).toEqual([
        {
          consent: 'receipt-digest-2',
          time: WED_1100,
          kind: 'notification',
          recipientSystem: 'sof-case-system',
          recipientAdministration: 'SOF',
          contract: 'employment.sanction-notice.v1',
        },
        {
          consent: 'receipt-digest-1',
          time: WED_1000,
          kind: 'decision',
          recipientSystem: 'bif-jobcentre-system',
          recipientAdministration: 'BIF',
          contract: 'social.coordination-summary.v1',
        },
        {
          consent: 'receipt-digest-2',
          time: WED_1000,
          kind: 'notification',
          recipientSystem: 'sof-case-system',
          recipientAdministration: 'SOF',
          contract: 'employment.sanction-notice.v1',
        },
      ]);
      expect(await store.dpo.consentPermits(['receipt-digest-1'], WED_1100, '2026-04-01T00:00:00.000Z', 10)).toEqual([]);
      expect(s.withdrawals).toEqual([{ consent: 'receipt-digest-1', time: '2026-03-20T10:00:00.000Z', subject: citizen(5) }]);
      // periods are bounded by day
      expect(await store.dpo.trafficByDay({ fromDay: '2026-03-11', toDay: '2026-03-11' })).toEqual([
        { day: '2026-03-11', requests: 5, refused: 2 },
      ]);
      expect(await store.dpo.caseworkers({ fromDay: '2026-04-01', toDay: '2026-04-30' })).toEqual([]);
    });

    it("finds every refusal the overview counts with the search's deny filter (decision deny or a refusal record)", async () => {
      // Issue 22, item 2: "Afgørelse: Afvist" found the deny decisions only, not the refusal records.
      const chain = 'gw-refused';
      const trail = await AuditTrail.open(store, { chain, now: () => new Date('2026-04-15T09:00:00.000Z') });
      const deny = { decision: 'deny' as const, reasons: ['NO_POLICY'] };
      const refusal = (reason: string): Partial<AuditEntry> => ({ kind: 'refusal', decision: null, policy: null, reasons: [reason] });
      for (const e of [
        {},
        { ...deny },
        refusal('TOKEN_REPLAYED'),
        { kind: 'release' as const, status: 200 },
        refusal('BODY_DIGEST_MISMATCH'),
        { ...deny, caseworker: 'cw-2' },
        refusal('REQUEST_INVALID'),
        refusal('TOKEN_MISSING'),
        { kind: 'notification' as const, contract: 'employment.sanction-notice.v1', ...deny },
        // Not refusals of the sender: a recipient skipped for need to know, a delivery cancelled.
        {
          kind: 'notification' as const,
          contract: 'employment.sanction-notice.v1',
          decision: 'deny',
          reasons: ['RECIPIENT_SKIPPED', 'RELATION_MISSING'],
        },
        {
          kind: 'notification' as const,
          contract: 'employment.sanction-notice.v1',
          decision: 'deny',
          reasons: ['CONSENT_WITHDRAWN', 'DELIVERY_CANCELLED'],
        },
        {},
      ] satisfies Partial<AuditEntry>[])
        await trail.append(entry(e));
      await trail.close();
      await catchUpAll(store);
      const day = { fromDay: '2026-04-15', toDay: '2026-04-15' };
      const overview = (await store.dpo.trafficByDay(day)).reduce((n, d) => n + d.refused, 0);
      expect(overview).toBe(7);
      const window = { chain, from: '2026-04-15T00:00:00.000Z', to: '2026-04-16T00:00:00.000Z', limit: 100 };
      const refused = (await store.audit.search({ ...window, decision: 'deny' })).records;
      expect(refused).toHaveLength(overview);
      expect(refused.filter((r) => r.kind === 'refusal')).toHaveLength(4);
      expect((await store.audit.search({ ...window, decision: 'deny', kind: 'refusal' })).records).toHaveLength(4);
      expect((await store.audit.search({ ...window, decision: 'deny', kind: 'decision' })).records).toHaveLength(2);
      const permitted = (await store.audit.search({ ...window, decision: 'permit' })).records;
      expect(permitted.map((r) => r.kind).sort()).toEqual(['decision', 'decision', 'release']);
    });

    it('counts the same figures whatever the size of the catch-up pages', async () => {
      const perRecord = await snapshot(store);
      for (const pageSize of [1000, 3, 2]) {
        await forgetRollups(h);
        expect(await store.dpo.trafficByDay(MARCH)).toEqual([]);
        await catchUpAll(store, pageSize);
        expect(await snapshot(store)).toEqual(perRecord);
      }
    });

    it("counts from each chain's watermark, within a budget, and says how many records are left", async () => {
      const chain = 'gw-b';
      const before = await snapshot(store); // gw-a, counted
      await plant(store, chain);
      const trail = await AuditTrail.open(store, { chain, now: () => new Date(TUE_0900) });
      await trail.append(entry({ caseworker: 'cw-9', subject: citizen(9) }));
      await trail.close();
      expect((await store.dpo.rollupWatermarks()).get(chain) ?? 0).toBe(0);
      expect(await snapshot(store)).toEqual(before); // not counted yet
      const catchUp = new RollupCatchUp(store, { pageSize: 3 });
      const head = (await store.audit.head(chain))!.seq;
      expect(await catchUp.run(4)).toBe(head - 4); // a small budget leaves some behind
      expect((await store.dpo.rollupWatermarks()).get(chain)).toBe(4);
      expect(await catchUp.run(1000)).toBe(0);
      const after = await snapshot(store);
      // Both chains are counted: twice the planted trail plus cw-9's look-up.
      const wed = before.days.find((d) => d.day === '2026-03-11')!;
      expect(after.days.find((d) => d.day === '2026-03-10')).toEqual({ day: '2026-03-10', requests: 2 * 2 + 1, refused: 0 });
      expect(after.days.find((d) => d.day === '2026-03-11')).toEqual({
        day: '2026-03-11',
        requests: 2 * wed.requests,
        refused: 2 * wed.refused,
      });
      expect(after.caseworkers.find((c) => c.caseworker === 'cw-9')).toMatchObject({ requests: 1, citizens: 1 });
      expect(after.reasons).toEqual(before.reasons.map((r) => ({ ...r, n: 2 * r.n })));
      expect(after.offHours).toEqual([...before.offHours, ...before.offHours]);
      expect((await store.dpo.rollupWatermarks()).get(chain)).toBe((await store.audit.head(chain))!.seq);
    });

    it('adds a batch only if the watermark is where the batch says (compare-and-set)', async () => {
      const chain = 'gw-c';
      const trail = await AuditTrail.open(store, { chain, now: () => new Date('2026-05-05T08:00:00.000Z') });
      const [r1, r2] = await trail.appendMany([entry({ caseworker: 'cw-c' }), entry({ caseworker: 'cw-c' })]);
      await trail.close();
      const first = rollupBatch(chain, 0, [r1!]);
      expect(await store.dpo.addToRollups(rollupBatch(chain, 1, [r2!]))).toBe(false); // ahead of the watermark
      expect(await store.dpo.addToRollups(first)).toBe(true);
      expect(await store.dpo.addToRollups(first)).toBe(false); // already counted
      expect((await store.dpo.rollupWatermarks()).get(chain)).toBe(1);
      expect(await store.dpo.trafficByDay({ fromDay: '2026-05-05', toDay: '2026-05-05' })).toEqual([
        { day: '2026-05-05', requests: 1, refused: 0 },
      ]);
    });

    it('counts a batch once when two stores on one database add it at the same time', async () => {
      const chain = 'gw-race';
      const other = await h.open(); // a second gateway instance
      const trail = await AuditTrail.open(store, { chain, now: () => new Date('2026-07-07T08:00:00.000Z') });
      const records = await trail.appendMany(
        Array.from({ length: 6 }, (_, i) => entry({ caseworker: `cw-r${i % 2}`, subject: citizen(i) })),
      );
      await trail.close();
      for (let at = 0; at < records.length; at += 2) {
        const batch = rollupBatch(chain, at, records.slice(at, at + 2));
        const added = await Promise.all([
          store.dpo.addToRollups(batch),
          other.dpo.addToRollups(batch),
          store.dpo.addToRollups(batch),
          other.dpo.addToRollups(batch),
        ]);
        expect(added.filter(Boolean)).toHaveLength(1);
      }
      expect(await store.dpo.trafficByDay({ fromDay: '2026-07-07', toDay: '2026-07-07' })).toEqual([
        { day: '2026-07-07', requests: 6, refused: 0 },
      ]);
    });

    it('never counts a record twice when catch-up passes of two stores race', async () => {
      const chain = 'gw-many';
      const day = { fromDay: '2026-08-04', toDay: '2026-08-04' };
      const other = await h.open();
      const trail = await AuditTrail.open(store, { chain, now: () => new Date('2026-08-04T08:00:00.000Z') });
      const n = 240;
      for (let i = 0; i < n; i += 40) {
        await trail.appendMany(
          Array.from({ length: 40 }, (_, j) =>
            entry({
              caseworker: `cw-m${(i + j) % 5}`,
              subject: citizen(i + j),
              decision: (i + j) % 4 === 0 ? 'deny' : 'permit',
              reasons: (i + j) % 4 === 0 ? ['NO_POLICY'] : [],
            }),
          ),
        );
      }
      await trail.close();
      const counted = { refused: 0 };
      const [a, b] = [countingRefusals(store, counted), countingRefusals(other, counted)];
      // Different page sizes on both stores, so that the passes' batches overlap without lining up.
      const passes = [
        new RollupCatchUp(a, { pageSize: 7 }),
        new RollupCatchUp(b, { pageSize: 5 }),
        new RollupCatchUp(a, { pageSize: 11 }),
        new RollupCatchUp(b, { pageSize: 3 }),
      ];
      const left = await Promise.all(
        passes.map(async (p) => {
          let behind: number;
          do behind = await p.run(1000);
          while (behind > 0);
          return behind;
        }),
      );
      expect(left).toEqual([0, 0, 0, 0]);
      expect(counted.refused).toBeGreaterThan(0); // the passes did collide
      expect(await store.dpo.trafficByDay(day)).toEqual([{ day: day.fromDay, requests: n, refused: n / 4 }]);
      expect(await store.dpo.reasons(day)).toEqual([{ callerSystem: 'sof-case-system', reason: 'NO_POLICY', n: n / 4 }]);
      const caseworkers = await store.dpo.caseworkers(day);
      expect(caseworkers.map((c) => c.requests).reduce((a, b) => a + b, 0)).toBe(n);
      expect((await store.dpo.rollupWatermarks()).get(chain)).toBe(n);
    });

    it('never fails an audit append because of the rollups, and a failed catch-up counts nothing', async () => {
      const chain = 'gw-d';
      await catchUpAll(store);
      await h.exec('ALTER TABLE dpo_daily_traffic RENAME TO dpo_daily_traffic_away');
      try {
        const trail = await AuditTrail.open(store, { chain, now: () => new Date('2026-06-02T08:00:00.000Z') });
        const record = await trail.append(entry({ caseworker: 'cw-d' }));
        await trail.close();
        expect((await store.audit.head(chain))?.id).toBe(record.id);
        await expect(new RollupCatchUp(store).run(1000)).rejects.toThrow();
        expect((await store.dpo.rollupWatermarks()).get(chain) ?? 0).toBe(0);
        expect(await store.dpo.caseworkers({ fromDay: '2026-06-02', toDay: '2026-06-02' })).toEqual([]);
      } finally {
        await h.exec('ALTER TABLE dpo_daily_traffic_away RENAME TO dpo_daily_traffic');
      }
      expect(await new RollupCatchUp(store).run(1000)).toBe(0);
      expect(await store.dpo.trafficByDay({ fromDay: '2026-06-02', toDay: '2026-06-02' })).toEqual([
        { day: '2026-06-02', requests: 1, refused: 0 },
      ]);
    });

    it('finds a record by its id', async () => {
      const trail = await AuditTrail.open(store, { chain: 'gw-e' });
      const record = await trail.append(entry());
      await trail.close();
      expect(await store.dpo.record(record.id)).toEqual(record);
      expect(await store.dpo.record('no-such-id')).toBeUndefined();
    });

    it('keeps sessions by the hash of their token, and prunes idle and old ones with their searches', async () => {
      const now = Date.now();
      const base = { clientId: 'dpo-console', fingerprint: 'f'.repeat(64), csrf: 'c'.repeat(43), lang: 'da' as const };
      await store.dpo.createSession({ ...base, idHash: 'fresh', createdAt: now, lastSeenAt: now });
      await store.dpo.createSession({ ...base, idHash: 'idle', createdAt: now - 60_000, lastSeenAt: now - 20 * 60_000 });
      await store.dpo.createSession({ ...base, idHash: 'old', createdAt: now - 9 * 3_600_000, lastSeenAt: now });
      await store.dpo.saveSearch({ id: 's1', sessionHash: 'fresh', createdAt: now, query: '{"a":1}' });
      await store.dpo.saveSearch({ id: 's2', sessionHash: 'idle', createdAt: now, query: '{}' });
      expect(await store.dpo.savedSearch('s1', 'fresh')).toEqual({ id: 's1', sessionHash: 'fresh', createdAt: now, query: '{"a":1}' });
      expect(await store.dpo.savedSearch('s1', 'idle')).toBeUndefined(); // only for the session that saved it

      await store.dpo.touchSession('fresh', now + 1000, 'en');
      expect(await store.dpo.session('fresh')).toEqual({ ...base, idHash: 'fresh', createdAt: now, lastSeenAt: now + 1000, lang: 'en' });

      expect(await store.dpo.pruneSessions(now - 15 * 60_000, now - 8 * 3_600_000)).toBe(2);
      expect(await store.dpo.session('idle')).toBeUndefined();
      expect(await store.dpo.session('old')).toBeUndefined();
      expect(await store.dpo.savedSearch('s2', 'idle')).toBeUndefined();
      await store.dpo.deleteSession('fresh');
      expect(await store.dpo.session('fresh')).toBeUndefined();
      expect(await store.dpo.savedSearch('s1', 'fresh')).toBeUndefined();
    });
  });
}

describeDpoStore('SQLite', () => sqliteDatabase('dpo-store'));

describeDpoStore('PostgreSQL', () => postgresDatabase('dpo-store'));

describe('Copenhagen time in the rollups', () => {
  it('gives the Copenhagen calendar day and hour across daylight saving time', () => {
    expect(copenhagen('2026-03-28T23:30:00.000Z')).toMatchObject({ day: '2026-03-29', hour: 0, weekday: 0 }); // CET, +1
    expect(copenhagen('2026-03-29T22:30:00.000Z')).toMatchObject({ day: '2026-03-30', hour: 0, weekday: 1 }); // CEST, +2
    expect(copenhagen('2026-10-25T00:30:00.000Z')).toMatchObject({ day: '2026-10-25', hour: 2 });
    expect(copenhagenDayStart('2026-07-01')).toBe('2026-06-30T22:00:00.000Z');
    expect(copenhagenDayStart('2026-01-15')).toBe('2026-01-14T23:00:00.000Z');
  });

  it('calls weekends and weekdays before 07:00 or from 18:00 off hours', () => {
    expect(isOffHours(copenhagen(TUE_0900))).toBe(false);
    expect(isOffHours(copenhagen('2026-03-10T05:59:00.000Z'))).toBe(true); // 06:59
    expect(isOffHours(copenhagen('2026-03-10T06:00:00.000Z'))).toBe(false); // 07:00
    expect(isOffHours(copenhagen('2026-03-10T17:00:00.000Z'))).toBe(true); // 18:00
    expect(isOffHours(copenhagen(SAT_0230))).toBe(true);
  });

  it('recognises the reason codes the consent and notification modules write', () => {
    expect(ROLLUP_REASONS.consentWithdrawal).toBe(CONSENT_AUDIT.withdrawn);
    expect(ROLLUP_REASONS.notificationQueued).toBe(NOTIFICATION_AUDIT.queued);
    expect(ROLLUP_REASONS.deliveryCancelled).toBe(NOTIFICATION_AUDIT.cancelled);
  });
});

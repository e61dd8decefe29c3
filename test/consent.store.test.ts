/**
 * The consent registry's store, one suite for SQLite and PostgreSQL: consents are kept under the
 * citizen's pseudonym with their history, withdrawals are events, and every read sees what any
 * other store handle (gateway instance) wrote before it.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { Pseudonymizer } from '../src/audit/pseudonym.js';
import type { ConsentEventRecord, ConsentRecord } from '../src/consent/types.js';
import type { Store } from '../src/store/types.js';
import { DATABASES, type TestDatabase } from './support/databases.js';

const pseudonyms = new Pseudonymizer({ keys: [{ id: 'k1', secret: randomBytes(32) }], current: 'k1' });
const CITIZEN = '0101909901';
const OTHER = '1505859902';
const actor = { system: 'sof-case-system', administration: 'SOF', caseworker: 'sof-cw-0042' };

function consent(cpr: string, over: Partial<ConsentRecord> = {}): ConsentRecord {
  return {
    id: randomUUID(),
    subject: pseudonyms.pseudonym(cpr),
    scope: {
      recipients: ['SOF'],
      purposes: ['summons-copy'],
      contracts: [],
      categories: ['employment', 'contact'],
      validFrom: '2025-01-01',
      validTo: '2026-12-31',
    },
    evidence: { kind: 'signed-form', reference: 'FORM-2025-0042' },
    recordedBy: actor,
    recordedAt: new Date().toISOString(),
    receipt: 'eyJhbGciOiJFUzI1NiJ9.e30.c2ln',
    receiptDigest: randomBytes(32).toString('base64url'),
    ...over,
  };
}

const given = (c: ConsentRecord): ConsentEventRecord => ({ type: 'given', at: c.recordedAt, actor, auditId: randomUUID(), reason: null });
const withdrawal = (): ConsentEventRecord => ({
  type: 'withdrawn',
  at: new Date().toISOString(),
  actor,
  auditId: randomUUID(),
  reason: 'citizen-request',
});

describe.each(DATABASES)('%s consent store', (name, makeDatabase) => {
  let db: TestDatabase;
  let store: Store;
  beforeAll(async () => {
    db = await makeDatabase(`consent_store_${name.toLowerCase()}`);
    store = await db.open();
  });
  afterAll(async () => {
    await db?.cleanup();
  });

  it('keeps a consent under the pseudonym with its "given" event, and finds it by id and by citizen', async () => {
    const c = consent(CITIZEN);
    const g = given(c);
    await store.consents.add(c, g);
    expect(await store.consents.get(c.id)).toEqual({ consent: c, state: 'active', events: [g] });
    const mine = await store.consents.bySubject(pseudonyms.all(CITIZEN));
    expect(mine.map((s) => s.consent.id)).toContain(c.id);
    expect((await store.consents.bySubject(pseudonyms.all(OTHER))).map((s) => s.consent.id)).not.toContain(c.id);
    expect(await store.consents.get(randomUUID())).toBeUndefined();
    expect(await store.consents.bySubject([])).toEqual([]);
  });

  it("lists a citizen's consents newest first", async () => {
    const cpr = '0202909903';
    const older = consent(cpr, { recordedAt: '2025-01-01T10:00:00.000Z' });
    const newer = consent(cpr, { recordedAt: '2025-06-01T10:00:00.000Z' });
    await store.consents.add(older, given(older));
    await store.consents.add(newer, given(newer));
    expect((await store.consents.bySubject(pseudonyms.all(cpr))).map((s) => s.consent.id)).toEqual([newer.id, older.id]);
  });

  it('records a withdrawal as an event, once', async () => {
    const c = consent(CITIZEN);
    const g = given(c);
    await store.consents.add(c, g);
    const w = withdrawal();
    expect(await store.consents.withdraw(c.id, w)).toBe('withdrawn');
    expect(await store.consents.get(c.id)).toEqual({ consent: c, state: 'withdrawn', events: [g, w] });
    expect(await store.consents.withdraw(c.id, withdrawal())).toBe('already-withdrawn');
    expect((await store.consents.get(c.id))!.events).toHaveLength(2);
    expect(await store.consents.withdraw(randomUUID(), withdrawal())).toBe('not-found');
  });

  it('has no cache: a withdrawal through one store handle is seen by the next read through another', async () => {
    const other = await db.open();
    const c = consent(CITIZEN);
    await store.consents.add(c, given(c));
    expect((await other.consents.bySubject(pseudonyms.all(CITIZEN))).find((s) => s.consent.id === c.id)?.state).toBe('active');
    await store.consents.withdraw(c.id, withdrawal());
    expect((await other.consents.bySubject(pseudonyms.all(CITIZEN))).find((s) => s.consent.id === c.id)?.state).toBe('withdrawn');
  });

  it('refuses a consent whose subject is not a pseudonym, and writes nothing', async () => {
    const c = consent(CITIZEN, { subject: CITIZEN });
    await expect(store.consents.add(c, given(c))).rejects.toBeInstanceOf(TypeError);
    expect(await store.consents.get(c.id)).toBeUndefined();
  });

  it('stores a consent and its first event together: a duplicate id writes neither', async () => {
    const c = consent(CITIZEN);
    await store.consents.add(c, given(c));
    const again = { ...consent(OTHER), id: c.id };
    await expect(store.consents.add(again, given(again))).rejects.toHaveProperty('message', expect.stringMatching(/unique|duplicate/i));
    expect((await store.consents.get(c.id))!.events).toHaveLength(1);
    expect((await store.consents.bySubject(pseudonyms.all(OTHER))).map((s) => s.consent.id)).not.toContain(c.id);
  });
});

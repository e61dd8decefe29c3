/**
 * One store test suite, run against SQLite and PostgreSQL alike: the audit trail (append, group
 * commit, search, tamper detection, failed writes) and the replay cache. PostgreSQL must be
 * reachable (SNITFLADE_TEST_PG, default postgres://postgres@127.0.0.1:5432/postgres): if it
 * is not, the PostgreSQL suite fails; it never skips.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { recordHash } from '../src/audit/chain.js';
import { PersonalDataInAuditError } from '../src/audit/guard.js';
import { Pseudonymizer } from '../src/audit/pseudonym.js';
import { AuditTrail } from '../src/audit/trail.js';
import type { AuditEntry, AuditRecord } from '../src/audit/types.js';
import { verifyChain } from '../src/audit/verify.js';
import { openStore } from '../src/store/index.js';
import { openPostgresStore } from '../src/store/postgres.js';
import { POSTGRES_MIGRATIONS, SQLITE_MIGRATIONS } from '../src/store/migrations.js';
import { ChainConflictError, InvalidCursorError, type AuditQuery, type Store } from '../src/store/types.js';
import { canonicalJson } from '../src/lib/digest.js';
import { auditEntry, CASE_V2_ENTRY, randomDigest } from './support/audit-entries.js';
import { ADMIN_URL, postgresDatabase, sqliteDatabase, type TestDatabase } from './support/databases.js';

/** What the shared suite needs from each database beyond a TestDatabase's. */
interface Harness extends Omit<TestDatabase, 'open'> {
  /** A new store on the same database. `failFast` makes blocked writes fail within ~100-200 ms. */
  open(options?: { failFast?: boolean }): Promise<Store>;
  /** Takes a lock that blocks audit writes, from another connection, until released. */
  blockWrites(): Promise<() => Promise<void>>;
}

// ---------------------------------------------------------------------------------------------
// Test data

const CITIZEN_A = '0101909901';
const CITIZEN_B = '1505859902';
const CITIZEN_C = '3112009903';
const oldKey = { id: 'old', secret: randomBytes(32) };
const newKey = { id: 'new', secret: randomBytes(32) };
const before = new Pseudonymizer({ keys: [oldKey], current: 'old' });
const pseudonyms = new Pseudonymizer({ keys: [newKey, oldKey], current: 'new' });

const entry = (over: Partial<AuditEntry> = {}): AuditEntry =>
  auditEntry({ ...CASE_V2_ENTRY, subject: pseudonyms.pseudonym(CITIZEN_A), tokenDigest: randomDigest(), ...over });

async function fill(trail: AuditTrail, n: number, over: (i: number) => Partial<AuditEntry> = () => ({})): Promise<AuditRecord[]> {
  return Promise.all(Array.from({ length: n }, (_, i) => trail.append(entry(over(i)))));
}

let chainCounter = 0;
function freshChain(prefix: string): string {
  chainCounter += 1;
  return `${prefix}-${chainCounter}-${randomBytes(3).toString('hex')}`;
}

const newestFirst = (a: AuditRecord, b: AuditRecord): number =>
  a.time !== b.time ? (a.time < b.time ? 1 : -1) : a.chain !== b.chain ? (a.chain < b.chain ? 1 : -1) : b.seq - a.seq;

async function searchAll(store: Store, query: Omit<AuditQuery, 'limit' | 'after'>, limit: number): Promise<AuditRecord[]> {
  const out: AuditRecord[] = [];
  let after: string | undefined;
  for (let page = 0; page < 1000; page++) {
    const result = await store.audit.search({ ...query, limit, ...(after !== undefined ? { after } : {}) });
    expect(result.records.length).toBeLessThanOrEqual(limit);
    out.push(...result.records);
    if (result.next === undefined) return out;
    after = result.next;
  }
  throw new Error('search did not end');
}

// ---------------------------------------------------------------------------------------------
// The shared suite

function describeStore(name: string, makeHarness: () => Promise<Harness>): void {
  describe(`${name} store`, () => {
    let h: Harness;
    let store: Store;

    beforeAll(async () => {
      h = await makeHarness();
      store = await h.open();
    });
    afterAll(async () => {
      await store?.close();
      await h?.cleanup();
    });

    describe('audit trail', () => {
      it('appends records, reads them back in seq order and knows the head', async () => {
        const chain = freshChain('basic');
        const trail = await AuditTrail.open(store, { chain });
        expect(trail.head.seq).toBe(0);
        const written = [];
        for (let i = 0; i < 3; i++) written.push(await trail.append(entry({ caseworker: `cw-${i}` })));
        expect(written.map((r) => r.seq)).toEqual([1, 2, 3]);
        expect(written[0]?.prevHash).toBe('0'.repeat(64));
        expect(written[1]?.prevHash).toBe(written[0]?.hash);
        expect(written[2]?.hash).toBe(recordHash(written[1]?.hash ?? '', written[2] as AuditRecord));

        expect(await store.audit.head(chain)).toEqual(written[2]);
        expect(await store.audit.range(chain, 1, 10)).toEqual(written);
        expect(await store.audit.range(chain, 2, 1)).toEqual([written[1]]);
        expect(await store.audit.head('no-such-chain')).toBeUndefined();
        expect(await store.audit.chains()).toContain(chain);

        // A trail opened later continues the chain where it ends.
        const again = await AuditTrail.open(store, { chain });
        expect(again.head).toEqual({ seq: 3, hash: written[2]?.hash });
        expect((await again.append(entry())).seq).toBe(4);
        expect(await verifyChain(store, chain)).toMatchObject({ ok: true, checked: 4 });
      });

      it('refuses an append that does not continue the chain, and writes none of it', async () => {
        const chain = freshChain('conflict');
        const trail = await AuditTrail.open(store, { chain });
        const [first] = await fill(trail, 1);
        const forged = { ...(first as AuditRecord), id: 'forged-1', seq: 3, prevHash: first?.hash ?? '' };
        await expect(store.audit.append([{ ...forged, hash: recordHash(forged.prevHash, forged) }])).rejects.toBeInstanceOf(
          ChainConflictError,
        );
        const fork = { ...(first as AuditRecord), id: 'forged-2', seq: 2, prevHash: 'f'.repeat(64) };
        await expect(store.audit.append([{ ...fork, hash: recordHash(fork.prevHash, fork) }])).rejects.toBeInstanceOf(ChainConflictError);
        expect((await store.audit.head(chain))?.seq).toBe(1);
      });

      it('group commit: many concurrent appends share few commits, all durable, and the chain verifies', async () => {
        const chain = freshChain('group');
        const trail = await AuditTrail.open(store, { chain });
        const commitsBefore = store.stats.commits;
        // Ten waves, each arriving in a later turn of the event loop, some while a commit is in flight.
        const pending: Promise<AuditRecord>[] = [];
        for (let wave = 0; wave < 10; wave++) {
          for (let i = 0; i < 20; i++) pending.push(trail.append(entry({ caseworker: `cw-${wave}-${i}` })));
          await new Promise((resolve) => setImmediate(resolve));
        }
        const records = await Promise.all(pending);
        const commits = store.stats.commits - commitsBefore;

        expect(records.map((r) => r.seq).sort((a, b) => a - b)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
        expect(commits).toBeGreaterThanOrEqual(1);
        expect(commits).toBeLessThanOrEqual(10);
        expect(trail.stats.batches).toBe(commits);
        // Submission order is chain order.
        expect(records.map((r) => r.seq)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));

        // Durable: another connection sees all of them.
        const other = await h.open();
        try {
          expect((await other.audit.range(chain, 1, 1000)).map((r) => r.id)).toEqual(records.map((r) => r.id));
          expect(await verifyChain(other, chain, { pageSize: 37 })).toMatchObject({
            ok: true,
            checked: 200,
            last: { seq: 200, hash: records[199]?.hash },
          });
        } finally {
          await other.close();
        }
      });

      it('a failed write rejects its appends, keeps the head, and the chain continues once the store is back', async () => {
        const fragile = await h.open({ failFast: true });
        try {
          const chain = freshChain('fail');
          const trail = await AuditTrail.open(fragile, { chain });
          await fill(trail, 3);
          const head = trail.head;

          const release = await h.blockWrites();
          let results: PromiseSettledResult<AuditRecord>[];
          try {
            results = await Promise.allSettled(Array.from({ length: 5 }, () => trail.append(entry())));
            expect(results.map((r) => r.status)).toEqual(Array(5).fill('rejected'));
            expect(trail.head).toEqual(head);
            expect((await fragile.audit.head(chain))?.seq).toBe(3);
          } finally {
            await release();
          }

          const after = await fill(trail, 5);
          expect(after.map((r) => r.seq)).toEqual([4, 5, 6, 7, 8]);
          expect(after[0]?.prevHash).toBe(head.hash);
          expect(await verifyChain(fragile, chain)).toMatchObject({ ok: true, checked: 8 });
          expect(trail.stats.failures).toBeGreaterThanOrEqual(1);
        } finally {
          await fragile.close();
        }
      });

      it('holds no CPR number: subjects are pseudonyms, and entries carrying a CPR number are refused', async () => {
        const chain = freshChain('cpr');
        const trail = await AuditTrail.open(store, { chain });
        await fill(trail, 6, (i) => ({ subject: pseudonyms.pseudonym([CITIZEN_A, CITIZEN_B, CITIZEN_C][i % 3] as string) }));
        await expect(trail.append(entry({ subject: CITIZEN_A }))).rejects.toBeInstanceOf(PersonalDataInAuditError);
        await expect(trail.append(entry({ caseRef: `case of 010190-9901` }))).rejects.toMatchObject({ field: 'caseRef' });
        await expect(trail.append(entry({ reasons: ['x', CITIZEN_B] }))).rejects.toMatchObject({ field: 'reasons' });
        expect(trail.head.seq).toBe(6);

        const stored = await h.query<{ record: string }>('SELECT record FROM audit_record');
        expect(stored.length).toBeGreaterThan(0);
        const text = stored.map((r) => r.record).join('\n');
        for (const cpr of [CITIZEN_A, CITIZEN_B, CITIZEN_C]) {
          expect(text).not.toContain(cpr);
          expect(text).not.toContain(`${cpr.slice(0, 6)}-${cpr.slice(6)}`);
        }
        expect(text).not.toMatch(/(?<![0-9A-Za-z])\d{10}(?![0-9A-Za-z])/);
        const subjects = await h.query<{ subject: string | null }>('SELECT DISTINCT subject FROM audit_record');
        for (const { subject } of subjects) if (subject !== null) expect(subject).toMatch(/^[A-Za-z0-9_-]+:[A-Za-z0-9_-]{43}$/);
      });
    });

    describe('verification finds tampering and says where', () => {
      async function chainOf(n: number): Promise<{ chain: string; records: AuditRecord[] }> {
        const chain = freshChain('tamper');
        const trail = await AuditTrail.open(store, { chain });
        const records = await fill(trail, n, (i) => ({ caseworker: `cw-${i}` }));
        expect(await verifyChain(store, chain)).toMatchObject({ ok: true, checked: n });
        return { chain, records };
      }
      const recordAt = (records: AuditRecord[], seq: number): AuditRecord => records[seq - 1] as AuditRecord;

      it('a changed record', async () => {
        const { chain, records } = await chainOf(8);
        const changed = { ...recordAt(records, 4), decision: 'deny' as const };
        await h.exec('UPDATE audit_record SET record = ?, decision = ? WHERE chain = ? AND seq = ?', [
          canonicalJson(changed),
          'deny',
          chain,
          4,
        ]);
        expect((await verifyChain(store, chain)).problem).toMatchObject({ seq: 4, kind: 'hash-mismatch' });
      });

      it('a changed record whose hash was recomputed', async () => {
        const { chain, records } = await chainOf(8);
        const changed = { ...recordAt(records, 3), caseworker: 'someone-else' };
        const rehashed = { ...changed, hash: recordHash(changed.prevHash, changed) };
        await h.exec('UPDATE audit_record SET record = ?, caseworker = ? WHERE chain = ? AND seq = ?', [
          canonicalJson(rehashed),
          'someone-else',
          chain,
          3,
        ]);
        expect((await verifyChain(store, chain)).problem).toMatchObject({ seq: 4, kind: 'prev-mismatch' });
      });

      it('a changed search column', async () => {
        const { chain } = await chainOf(8);
        await h.exec('UPDATE audit_record SET subject = ? WHERE chain = ? AND seq = ?', [pseudonyms.pseudonym(CITIZEN_B), chain, 6]);
        const result = await verifyChain(store, chain);
        expect(result.problem).toMatchObject({ seq: 6, kind: 'column-mismatch' });
        expect(result.problem?.message).toContain('subject');
        expect(result.checked).toBe(5);
      });

      it('a deleted record', async () => {
        const { chain } = await chainOf(8);
        await h.exec('DELETE FROM audit_record WHERE chain = ? AND seq = ?', [chain, 5]);
        expect((await verifyChain(store, chain)).problem).toMatchObject({ seq: 5, kind: 'gap' });
      });

      it('a deleted record with the rest renumbered', async () => {
        const { chain } = await chainOf(8);
        await h.exec('DELETE FROM audit_record WHERE chain = ? AND seq = ?', [chain, 5]);
        await h.exec('UPDATE audit_record SET seq = seq + 1000000 WHERE chain = ? AND seq > ?', [chain, 5]);
        await h.exec('UPDATE audit_record SET seq = seq - 1000001 WHERE chain = ? AND seq > 1000000', [chain]);
        expect((await verifyChain(store, chain)).problem).toMatchObject({ seq: 5, kind: 'gap' });
      });

      it('deleted records at the end, against a trusted head', async () => {
        const { chain, records } = await chainOf(8);
        const trustedHead = { seq: 8, hash: recordAt(records, 8).hash };
        expect(await verifyChain(store, chain, { trustedHead })).toMatchObject({ ok: true });
        await h.exec('DELETE FROM audit_record WHERE chain = ? AND seq >= ?', [chain, 7]);
        expect((await verifyChain(store, chain, { trustedHead })).problem).toMatchObject({ seq: 7, kind: 'truncated' });
      });

      it('an inserted record', async () => {
        const { chain, records } = await chainOf(8);
        // Make room at seq 5 and put a well-formed, correctly hashed record there.
        await h.exec('UPDATE audit_record SET seq = seq + 1000000 WHERE chain = ? AND seq >= ?', [chain, 5]);
        await h.exec('UPDATE audit_record SET seq = seq - 999999 WHERE chain = ? AND seq > 1000000', [chain]);
        const forged = {
          ...recordAt(records, 4),
          id: `forged-${chain}`,
          seq: 5,
          prevHash: recordAt(records, 4).hash,
          decision: 'permit' as const,
        };
        const row = { ...forged, hash: recordHash(forged.prevHash, forged) };
        await h.exec(
          'INSERT INTO audit_record (chain, seq, id, audit_id, time, kind, subject, caller_system, administration, caseworker, contract, purpose, policy_id, policy_version, decision, reasons, record) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
          [
            chain,
            5,
            row.id,
            row.auditId,
            row.time,
            row.kind,
            row.subject,
            row.caller?.system,
            row.caller?.administration,
            row.caseworker,
            row.contract,
            row.purpose,
            row.policy?.id,
            row.policy?.version,
            row.decision,
            JSON.stringify(row.reasons),
            canonicalJson(row),
          ],
        );
        expect((await verifyChain(store, chain)).problem).toMatchObject({ seq: 5, kind: 'inserted' });
      });

      it('two swapped records', async () => {
        const { chain } = await chainOf(8);
        await h.exec('UPDATE audit_record SET seq = ? WHERE chain = ? AND seq = ?', [1000, chain, 3]);
        await h.exec('UPDATE audit_record SET seq = ? WHERE chain = ? AND seq = ?', [3, chain, 4]);
        await h.exec('UPDATE audit_record SET seq = ? WHERE chain = ? AND seq = ?', [4, chain, 1000]);
        const result = await verifyChain(store, chain, { pageSize: 3 }); // the look-ahead crosses a page boundary
        expect(result.problem).toMatchObject({ seq: 3, kind: 'reordered' });
        expect(result.checked).toBe(2);
      });

      it('verifies incrementally from a trusted anchor', async () => {
        const chain = freshChain('anchor');
        const trail = await AuditTrail.open(store, { chain });
        await fill(trail, 5);
        const first = await verifyChain(store, chain);
        expect(first).toMatchObject({ ok: true, checked: 5 });
        await fill(trail, 4);
        expect(await verifyChain(store, chain, { anchor: first.last })).toMatchObject({ ok: true, checked: 4, last: { seq: 9 } });
        expect((await verifyChain(store, chain, { anchor: { seq: 5, hash: 'e'.repeat(64) } })).problem).toMatchObject({
          seq: 6,
          kind: 'prev-mismatch',
        });
      });
    });

    describe('search', () => {
      // 600 records in 2001 over two chains, many sharing a millisecond; the rest of the suite writes "now".
      const seeded: AuditRecord[] = [];
      const window = { from: '2001-01-01T00:00:00.000Z', to: '2002-01-01T00:00:00.000Z' };
      const chains = [freshChain('search-a'), freshChain('search-b')];

      beforeAll(async () => {
        for (const chain of chains) {
          // Each chain writes 7 records per millisecond from the same instant: many ties in time, also across chains.
          let tick = 0;
          const now = (): Date => new Date(Date.UTC(2001, 5, 1) + Math.floor(tick++ / 7));
          const trail = await AuditTrail.open(store, { chain, now, maxBatch: 64 });
          const citizens = [CITIZEN_A, CITIZEN_B, CITIZEN_C];
          seeded.push(
            ...(await fill(trail, 300, (i) => {
              const citizen = citizens[i % 3] as string;
              return {
                kind: i % 5 === 0 ? 'release' : i % 11 === 3 ? 'refusal' : 'decision',
                subject: i % 4 === 0 ? before.pseudonym(citizen) : pseudonyms.pseudonym(citizen),
                caller: i % 2 === 0 ? { system: 'sof-case', administration: 'SOF' } : { system: 'bif-jobcentre', administration: 'BIF' },
                caseworker: `cw-${i % 6}`,
                contract: i % 3 === 1 ? 'social.case-summary.v1' : 'employment.citizen-status.v1',
                purpose: i % 4 === 2 ? 'sanction-notice' : 'coordination-of-plans',
                policy: i % 7 === 0 ? { id: 'policy-seven', version: 1 } : { id: 'policy-other', version: 3 },
                decision: i % 11 === 3 && i % 5 !== 0 ? null : i % 9 === 0 ? 'deny' : 'permit',
                reasons: i % 9 === 0 ? ['CONSENT_MISSING', 'ROLE_NOT_ALLOWED'] : [],
                auditId: `search-audit-${Math.floor(i / 2)}`,
              };
            })),
          );
        }
      });

      const expected = (pred: (r: AuditRecord) => boolean): string[] =>
        seeded
          .filter(pred)
          .sort(newestFirst)
          .map((r) => r.id);
      const ids = (records: AuditRecord[]): string[] => records.map((r) => r.id);

      it('returns newest first by (time, chain, seq) and pages with a cursor without repeats or gaps', async () => {
        const all = await searchAll(store, window, 7);
        expect(ids(all)).toEqual(expected(() => true));
        expect(new Set(ids(all)).size).toBe(600);
        const big = await searchAll(store, window, 500);
        expect(ids(big)).toEqual(ids(all));
      });

      it('caps a page at 500 records', async () => {
        const page = await store.audit.search({ ...window, limit: 100_000 });
        expect(page.records).toHaveLength(500);
        expect(page.next).toBeDefined();
      });

      it.each<[string, Omit<AuditQuery, 'limit'>, (r: AuditRecord) => boolean]>([
        ['subject (current key)', { subject: pseudonyms.pseudonym(CITIZEN_A) }, (r) => r.subject === pseudonyms.pseudonym(CITIZEN_A)],
        ['subject under every key', { subject: pseudonyms.all(CITIZEN_A) }, (r) => pseudonyms.all(CITIZEN_A).includes(r.subject ?? '')],
        ['caller system', { callerSystem: 'bif-jobcentre' }, (r) => r.caller?.system === 'bif-jobcentre'],
        ['administration', { administration: 'SOF' }, (r) => r.caller?.administration === 'SOF'],
        ['caseworker', { caseworker: 'cw-4' }, (r) => r.caseworker === 'cw-4'],
        ['contract', { contract: 'social.case-summary.v1' }, (r) => r.contract === 'social.case-summary.v1'],
        ['purpose', { purpose: 'sanction-notice' }, (r) => r.purpose === 'sanction-notice'],
        ['policy', { policy: 'policy-seven' }, (r) => r.policy?.id === 'policy-seven'],
        ['decision', { decision: 'deny' }, (r) => r.decision === 'deny' || r.kind === 'refusal'],
        ['decision permit', { decision: 'permit' }, (r) => r.decision === 'permit'],
        ['reason', { reason: 'ROLE_NOT_ALLOWED' }, (r) => r.reasons.includes('ROLE_NOT_ALLOWED')],
        ['audit id', { auditId: 'search-audit-17' }, (r) => r.auditId === 'search-audit-17'],
        ['kind', { kind: 'release' }, (r) => r.kind === 'release'],
        ['chain', { chain: chains[1] as string }, (r) => r.chain === chains[1]],
        [
          'several filters',
          { subject: pseudonyms.all(CITIZEN_B), purpose: 'coordination-of-plans', callerSystem: 'sof-case' },
          (r) =>
            pseudonyms.all(CITIZEN_B).includes(r.subject ?? '') && r.purpose === 'coordination-of-plans' && r.caller?.system === 'sof-case',
        ],
      ])('filters by %s', async (_name, query, pred) => {
        const want = expected(pred);
        expect(want.length).toBeGreaterThan(0);
        expect(want.length).toBeLessThan(600);
        expect(ids(await searchAll(store, { ...window, ...query }, 11))).toEqual(want);
      });

      it('filters by time: from inclusive, to exclusive', async () => {
        const sorted = [...seeded].sort(newestFirst).reverse();
        const from = (sorted[100] as AuditRecord).time;
        const to = (sorted[200] as AuditRecord).time;
        expect(ids(await searchAll(store, { from, to }, 50))).toEqual(expected((r) => r.time >= from && r.time < to));
      });

      it('finds nothing for an empty list of subjects or an unknown subject', async () => {
        expect((await store.audit.search({ ...window, subject: [], limit: 10 })).records).toEqual([]);
        expect((await store.audit.search({ ...window, subject: pseudonyms.pseudonym('0202029904'), limit: 10 })).records).toEqual([]);
      });

      it('refuses a cursor it did not hand out, and a time that is not a time', async () => {
        await expect(store.audit.search({ limit: 10, after: 'not-a-cursor' })).rejects.toBeInstanceOf(InvalidCursorError);
        const forged = Buffer.from(JSON.stringify([1, "2001-01-01T00:00:00.000Z' OR 1=1", 'x', 1])).toString('base64url');
        await expect(store.audit.search({ limit: 10, after: forged })).rejects.toBeInstanceOf(InvalidCursorError);
        await expect(store.audit.search({ limit: 10, from: 'yesterday' })).rejects.toBeInstanceOf(TypeError);
      });
    });

    describe('replay cache', () => {
      it('claims a key once: true, then false', async () => {
        const key = `client:${randomBytes(8).toString('hex')}`;
        const expiresAt = new Date(Date.now() + 60_000);
        expect(await store.replay.claim(key, expiresAt)).toBe(true);
        expect(await store.replay.claim(key, expiresAt)).toBe(false);
        const other = await h.open();
        try {
          expect(await other.replay.claim(key, expiresAt)).toBe(false); // durable and shared
        } finally {
          await other.close();
        }
      });

      it('group commit: concurrent claims share commits, and of one key claimed at once exactly one wins', async () => {
        const commitsBefore = store.stats.commits;
        const expiresAt = new Date(Date.now() + 60_000);
        const keys = Array.from({ length: 100 }, () => `client:${randomBytes(8).toString('hex')}`);
        const twice = `client:${randomBytes(8).toString('hex')}`;
        const results = await Promise.all([...keys, twice, twice, twice].map((k) => store.replay.claim(k, expiresAt)));
        expect(results.slice(0, 100).every((r) => r)).toBe(true);
        expect(results.slice(100).filter((r) => r)).toHaveLength(1);
        expect(store.stats.commits - commitsBefore).toBeLessThan(10);
      });

      it('claims keys in the commit of an append: a required key taken before refuses the whole append', async () => {
        const chain = freshChain('claims');
        const trail = await AuditTrail.open(store, { chain });
        const expiresAt = Date.now() + 60_000;
        const key = `client:${randomBytes(8).toString('hex')}`;
        const first = await trail.append(entry(), { claim: { key, expiresAt, required: true } });
        expect(first.seq).toBe(1);
        expect(await store.replay.claim(key, new Date(expiresAt))).toBe(false); // durable with the record

        // Taken: nothing of the append is written, neither the records nor its other claims.
        const other = `client:${randomBytes(8).toString('hex')}`;
        const head = await store.audit.head(chain);
        const next = { ...head!, id: 'next', seq: 2, prevHash: head!.hash };
        const placed = { ...next, hash: recordHash(next.prevHash, next) };
        await expect(
          store.audit.append(
            [placed],
            [
              { key: other, expiresAt, required: true },
              { key, expiresAt, required: true },
            ],
          ),
        ).rejects.toMatchObject({ name: 'ReplayedClaimError', keys: [key] });
        expect((await store.audit.head(chain))?.seq).toBe(1);
        expect(await store.replay.claim(other, new Date(expiresAt))).toBe(true); // rolled back with the rest

        // Not required (a refusal): the records are written whether or not the key was free.
        await store.audit.append([placed], [{ key, expiresAt, required: false }]);
        expect((await store.audit.head(chain))?.seq).toBe(2);

        // One key required twice in one commit is fresh once at most.
        const twice = `client:${randomBytes(8).toString('hex')}`;
        const third = { ...placed, id: 'third', seq: 3, prevHash: placed.hash };
        await expect(
          store.audit.append(
            [{ ...third, hash: recordHash(third.prevHash, third) }],
            [
              { key: twice, expiresAt, required: true },
              { key: twice, expiresAt, required: true },
            ],
          ),
        ).rejects.toMatchObject({ name: 'ReplayedClaimError', keys: [twice] });
      });

      it('group commit with claims: a replayed submission is refused alone, the others share the commit and the chain verifies', async () => {
        const chain = freshChain('claims-group');
        const trail = await AuditTrail.open(store, { chain });
        const expiresAt = Date.now() + 60_000;
        const used = `client:${randomBytes(8).toString('hex')}`;
        expect(await store.replay.claim(used, new Date(expiresAt))).toBe(true); // used before: another instance, or before a restart
        const keys = Array.from({ length: 20 }, () => `client:${randomBytes(8).toString('hex')}`);
        const outcomes = await Promise.allSettled([
          ...keys.slice(0, 10).map((key) => trail.append(entry(), { claim: { key, expiresAt, required: true } })),
          trail.append(entry({ caseworker: 'cw-replayed' }), { claim: { key: used, expiresAt, required: true } }),
          trail.append(entry({ caseworker: 'cw-refusal', kind: 'refusal' }), { claim: { key: used, expiresAt, required: false } }),
          ...keys.slice(10).map((key) => trail.append(entry(), { claim: { key, expiresAt, required: true } })),
        ]);
        expect(outcomes.map((o) => o.status)).toEqual([
          ...Array(10).fill('fulfilled'),
          'rejected',
          'fulfilled',
          ...Array(10).fill('fulfilled'),
        ]);
        expect((outcomes[10] as PromiseRejectedResult).reason).toMatchObject({ name: 'ReplayedClaimError', keys: [used] });
        const written = outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
        expect(written.map((r) => r.seq).sort((x, y) => x - y)).toEqual(Array.from({ length: 21 }, (_, i) => i + 1));
        expect(written.some((r) => r.caseworker === 'cw-replayed')).toBe(false);
        expect(await verifyChain(store, chain)).toMatchObject({ ok: true, checked: 21 });
        for (const key of keys) expect(await store.replay.claim(key, new Date(expiresAt))).toBe(false);
      });

      it('forgets expired keys on prune, and only those', async () => {
        const stale = `client:${randomBytes(8).toString('hex')}`;
        const live = `client:${randomBytes(8).toString('hex')}`;
        expect(await store.replay.claim(stale, new Date(Date.now() - 1000))).toBe(true);
        expect(await store.replay.claim(live, new Date(Date.now() + 60_000))).toBe(true);
        expect(await store.replay.claim(stale, new Date(Date.now() + 60_000))).toBe(false); // still remembered until pruned
        expect(await store.replay.prune(new Date())).toBeGreaterThanOrEqual(1);
        expect(await store.replay.claim(stale, new Date(Date.now() + 60_000))).toBe(true);
        expect(await store.replay.claim(live, new Date(Date.now() + 60_000))).toBe(false);
      });
    });

    it('is writable, with durable commits on its own connection', async () => {
      await expect(store.checkWritable()).resolves.toEqual(
        store.kind === 'sqlite'
          ? { setting: 'synchronous', value: 'FULL', durable: true }
          : { setting: 'synchronous_commit', value: 'on', durable: true },
      );
    });
  });
}

// ---------------------------------------------------------------------------------------------
// The databases

/** A test database as the shared suite uses it: failFast in each kind's own terms, and a writer's lock. */
function storeHarness(db: TestDatabase): Harness {
  const config = db.storeConfig;
  return {
    ...db,
    open: (options = {}) =>
      db.open(
        config.kind === 'sqlite'
          ? { busyTimeoutMs: options.failFast === true ? 100 : 2000 }
          : options.failFast === true
            ? { lockTimeoutMs: 200 }
            : {},
      ),
    async blockWrites() {
      if (config.kind === 'sqlite') {
        const locker = new Database(config.file);
        locker.exec('BEGIN EXCLUSIVE');
        return async () => {
          locker.exec('ROLLBACK');
          locker.close();
        };
      }
      const locker = new pg.Client({ connectionString: config.url });
      await locker.connect();
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE audit_record IN EXCLUSIVE MODE'); // readers pass, writers wait
      return async () => {
        await locker.query('COMMIT');
        await locker.end();
      };
    },
  };
}

describeStore('SQLite', async () => storeHarness(await sqliteDatabase('store')));
describeStore('PostgreSQL', async () => storeHarness(await postgresDatabase('store')));

describe('SQLite store, start-up', () => {
  it('keeps its file in WAL mode with a versioned schema, and opens again without migrating twice', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'snitflade-open-'));
    const file = path.join(dir, 'nested', 'audit.db');
    try {
      const [a, b] = await Promise.all([openStore({ kind: 'sqlite', file }), openStore({ kind: 'sqlite', file })]);
      await a.close();
      await b.close();
      await (await openStore({ kind: 'sqlite', file })).close();
      const raw = new Database(file, { readonly: true });
      try {
        expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
        expect(raw.prepare('SELECT version FROM schema_migrations ORDER BY version').all()).toEqual(
          SQLITE_MIGRATIONS.map((m) => ({ version: m.version })),
        );
      } finally {
        raw.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('PostgreSQL store, start-up and connection failures', () => {
  let h: Harness;
  let admin: pg.Client;
  const url = (): string => (h.storeConfig as { url: string }).url;
  beforeAll(async () => {
    h = storeHarness(await postgresDatabase('store-connections'));
    admin = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 5000 });
    await admin.connect();
  });
  afterAll(async () => {
    await admin?.end();
    await h?.cleanup();
  });

  const backends = async (): Promise<{ pid: number; wait_event_type: string | null }[]> =>
    (
      await admin.query<{ pid: number; wait_event_type: string | null }>(
        "SELECT pid, wait_event_type FROM pg_stat_activity WHERE datname = $1 AND application_name = 'snitflade'",
        [new URL(url()).pathname.slice(1)],
      )
    ).rows;

  it('creates its schema once when several instances start at the same moment', async () => {
    const fresh = await postgresDatabase('store-migrations');
    try {
      const stores = await Promise.all(Array.from({ length: 4 }, () => fresh.open()));
      expect(await fresh.query('SELECT version FROM schema_migrations ORDER BY version')).toEqual(
        POSTGRES_MIGRATIONS.map((m) => ({ version: m.version })),
      );
      await Promise.all(stores.map((s) => s.checkWritable()));
    } finally {
      await fresh.cleanup();
    }
  });

  it('rejects opening a database that cannot be reached, without crashing', async () => {
    await expect(openPostgresStore({ url: 'postgres://postgres@127.0.0.1:1/nothing', connectTimeoutMs: 1000 })).rejects.toThrow();
  });

  it('rejects the write in progress when its connection is killed, then recovers by itself', async () => {
    const errors: Error[] = [];
    const store = await openPostgresStore({ url: url(), poolSize: 2, onError: (e) => errors.push(e) });
    try {
      const chain = freshChain('kill');
      const trail = await AuditTrail.open(store, { chain });
      await fill(trail, 3);
      const head = trail.head;

      // A write stuck behind a lock; its backend is terminated while it waits.
      const release = await h.blockWrites();
      let pending: Promise<AuditRecord> | undefined;
      try {
        pending = trail.append(entry());
        const settled = pending.then(
          () => 'resolved',
          () => 'rejected',
        );
        let waiting: number | undefined;
        for (let i = 0; i < 100 && waiting === undefined; i++) {
          waiting = (await backends()).find((b) => b.wait_event_type === 'Lock')?.pid;
          if (waiting === undefined) await new Promise((resolve) => setTimeout(resolve, 20));
        }
        expect(waiting).toBeDefined();
        await admin.query('SELECT pg_terminate_backend($1)', [waiting]);
        expect(await settled).toBe('rejected');
        expect(trail.head).toEqual(head);
      } finally {
        await release();
      }

      // Every other connection of the store dies too (idle ones): the pool must replace them.
      for (const b of await backends()) await admin.query('SELECT pg_terminate_backend($1)', [b.pid]);
      await new Promise((resolve) => setTimeout(resolve, 100));

      let record: AuditRecord | undefined;
      for (let attempt = 0; attempt < 5 && record === undefined; attempt++) {
        record = await trail.append(entry()).catch(() => undefined);
      }
      expect(record?.seq).toBe(4);
      expect(record?.prevHash).toBe(head.hash);
      await fill(trail, 3);
      expect(await verifyChain(store, chain)).toMatchObject({ ok: true, checked: 7 });
      expect(await store.replay.claim(`k-${chain}`, new Date(Date.now() + 1000))).toBe(true);
    } finally {
      await store.close();
    }
  });
});

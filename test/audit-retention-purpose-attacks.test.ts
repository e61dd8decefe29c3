/**
 * Review of retention per purpose, with an attacker's eyes: someone with write access to the
 * database (not to the checkpoint signing key), or to the policies folder, tries to make a record
 * disappear through the erasure mechanism without verification noticing, or to make the gateway
 * erase early. Each test states what should hold; those that fail show a problem.
 * Both stores; PostgreSQL must be reachable (SNITFLADE_TEST_PG).
 */
import { execFile } from 'node:child_process';
import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { GENESIS, recordHash } from '../src/audit/chain.js';
import { checkpointSigner, CheckpointVerifier, type CheckpointSigner } from '../src/audit/checkpoint.js';
import { Checkpointer } from '../src/audit/checkpointer.js';
import { erasedRecord, erasureDigest, erasureListDigest, erasurePayload, purposeCutoff } from '../src/audit/erasure.js';
import { exportTrail } from '../src/audit/export.js';
import { Pseudonymizer } from '../src/audit/pseudonym.js';
import { erasureReasons, parseErasureReasons } from '../src/audit/reasons.js';
import { applyPurposeRetention, type PurposeRetentionDeps } from '../src/audit/retention.js';
import { RollupCatchUp } from '../src/audit/rollups.js';
import { searchAuditTrail, verificationStatuses } from '../src/audit/search.js';
import { AuditTrail } from '../src/audit/trail.js';
import type { AuditEntry, AuditRecord } from '../src/audit/types.js';
import { verifySealedChain, verifyTrail } from '../src/audit/verify-trail.js';
import { canonicalJson } from '../src/lib/digest.js';
import { AUDIT_COLUMNS, toRow } from '../src/store/rows.js';
import type { Store } from '../src/store/types.js';
import { auditEntry, randomDigest } from './support/audit-entries.js';
import { databaseText, postgresDatabase, sqliteDatabase, type TestDatabase } from './support/databases.js';

const run = promisify(execFile);

const CITIZEN = '0101909901';
const pseudonyms = new Pseudonymizer({ keys: [{ id: 'ka', secret: randomBytes(32) }], current: 'ka' });

const SHORT = 'summons-copy'; // P2Y
const LONG = 'rehabilitation-team-assessment'; // P10Y
const RULES = {
  purposes: new Map([
    [SHORT, { retention: 'P2Y' }],
    [LONG, { retention: 'P10Y' }],
  ]),
  digest: 'd'.repeat(64),
};
/** Written on 10 January 2023; the run on 1 June 2025: past two years, not ten. */
const WRITTEN = Date.parse('2023-01-10T09:00:00.000Z');
const RUN = new Date('2025-06-01T08:00:00.000Z');

const release = (purpose: string | null, caseworker: string, over: Partial<AuditEntry> = {}): AuditEntry =>
  auditEntry({
    kind: 'release',
    purpose,
    caseworker,
    caseRef: 'SOF-2023-0001',
    subject: pseudonyms.pseudonym(CITIZEN),
    tokenDigest: randomDigest(),
    responseDigest: randomDigest(),
    status: 200,
    latencyMs: 5,
    ...over,
  });

/** The reasons and shape of an AUDIT_ERASURE admin record, as the retention job writes it. */
const adminEntry = (auditId: string, reasons: string[]): AuditEntry =>
  auditEntry({
    kind: 'admin',
    auditId,
    requestId: auditId,
    caller: null,
    caseworker: null,
    caseRef: null,
    contract: null,
    purpose: null,
    subject: null,
    policy: null,
    legalBasis: null,
    decision: null,
    fields: { requested: [], released: [], withheld: [], dropped: [] },
    reasons,
  });

const pem = (): string => generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();

let chainCounter = 0;
const freshChain = (prefix: string): string => `${prefix}-${++chainCounter}-${randomBytes(2).toString('hex')}`;

interface Harness extends TestDatabase {
  /** Every text of the database the erasure should have cleaned: the records, the erasure entries and the DPO rollups. */
  dump(): Promise<string>;
}

function describeStore(makeHarness: () => Promise<Harness>, label: string): void {
  describe(`${label}: retention per purpose under attack`, () => {
    let h: Harness;
    let store: Store;
    let signer: CheckpointSigner;
    let verifier: CheckpointVerifier;
    const dirs: string[] = [];

    beforeAll(async () => {
      h = await makeHarness();
      store = await h.open();
      signer = await checkpointSigner(pem());
      verifier = new CheckpointVerifier([signer.publicKey]);
    });
    afterAll(async () => {
      await store?.close();
      await h?.cleanup();
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    });
    const tmp = (): string => {
      const d = mkdtempSync(path.join(tmpdir(), 'snitflade-erasure-attack-'));
      dirs.push(d);
      return d;
    };

    /** As in audit-retention-purpose.test.ts: 16 releases alternating SHORT/LONG (seq 1 SHORT, seq 2 LONG, ...), sealed every 6, exported; all sealed. */
    async function writtenTrail(over: () => Partial<AuditEntry> = () => ({})) {
      const chain = freshChain('a');
      const clock = { now: new Date(WRITTEN) };
      const trail = await AuditTrail.open(store, { chain, now: () => clock.now });
      const checkpointer = new Checkpointer({ store, trail, signer, verifier, gatewayId: 'g', now: () => clock.now });
      const records: AuditRecord[] = [];
      const write = async (e: AuditEntry): Promise<void> => {
        clock.now = new Date(WRITTEN + records.length * 60_000);
        records.push(await trail.append(e));
        if (records.length % 6 === 0) await checkpointer.checkpoint();
      };
      for (let i = 0; i < 16; i++) await write(release(i % 2 === 0 ? SHORT : LONG, `cw-${chain}-${i}.`, over()));
      await checkpointer.checkpoint();
      await exportTrail({ store, verifier, gatewayId: 'g' }, { out: path.join(tmp(), 'first'), chains: [chain] });
      clock.now = RUN;
      const deps: PurposeRetentionDeps = {
        store,
        verifier,
        append: (e) => trail.append(e),
        policies: () => RULES,
        seal: () => checkpointer.checkpoint(),
        signer,
      };
      return { chain, clock, trail, checkpointer, records, deps };
    }

    /** INSERTs a record row by hand, hashed and linked as the trail would: what a database writer can do without any key. */
    async function insertRecord(chain: string, seq: number, prevHash: string, time: string, entry: AuditEntry): Promise<AuditRecord> {
      const unhashed = { ...entry, id: randomUUID(), chain, seq, time, prevHash };
      const record = { ...unhashed, hash: recordHash(prevHash, unhashed) } as AuditRecord;
      const row = toRow(record) as unknown as Record<string, unknown>;
      await h.exec(
        `INSERT INTO audit_record (${AUDIT_COLUMNS.join(', ')}) VALUES (${AUDIT_COLUMNS.map(() => '?').join(', ')})`,
        AUDIT_COLUMNS.map((c) => row[c]),
      );
      return record;
    }

    /** Stores `record` as the row at its seq, and its erasure entry: a hand-made erasure. */
    async function eraseByHand(left: AuditRecord): Promise<void> {
      const row = toRow(left) as unknown as Record<string, unknown>;
      const set = AUDIT_COLUMNS.filter((c) => c !== 'chain' && c !== 'seq');
      await h.exec(`UPDATE audit_record SET ${set.map((c) => `${c} = ?`).join(', ')} WHERE chain = ? AND seq = ?`, [
        ...set.map((c) => row[c]),
        left.chain,
        left.seq,
      ]);
      await h.exec('INSERT INTO audit_erasure (chain, seq, audit_id, digest) VALUES (?, ?, ?, ?)', [
        left.chain,
        left.seq,
        left.erasedBy,
        erasureDigest(left),
      ]);
    }

    /** The reasons of an erasure record documenting exactly `left` (one record). */
    const documenting = (left: AuditRecord, retention: string, at: Date): string[] =>
      erasureReasons({
        chain: left.chain,
        erased: 1,
        digest: erasureListDigest([{ seq: left.seq, digest: erasureDigest(left) }]),
        exportId: 'x',
        cutoffs: new Map([[left.purpose!, { retention, before: purposeCutoff(retention, at) }]]),
      });

    const stored = async (chain: string, seq: number): Promise<AuditRecord> => (await store.audit.range(chain, seq, 1))[0]!;

    it('an erasure documented by an admin record no checkpoint seals, in a chain of its own, is not accepted', async () => {
      // The attacker hides seq 2 (LONG purpose: ten years, only two and a half gone) with no key at all.
      const { chain, records } = await writtenTrail();
      const target = records[1]!;
      expect(target.purpose).toBe(LONG);
      const auditId = randomUUID();
      const left = erasedRecord(target, auditId);
      // A made-up admin record, seq 1 of a chain nobody runs, dated in the future: its stated ten
      // years then reach back past the target, so "the cutoff its retention allows" holds.
      const future = new Date('2099-01-01T00:00:00.000Z');
      const forger = freshChain('zz');
      await insertRecord(forger, 1, GENESIS, future.toISOString(), adminEntry(auditId, documenting(left, 'P10Y', future)));
      await eraseByHand(left);

      const report = await verifyTrail({ store, verifier }, { chains: [chain, forger] });
      const [status] = await verificationStatuses({ store, verifier }, [await stored(chain, 2)]);
      const found = await searchAuditTrail({ store, pseudonyms, verifier }, { cpr: CITIZEN, chain, limit: 50 });
      expect(found.results.map((r) => r.record.seq)).not.toContain(2); // the citizen's exchange is gone from search and report
      expect({
        ok: report.ok,
        problem: report.chains.find((c) => c.chain === chain)?.problem?.kind,
        status: status?.status,
      }).toEqual({ ok: false, problem: 'erasure-unproven', status: 'failed' });
    });

    it('nor does such a forged erasure hide a record of a kind the retention never erases, relabelled as an exchange', async () => {
      // The DPO's own search of the trail (kind dpo-access, no purpose), sealed like every record.
      const chain = freshChain('d');
      const trail = await AuditTrail.open(store, { chain, now: () => new Date(WRITTEN) });
      const checkpointer = new Checkpointer({ store, trail, signer, verifier, gatewayId: 'g', now: () => new Date(WRITTEN) });
      await trail.append(release(LONG, 'cw-before'));
      const access = await trail.append(
        auditEntry({
          kind: 'dpo-access',
          purpose: null,
          caseworker: 'dpo-1',
          subject: pseudonyms.pseudonym(CITIZEN),
          reasons: ['AUDIT_SEARCH'],
        }),
      );
      await trail.append(release(LONG, 'cw-after'));
      await checkpointer.checkpoint();
      // What is left claims to be a release of a purpose: nothing binds kind or purpose to the hash.
      const auditId = randomUUID();
      const left = erasedRecord({ ...access, kind: 'release', purpose: SHORT }, auditId);
      const forger = freshChain('zz');
      const future = new Date('2099-01-01T00:00:00.000Z');
      await insertRecord(forger, 1, GENESIS, future.toISOString(), adminEntry(auditId, documenting(left, 'P2Y', future)));
      await eraseByHand(left);
      const report = await verifyTrail({ store, verifier }, { chains: [chain, forger] });
      expect(report.chains.find((c) => c.chain === chain)?.problem).toMatchObject({ seq: access.seq, kind: 'erasure-unproven' });
    });

    it('an erasure documented by an unsealed admin record at the end of the chain, with a made-up one-day retention, is not accepted', async () => {
      const { chain, records } = await writtenTrail();
      const target = records[1]!;
      const auditId = randomUUID();
      const left = erasedRecord(target, auditId);
      // Appended after the last checkpoint (e.g. on a stopped instance's chain): only the hash chain covers it.
      const head = records[records.length - 1]!;
      await insertRecord(chain, head.seq + 1, head.hash, RUN.toISOString(), adminEntry(auditId, documenting(left, 'P1D', RUN)));
      await eraseByHand(left);

      const result = await verifySealedChain({ store, verifier }, chain);
      expect(result.problem).toMatchObject({ seq: 2, kind: 'erasure-unproven' });
    });

    it('a forged erasure record written while the instance was down is not sealed on restart, and no verifier accepts the erasure', async () => {
      const { chain, records, trail, checkpointer } = await writtenTrail();
      await checkpointer.stop(); // shut down: everything sealed
      await trail.close();
      const target = records[1]!;
      const auditId = randomUUID();
      const left = erasedRecord(target, auditId);
      const head = records[records.length - 1]!;
      await insertRecord(chain, head.seq + 1, head.hash, RUN.toISOString(), adminEntry(auditId, documenting(left, 'P1D', RUN)));
      await eraseByHand(left);

      // The instance starts again, continues its chain, and seals it.
      const restarted = await AuditTrail.open(store, { chain, now: () => RUN });
      const sealer = new Checkpointer({ store, trail: restarted, signer, verifier, gatewayId: 'g', now: () => RUN });
      await restarted.append(release(null, 'cw-after-restart', { kind: 'refusal', reasons: ['TOKEN_REPLAYED'] }));
      const sealed = await sealer.checkpoint().then(
        () => 'signed',
        () => 'refused',
      );
      await restarted.close();

      const online = await verifySealedChain({ store, verifier }, chain);
      let offline = 'not exported';
      const out = path.join(tmp(), 'restart');
      const exported = await exportTrail({ store, verifier, gatewayId: 'g' }, { out, chains: [chain] }).then(
        () => true,
        () => false,
      );
      if (exported)
        offline = await run(process.execPath, [path.join(out, 'verify-export.mjs'), out, '--kid', signer.publicKey.kid]).then(
          (r) => r.stdout,
          (e: { stdout: string }) => e.stdout,
        );
      // Today: the forged record is sealed by the genuine key, online verification is ok and the
      // standalone verifier prints OK for an export without seq 2's content.
      expect({ sealed, online: online.ok, offlineOk: offline.startsWith('gateway') && offline.includes(`OK   chain ${chain}`) }).toEqual({
        sealed: expect.any(String),
        online: false,
        offlineOk: false,
      });
    });

    it('the standalone verifier refuses a cutoff the documented retention does not allow, as online verification does', async () => {
      // A sealed erasure record stating ten years but the cutoff of its own day (what online
      // verification calls "a cutoff its retention period did not allow").
      const { chain, records, trail, checkpointer } = await writtenTrail();
      const target = records[1]!;
      const auditId = randomUUID();
      const left = erasedRecord(target, auditId);
      const admin = await trail.append(
        adminEntry(
          auditId,
          erasureReasons({
            chain,
            erased: 1,
            digest: erasureListDigest([{ seq: 2, digest: erasureDigest(left) }]),
            exportId: 'x',
            cutoffs: new Map([[LONG, { retention: 'P10Y', before: RUN.toISOString() }]]),
          }),
        ),
      );
      await checkpointer.checkpoint();
      // Export while the record is whole (the exporter refuses the erasure online), then put what
      // the database now holds into the export: the erased record and the erasure's documentation.
      const out = path.join(tmp(), 'cutoff');
      const { manifest } = await exportTrail({ store, verifier, gatewayId: 'g' }, { out, chains: [chain] });
      await eraseByHand(left);
      expect((await verifySealedChain({ store, verifier }, chain)).problem).toMatchObject({ seq: 2, kind: 'erasure-unproven' });
      const [status] = await verificationStatuses({ store, verifier }, [admin], { proofs: true });
      expect(status?.status).toBe('verified');
      const entry = manifest.chains[0]!;
      const file = path.join(out, entry.segments[0]!.file);
      const lines = readFileSync(file, 'utf8').split('\n');
      lines[1] = canonicalJson(left);
      writeFileSync(file, lines.join('\n'));
      const erasures = `${entry.dir}/erasures.jsonl`;
      writeFileSync(
        path.join(out, erasures),
        `${JSON.stringify({
          admin: JSON.parse(canonicalJson(admin)) as unknown,
          proof: status!.proof,
          // Signed with the genuine key, so that the cutoff is all that is wrong.
          signature: await signer.signErasure(erasurePayload(parseErasureReasons(admin.reasons)!, admin)),
          erased: [[2, erasureDigest(left)]],
        })}\n`,
      );
      writeFileSync(path.join(out, 'manifest.json'), JSON.stringify({ ...manifest, chains: [{ ...entry, erasures }] }, null, 2));
      const r = await run(process.execPath, [path.join(out, 'verify-export.mjs'), out, '--kid', signer.publicKey.kid]).then(
        (x) => ({ code: 0, stdout: x.stdout }),
        (e: { code: number; stdout: string }) => e,
      );
      expect(r.code).toBe(1);
      expect(r.stdout).toContain(`FAIL chain ${chain}`);
      expect(r.stdout).toContain(`its cutoff for ${LONG} is later than its retention (P10Y) allows`);
    });

    it('a purpose whose retention is below the configured minimum is not applied', async () => {
      const { chain, records, deps } = await writtenTrail();
      // Someone who can write to the policies folder keeps summons copies one day.
      const oneDay = { ...deps, policies: () => ({ ...RULES, purposes: new Map([[SHORT, { retention: 'P1D' }]]) }) };
      const [outcome] = await applyPurposeRetention(oneDay, { now: RUN, chains: [chain] });
      expect(outcome).toMatchObject({ erased: 0, belowMinimum: [{ purpose: SHORT, retention: 'P1D' }] });
      expect(await stored(chain, 1)).toEqual(records[0]);
      // A minimum the operator lowered on purpose lets it apply.
      const [lowered] = await applyPurposeRetention(oneDay, { now: RUN, chains: [chain], minimumRetention: 'P1D' });
      expect(lowered).toMatchObject({ erased: 8 });
    });

    it('the job erases nothing whose own (hashed) purpose and time do not put it past retention, whatever the search columns say', async () => {
      const { chain, records, deps } = await writtenTrail();
      // seq 2 is LONG (kept ten years); its purpose column now says SHORT.
      await h.exec('UPDATE audit_record SET purpose = ? WHERE chain = ? AND seq = ?', [SHORT, chain, 2]);
      // seq 4 is LONG; its time column now says 2012, past ten years on the day of the run.
      await h.exec('UPDATE audit_record SET time = ? WHERE chain = ? AND seq = ?', ['2012-01-01T00:00:00.000Z', chain, 4]);
      await applyPurposeRetention(deps, { now: RUN, chains: [chain] });
      // Today both are erased (and verification then reports seq 2 erasure-unproven: detected, but
      // the online evidence is gone). The job's own promise is "never a record that does not match".
      expect({ 2: (await stored(chain, 2)).erasedBy, 4: (await stored(chain, 4)).erasedBy }).toEqual({ 2: undefined, 4: undefined });
      expect(await stored(chain, 2)).toEqual(records[1]);
    });

    it('the job erases nothing when the checkpoint it asked for does not seal the erasure record', async () => {
      const { chain, deps } = await writtenTrail();
      // A seal that signs nothing: Checkpointer.checkpoint resolves undefined, e.g. after the lease was taken again.
      await applyPurposeRetention({ ...deps, seal: () => Promise.resolve(undefined) }, { now: RUN, chains: [chain] });
      expect((await stored(chain, 1)).erasedBy).toBeUndefined();
    });

    // Known limit (docs/AUDIT.md section 8, SECURITY.md): erasure does not yet reach the DPO
    // rollups. Marked failing so that it is seen to hold still, and turns red once fixed.
    it.failing("once erased, the exchange's caseworker and the consent it relied on are gone from the DPO rollups too", async () => {
      // Decisions (the look-ups the rollups count per caseworker and citizen) relying on a consent.
      const { chain, deps, records } = await writtenTrail(() => ({ kind: 'decision', consent: randomDigest(), status: null }));
      // The gateway counts its records into the rollups every couple of seconds.
      await new RollupCatchUp(store).run(1_000_000);
      await applyPurposeRetention(deps, { now: RUN, chains: [chain] });
      const erased = records.filter((r) => r.purpose === SHORT).map((r) => r.caseworker!);
      expect(erased).toHaveLength(8);
      const text = await h.dump();
      expect(text.includes(`cw-${chain}-1.`)).toBe(true); // a LONG record's caseworker: kept
      expect(erased.filter((cw) => text.includes(cw))).toEqual([]);
      // Nor the receipt digest of the consent each relied on (the erased record holds none any more).
      const consents = records.filter((r) => r.purpose === SHORT).map((r) => r.consent!);
      expect(consents.filter((c) => text.includes(c))).toEqual([]);
    });
  });
}

// "A shortened retention is not taken into force without the approvals signed policies require"
// (purposes.yaml outside what the approvers sign) is left to the policy-approvals work, where a
// policy's signed digest comes to cover its purpose's entry; its tests are those of
// test/policy-approvals.test.ts and test/cli-policy-approvals.test.ts. Until then the configured
// minimum (audit.minimumPurposeRetention) keeps a writer of the policies folder from making the
// gateway erase within days: see 'a purpose whose retention is below the configured minimum is not applied' above.

describeStore(async () => {
  const db = await sqliteDatabase('erasure-attack');
  return { ...db, dump: () => databaseText(db, ['audit_%', 'dpo_%']) };
}, 'SQLite');

describeStore(async () => {
  const db = await postgresDatabase('erasure-attack');
  return { ...db, dump: () => databaseText(db, ['audit_%', 'dpo_%']) };
}, 'PostgreSQL');

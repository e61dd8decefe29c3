/**
 * Retention per purpose: each purpose's records go once past the purpose's own retention
 * (purposes.yaml) and exported, interleaved as they are with other purposes' records in one hash
 * chain. Their content is erased where it stands, the chain and its signed checkpoints still
 * verify (online and offline), and an erasure nobody documented, one that was not due, or a
 * change to what is left fails verification. One suite, run against SQLite and PostgreSQL alike,
 * tampering with the tables directly as an attacker with database access would. PostgreSQL must
 * be reachable (SNITFLADE_TEST_PG, default postgres://postgres@127.0.0.1:5432/postgres).
 */
import { execFile } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { recordHash } from '../src/audit/chain.js';
import { checkpointSigner, CheckpointVerifier, type CheckpointSigner } from '../src/audit/checkpoint.js';
import { Checkpointer } from '../src/audit/checkpointer.js';
import { erasedRecord, erasureDigest, erasureListDigest, erasurePayload, purposeCutoff } from '../src/audit/erasure.js';
import { exportTrail } from '../src/audit/export.js';
import { Pseudonymizer } from '../src/audit/pseudonym.js';
import { erasureReasons, parseErasureReasons } from '../src/audit/reasons.js';
import {
  applyPurposeRetention,
  applyRetention,
  applyRetentionRules,
  type ErasureOutcome,
  type PurposeRetentionDeps,
  type RetentionRun,
} from '../src/audit/retention.js';
import { searchAuditTrail, verificationStatuses } from '../src/audit/search.js';
import { openAuditServices } from '../src/audit/services.js';
import { AuditTrail } from '../src/audit/trail.js';
import type { AuditEntry, AuditRecord } from '../src/audit/types.js';
import { verifySealedChain, verifyTrail } from '../src/audit/verify-trail.js';
import { loadConfig } from '../src/config/config.js';
import { canonicalJson } from '../src/lib/digest.js';
import { createLogger } from '../src/log.js';
import { ErasureConflictError } from '../src/store/audit-checkpoints.js';
import { toRow } from '../src/store/rows.js';
import type { Store } from '../src/store/types.js';
import { auditEntry, randomDigest } from './support/audit-entries.js';
import { databaseText, postgresDatabase, sqliteDatabase, type TestDatabase } from './support/databases.js';
import { ROOT, testCerts } from './support/env.js';

const run = promisify(execFile);
const VERIFIER_SCRIPT = path.resolve('src/audit/offline/verify-export.mjs');

const CITIZEN = '0101909901';
const pseudonyms = new Pseudonymizer({ keys: [{ id: 'ka', secret: randomBytes(32) }], current: 'ka' });

/** Two purposes of the registry, with the retention purposes.yaml gives them. */
const SHORT = 'summons-copy'; // P2Y
const LONG = 'rehabilitation-team-assessment'; // P10Y
const rulesWith = (retention: Readonly<Record<string, string>>) => ({
  purposes: new Map(Object.entries(retention).map(([id, r]) => [id, { retention: r }])),
  digest: 'd'.repeat(64),
});
const RULES = rulesWith({ [SHORT]: 'P2Y', [LONG]: 'P10Y' });

/** Written on 10 January 2023; the run on 1 June 2025: past two years, not ten. */
const WRITTEN = Date.parse('2023-01-10T09:00:00.000Z');
const RUN = new Date('2025-06-01T08:00:00.000Z');

/** A release to the social case system about the citizen, for a purpose, by a caseworker named after the record. */
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

const pem = (): string => generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();

/** What a run of the retention job erased in one chain. */
const erasedIn = (run: RetentionRun, chain: string): ErasureOutcome | undefined =>
  run.busy ? undefined : run.erased.find((e) => e.chain === chain);

let chainCounter = 0;
const freshChain = (prefix: string): string => `${prefix}-${++chainCounter}-${randomBytes(2).toString('hex')}`;

interface Harness extends TestDatabase {
  /** Every text the database holds, for the scan for erased content. */
  dump(): Promise<string>;
}

function describeStore(makeHarness: () => Promise<Harness>, label: string): void {
  describe(`${label}: retention per purpose`, () => {
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
      const d = mkdtempSync(path.join(tmpdir(), 'snitflade-erasure-'));
      dirs.push(d);
      return d;
    };

    /**
     * A chain written in January 2023: 16 releases, alternately of the short and the long purpose,
     * then a refusal without a purpose and a consent record of the short purpose (kinds the
     * purposes' retention leaves alone), sealed every 6 records and exported; then 4 more
     * releases of the short purpose, sealed but not exported. The trail's clock is `clock`.
     */
    async function writtenTrail() {
      const chain = freshChain('p');
      const clock = { now: new Date(WRITTEN) };
      const trail = await AuditTrail.open(store, { chain, now: () => clock.now });
      const checkpointer = new Checkpointer({ store, trail, signer, verifier, gatewayId: 'g', now: () => clock.now });
      const records: AuditRecord[] = [];
      const write = async (e: AuditEntry): Promise<void> => {
        clock.now = new Date(WRITTEN + records.length * 60_000);
        records.push(await trail.append(e));
        if (records.length % 6 === 0) await checkpointer.checkpoint();
      };
      for (let i = 0; i < 16; i++) await write(release(i % 2 === 0 ? SHORT : LONG, `cw-${chain}-${i}.`));
      await write(release(null, `cw-${chain}-refusal`, { kind: 'refusal', reasons: ['TOKEN_REPLAYED'] }));
      await write(release(SHORT, `cw-${chain}-consent`, { kind: 'consent', reasons: ['CONSENT_RECORDED'] }));
      await checkpointer.checkpoint();
      const exported = await exportTrail({ store, verifier, gatewayId: 'g' }, { out: path.join(tmp(), 'first'), chains: [chain] });
      for (let i = 0; i < 4; i++) await write(release(SHORT, `cw-${chain}-late-${i}`));
      await checkpointer.checkpoint();
      clock.now = RUN;
      const deps: PurposeRetentionDeps = {
        store,
        verifier,
        append: (e) => trail.append(e),
        policies: () => RULES,
        seal: () => checkpointer.checkpoint(),
        signer,
      };
      return { chain, clock, trail, checkpointer, records, deps, exportedThrough: exported.entries[0]!.toSeq };
    }

    /** Stores `record` as the row at its seq, columns and all: what someone with write access to the database can do. */
    async function storeRow(record: AuditRecord): Promise<void> {
      const row = toRow(record);
      await h.exec(
        'UPDATE audit_record SET record = ?, time = ?, kind = ?, subject = ?, caller_system = ?, administration = ?, caseworker = ?, contract = ?, ' +
          'purpose = ?, policy_id = ?, policy_version = ?, decision = ?, reasons = ? WHERE chain = ? AND seq = ?',
        [
          row.record,
          row.time,
          row.kind,
          row.subject,
          row.caller_system,
          row.administration,
          row.caseworker,
          row.contract,
          row.purpose,
          row.policy_id,
          row.policy_version,
          row.decision,
          row.reasons,
          row.chain,
          row.seq,
        ],
      );
    }
    const stored = async (chain: string, seq: number): Promise<AuditRecord> => (await store.audit.range(chain, seq, 1))[0]!;

    /** Signs the erasure an admin record documents with the checkpoint key, as the retention job does once it is sealed. */
    const signErasure = async (admin: AuditRecord): Promise<void> => {
      const doc = parseErasureReasons(admin.reasons)!;
      await store.checkpoints.addErasureSignature(doc.chain, admin.auditId, await signer.signErasure(erasurePayload(doc, admin)));
    };

    it("erases the short purpose's exported records, keeps the long purpose's and the rest, and the trail still verifies", async () => {
      const { chain, records, deps, exportedThrough, checkpointer } = await writtenTrail();
      expect(exportedThrough).toBe(18);

      const [outcome] = await applyPurposeRetention(deps, { now: RUN, chains: [chain] });
      const shortExported = records.filter((r) => r.purpose === SHORT && r.kind === 'release' && r.seq <= exportedThrough);
      expect(outcome).toMatchObject({ chain, erased: shortExported.length, skipped: 'not-exported' });
      expect(outcome!.erased).toBe(8);
      expect(outcome!.message).toContain(`from seq 19 on are past their purpose's retention (${SHORT}) but not exported`);

      for (const r of records) {
        const now = await stored(chain, r.seq);
        if (shortExported.includes(r)) {
          // Erased: the place, the ids, time, kind and purpose are left, nothing else.
          expect(now).toEqual(erasedRecord(r, outcome!.auditIds[0]!));
          expect(now.subject).toBeNull();
          expect(now.caseworker).toBeNull();
          expect(now.hash).toBe(r.hash);
        } else {
          // Intact: the long purpose, the refusal without a purpose, the consent record, the records not exported.
          expect(now).toEqual(r);
          expect(recordHash(now.prevHash, now)).toBe(now.hash);
        }
      }

      // The admin record documents it, without personal data, sealed before anything was erased.
      const admin = (await store.audit.search({ auditId: outcome!.auditIds[0]!, kind: 'admin', limit: 1 })).records[0]!;
      expect(admin.reasons).toEqual([
        'AUDIT_ERASURE',
        `chain=${chain}`,
        'erased=8',
        expect.stringMatching(/^digest=[0-9a-f]{64}$/),
        expect.stringMatching(/^export=/),
        `cutoff=${SHORT}:P2Y:${purposeCutoff('P2Y', RUN)}`,
      ]);
      expect(purposeCutoff('P2Y', RUN)).toBe('2023-05-31T22:00:00.000Z'); // 1 June 2023, 00:00 in Copenhagen
      expect(admin.policySet).toBe(RULES.digest);
      expect((await store.checkpoints.latest(chain))!.seq).toBeGreaterThanOrEqual(admin.seq);

      await checkpointer.checkpoint();
      expect(await verifySealedChain({ store, verifier }, chain)).toMatchObject({ ok: true, checked: records.length + 1, erased: 8 });
      expect((await verifyTrail({ store, verifier }, { chains: [chain] })).ok).toBe(true);

      // The citizen's search no longer finds the erased records; those left are verified, an erased one shows as such.
      const found = await searchAuditTrail({ store, pseudonyms, verifier }, { cpr: CITIZEN, chain, limit: 50 });
      expect(found.results.map((r) => r.record.seq).sort((a, b) => a - b)).toEqual(
        records.filter((r) => !shortExported.includes(r)).map((r) => r.seq),
      );
      expect(found.results.every((r) => r.verification.status === 'verified')).toBe(true);
      const [erasedStatus] = await verificationStatuses({ store, verifier }, [await stored(chain, 1)], { proofs: true });
      expect(erasedStatus).toMatchObject({ status: 'erased', proof: { seq: 1 } });

      // A second run erases nothing more: what is erased stays so, what is not exported stays whole.
      const [again] = await applyPurposeRetention(deps, { now: RUN, chains: [chain] });
      expect(again).toMatchObject({ erased: 0, skipped: 'not-exported' });
    });

    it('an export after the erasure holds what is left and its documentation; the standalone verifier accepts it and refuses it changed', async () => {
      const { chain, deps, checkpointer } = await writtenTrail();
      await applyPurposeRetention(deps, { now: RUN, chains: [chain] });
      await checkpointer.checkpoint();
      const out = path.join(tmp(), 'after');
      const { manifest } = await exportTrail({ store, verifier, gatewayId: 'g' }, { out, chains: [chain] });
      expect(manifest.chains[0]!.erasures).toBe(`chains/chain-${chain}/erasures.jsonl`);
      const ok = await run(process.execPath, [path.join(out, 'verify-export.mjs'), out, '--kid', signer.publicKey.kid]);
      expect(ok.stdout).toContain(`OK   chain ${chain}: records 1-`);
      expect(ok.stdout).toContain("8 with their content erased under their purpose's retention");

      const fails = async (): Promise<string> => {
        const r = await run(process.execPath, [VERIFIER_SCRIPT, out]).then(
          () => ({ code: 0, stdout: '' }),
          (e: { code: number; stdout: string }) => e,
        );
        expect(r.code).toBe(1);
        return r.stdout;
      };
      const file = path.join(out, manifest.chains[0]!.segments[0]!.file);
      const original = readFileSync(file, 'utf8');
      const lines = original.split('\n');
      const edit = (i: number, change: (r: AuditRecord) => AuditRecord): void =>
        writeFileSync(
          file,
          [...lines.slice(0, i), canonicalJson(change(JSON.parse(lines[i]!) as AuditRecord)), ...lines.slice(i + 1)].join('\n'),
        );
      // What is left of an erased record (seq 1), changed.
      edit(0, (r) => ({ ...r, purpose: LONG }));
      expect(await fails()).toContain(`FAIL chain ${chain}, seq 1: the record was changed after its content was erased`);
      // A record of the long purpose (seq 2), erased by hand and named after the real erasure.
      const by = (JSON.parse(lines[0]!) as AuditRecord).erasedBy!;
      edit(1, (r) => erasedRecord(r, by));
      expect(await fails()).toContain(
        `FAIL chain ${chain}, seq 2: the record's content was erased, and no erasure documented in the export names it`,
      );
      // Content kept in what should be erased.
      edit(0, (r) => ({ ...r, caseworker: 'cw-kept' }));
      expect(await fails()).toContain(
        `FAIL chain ${chain}, seq 1: the record is marked erased, but what is left of it is not what an erasure leaves`,
      );
      writeFileSync(file, original);
      // The documentation, changed: an entry added for the hand-erased record.
      const erasures = path.join(out, manifest.chains[0]!.erasures!);
      const doc = JSON.parse(readFileSync(erasures, 'utf8')) as { erased: [number, string][] };
      writeFileSync(erasures, `${JSON.stringify({ ...doc, erased: [...doc.erased, [2, 'f'.repeat(64)]] })}\n`);
      expect(await fails()).toMatch(
        /FAIL chain .*: the record documenting an erasure .*: the erasure entries in the export are not those it documents/,
      );
    });

    it('finds what is left changed, an erasure nobody documented, and one that was not due', async () => {
      const { chain, records, deps, trail, checkpointer } = await writtenTrail();
      const [outcome] = await applyPurposeRetention(deps, { now: RUN, chains: [chain] });
      const by = outcome!.auditIds[0]!;
      await checkpointer.checkpoint();
      const verify = () => verifySealedChain({ store, verifier }, chain);
      expect((await verify()).ok).toBe(true);

      // What is left of an erased record, changed (its purpose, in the record and its column alike).
      const left = await stored(chain, 3);
      await storeRow({ ...left, purpose: LONG });
      expect((await verify()).problem).toMatchObject({ seq: 3, kind: 'hash-mismatch' });
      await storeRow(left);
      // Its time moved, so that it looks older than it was.
      await storeRow({ ...left, time: '2020-01-01T00:00:00.000Z' });
      expect((await verify()).problem).toMatchObject({ seq: 3, kind: 'hash-mismatch' });
      await storeRow(left);
      expect((await verify()).ok).toBe(true);

      // A record of the long purpose (seq 2) erased by hand, naming the real erasure: no entry names it.
      const long = records[1]!;
      expect(long.purpose).toBe(LONG);
      const forged = erasedRecord(long, by);
      await storeRow(forged);
      expect((await verify()).problem).toMatchObject({ seq: 2, kind: 'erasure-unproven' });
      expect((await verify()).problem?.message).toBe('the content of the record at seq 2 was erased, but no documented erasure names it');
      // ... with an entry added for it: the entries are no longer those the admin record documents,
      // which shows at the first record that erasure erased.
      await h.exec('INSERT INTO audit_erasure (chain, seq, audit_id, digest) VALUES (?, ?, ?, ?)', [chain, 2, by, erasureDigest(forged)]);
      expect((await verify()).problem).toMatchObject({ seq: 1, kind: 'erasure-unproven' });
      expect((await verify()).problem?.message).toContain(
        'the erasure entries stored are not those the record documenting the erasure names',
      );
      // ... naming an admin record that does not exist.
      const madeUp = erasedRecord(long, 'made-up');
      await storeRow(madeUp);
      await h.exec('UPDATE audit_erasure SET audit_id = ?, digest = ? WHERE chain = ? AND seq = ?', [
        'made-up',
        erasureDigest(madeUp),
        chain,
        2,
      ]);
      expect((await verify()).problem).toMatchObject({ seq: 2, kind: 'erasure-unproven' });
      expect((await verify()).problem?.message).toContain('no audit record documents its erasure');
      // Put back: the record whole again (its entry left behind, as a restored backup would) verifies.
      await storeRow(long);
      expect((await verify()).ok).toBe(true);
      await h.exec('DELETE FROM audit_erasure WHERE chain = ? AND seq = ?', [chain, 2]);

      // An erasure documented truthfully but not due: the long purpose's record erased under its
      // own ten years, eight years early. The admin record is genuine; the cutoff rules it out.
      const auditId = `adm-${randomBytes(8).toString('hex')}`;
      const early = erasedRecord(long, auditId);
      const digest = erasureDigest(early);
      const admin = await trail.append(
        auditEntry({
          kind: 'admin',
          auditId,
          caller: null,
          caseworker: null,
          caseRef: null,
          contract: null,
          purpose: null,
          subject: null,
          policy: null,
          decision: null,
          fields: { requested: [], released: [], withheld: [], dropped: [] },
          reasons: erasureReasons({
            chain,
            erased: 1,
            digest: erasureListDigest([{ seq: 2, digest }]),
            exportId: 'x',
            cutoffs: new Map([[LONG, { retention: 'P10Y', before: purposeCutoff('P10Y', RUN) }]]),
          }),
        }),
      );
      await checkpointer.checkpoint();
      await signErasure(admin);
      await store.checkpoints.erase([{ record: early, digest }]);
      expect((await verify()).problem).toMatchObject({ seq: 2, kind: 'erasure-unproven' });
      expect((await verify()).problem?.message).toBe(
        "the content of the record at seq 2 was erased, but its purpose's retention had not passed when it was erased",
      );
    });

    it('an erasure record stating a cutoff its retention did not allow is not accepted', async () => {
      const { chain, records, trail, checkpointer } = await writtenTrail();
      const long = records[1]!;
      const auditId = `adm-${randomBytes(8).toString('hex')}`;
      const early = erasedRecord(long, auditId);
      const digest = erasureDigest(early);
      const admin = await trail.append(
        auditEntry({
          kind: 'admin',
          auditId,
          caller: null,
          subject: null,
          purpose: null,
          reasons: erasureReasons({
            chain,
            erased: 1,
            digest: erasureListDigest([{ seq: 2, digest }]),
            exportId: 'x',
            // "Ten years" with the cutoff of today: everything so far.
            cutoffs: new Map([[LONG, { retention: 'P10Y', before: RUN.toISOString() }]]),
          }),
        }),
      );
      await checkpointer.checkpoint();
      await signErasure(admin);
      await store.checkpoints.erase([{ record: early, digest }]);
      expect((await verifySealedChain({ store, verifier }, chain)).problem).toMatchObject({
        seq: 2,
        kind: 'erasure-unproven',
        message:
          'the content of the record at seq 2 was erased, but the record documenting its erasure states a cutoff its retention period did not allow',
      });
    });

    it('an erasure that meets a record erased already, or another record at the seq, writes nothing', async () => {
      const { chain, records, deps } = await writtenTrail();
      const [outcome] = await applyPurposeRetention(deps, { now: RUN, chains: [chain] });
      const by = outcome!.auditIds[0]!;
      const long = records[1]!;
      const twice = [long, records[0]!].map((r) => erasedRecord(r, by)).map((record) => ({ record, digest: erasureDigest(record) }));
      await expect(store.checkpoints.erase(twice)).rejects.toBeInstanceOf(ErasureConflictError);
      expect(await stored(chain, 2)).toEqual(long);
      expect(await store.checkpoints.erasures(chain, 2, 3)).toEqual([]);
      const other = erasedRecord({ ...long, id: 'not-the-record' }, by);
      await expect(store.checkpoints.erase([{ record: other, digest: erasureDigest(other) }])).rejects.toBeInstanceOf(ErasureConflictError);
      expect(await stored(chain, 2)).toEqual(long);
      expect(await store.checkpoints.erasures(chain, 2, 3)).toEqual([]);
    });

    it('erases nothing without an export, and nothing that does not match its hash', async () => {
      const chain = freshChain('nx');
      const clock = { now: new Date(WRITTEN) };
      const trail = await AuditTrail.open(store, { chain, now: () => clock.now });
      const checkpointer = new Checkpointer({ store, trail, signer, verifier, gatewayId: 'g' });
      const records: AuditRecord[] = [];
      for (let i = 0; i < 6; i++) records.push(await trail.append(release(SHORT, `cw-${chain}-${i}`)));
      await checkpointer.checkpoint();
      clock.now = RUN;
      const deps = {
        store,
        verifier,
        append: (e: AuditEntry) => trail.append(e),
        policies: () => RULES,
        seal: () => checkpointer.checkpoint(),
        signer,
      };
      expect(await applyPurposeRetention(deps, { now: RUN, chains: [chain] })).toEqual([
        expect.objectContaining({ chain, erased: 0, skipped: 'not-exported' }),
      ]);
      for (const r of records) expect(await stored(chain, r.seq)).toEqual(r);

      // Exported, but record 4 was changed behind the trail's back: records 1-3 go, the evidence stays.
      await exportTrail({ store, verifier, gatewayId: 'g' }, { out: path.join(tmp(), 'nx'), chains: [chain] });
      await storeRow({ ...records[3]!, caseworker: 'someone-else' });
      const [outcome] = await applyPurposeRetention(deps, { now: RUN, chains: [chain] });
      expect(outcome).toMatchObject({ erased: 3, skipped: 'integrity' });
      expect(outcome!.message).toContain('the record at seq 4');
      expect((await stored(chain, 4)).caseworker).toBe('someone-else');
      expect((await stored(chain, 5)).erasedBy).toBeUndefined();
    });

    it('a shorter retention from a reload applies at the next run; the global rule later deletes erased and whole records alike', async () => {
      const { chain, deps, checkpointer } = await writtenTrail();
      // Before the run, the rules in force are swapped: the long purpose now kept one year.
      let rules = RULES;
      const swapped = { ...deps, policies: () => rules };
      await applyPurposeRetention(swapped, { now: RUN, chains: [chain] });
      expect((await stored(chain, 2)).erasedBy).toBeUndefined();
      rules = rulesWith({ [SHORT]: 'P2Y', [LONG]: 'P1Y' });
      const [outcome] = await applyPurposeRetention(swapped, { now: RUN, chains: [chain] });
      expect(outcome!.erased).toBe(8);
      expect((await stored(chain, 2)).erasedBy).toBe(outcome!.auditIds[0]);
      await checkpointer.checkpoint();
      expect(await verifySealedChain({ store, verifier }, chain)).toMatchObject({ ok: true, erased: 16 });

      // Thirty days after record 9, the global rule deletes the first segment (records 1-6, erased
      // ones among them): the erasures of the records left still check out, their entries whole.
      const [deleted] = await applyRetention(deps, {
        retentionDays: 30,
        now: new Date(WRITTEN + 8 * 60_000 + 30 * 86_400_000),
        chains: [chain],
      });
      expect(deleted).toMatchObject({ deleted: 6, throughSeq: 6 });
      await checkpointer.checkpoint();
      expect(await verifySealedChain({ store, verifier }, chain)).toMatchObject({ ok: true, fromSeq: 7, erased: 10 });
      expect((await store.checkpoints.erasures(chain, 1, 100)).length).toBe(16); // the entries of erasures with records left stay whole

      // An hour later, through the end of the export (seq 18): no erased record is left, nor an entry.
      const [rest] = await applyRetention(deps, {
        retentionDays: 30,
        now: new Date(WRITTEN + 60 * 60_000 + 30 * 86_400_000),
        chains: [chain],
      });
      expect(rest).toMatchObject({ deleted: 12, throughSeq: 18 });
      expect(await store.checkpoints.erasures(chain, 1, 100)).toEqual([]);
      await checkpointer.checkpoint();
      const after = await verifySealedChain({ store, verifier }, chain);
      expect(after).toMatchObject({ ok: true, fromSeq: 19 });
      expect(after.erased).toBeUndefined();
    });

    it("one instance at a time applies the retention rules: another's run finds the job's lease taken", async () => {
      const { chain, deps } = await writtenTrail();
      const other = await h.open();
      try {
        const lease = await other.checkpoints.lockRetention();
        expect(await applyRetentionRules(deps, { purposes: true, now: RUN })).toEqual({ busy: true });
        expect((await stored(chain, 1)).erasedBy).toBeUndefined();
        await lease.release();
        const ran = await applyRetentionRules(deps, { purposes: true, now: RUN });
        expect(ran).toMatchObject({ busy: false, deleted: [] });
        expect(erasedIn(ran, chain)).toMatchObject({ erased: 8 });
      } finally {
        await other.close();
      }
    });

    it("the gateway's retention job erases under the purposes in force, and the rules' reload applies at its next run", async () => {
      const certs = await testCerts();
      const instance = freshChain('gw');
      const config = loadConfig({
        root: ROOT,
        env: {},
        overrides: {
          instanceId: instance,
          paths: { certs, data: tmp() },
          store: h.storeConfig,
          log: { level: 'error', console: false },
        },
      });
      let rules = rulesWith({ [SHORT]: 'P10Y' });
      const services = await openAuditServices({
        config,
        store,
        logger: createLogger({ ...config.log, service: 'test' }),
        policies: () => rules,
      });
      const clock = { now: new Date(WRITTEN) };
      const trail = await AuditTrail.open(services.trailStore, { chain: instance, lease: services.lease, now: () => clock.now });
      try {
        services.start(trail);
        for (let i = 0; i < 5; i++) await trail.append(release(SHORT, `cw-${instance}-${i}`));
        await services.checkpointer!.checkpoint();
        await exportTrail({ store, verifier: services.verifier, gatewayId: 'g' }, { out: path.join(tmp(), 'gw'), chains: [instance] });
        clock.now = RUN;
        const first = await services.retention(RUN);
        expect(first).toMatchObject({ busy: false });
        expect(erasedIn(first, instance)).toMatchObject({ erased: 0 });
        rules = rulesWith({ [SHORT]: 'P2Y' }); // a reload
        const second = await services.retention(RUN);
        expect(erasedIn(second, instance)).toMatchObject({ erased: 5 });
        await services.checkpointer!.checkpoint();
        expect(await verifySealedChain({ store, verifier: services.verifier }, instance)).toMatchObject({ ok: true, erased: 5 });
      } finally {
        await trail.close();
        await services.stop();
      }
    });

    it('what an erasure removes is no longer in the database', async () => {
      const { chain, deps } = await writtenTrail();
      await applyPurposeRetention(deps, { now: RUN, chains: [chain] });
      const text = await h.dump();
      expect(text.includes(`cw-${chain}-1.`)).toBe(true); // the long purpose's caseworker: kept
      expect([0, 2, 4, 14].filter((i) => text.includes(`cw-${chain}-${i}.`))).toEqual([]);
    });
  });
}

describe("a purpose's cutoff", () => {
  it('is the start, in Copenhagen, of the day the retention lies before the day of the run', () => {
    // Summer time in 2024 (UTC+2), winter time in 2023 (UTC+1).
    expect(purposeCutoff('P2Y', new Date('2026-07-15T12:00:00Z'))).toBe('2024-07-14T22:00:00.000Z');
    expect(purposeCutoff('P10Y', new Date('2033-01-10T23:30:00Z'))).toBe('2023-01-10T23:00:00.000Z'); // already 11 January in Copenhagen
    expect(purposeCutoff('P1M', new Date('2026-03-31T10:00:00Z'))).toBe('2026-02-27T23:00:00.000Z'); // 31 March less a month: 28 February
    expect(purposeCutoff('P1Y', new Date('2025-02-28T10:00:00Z'))).toBe('2024-02-27T23:00:00.000Z');
    expect(purposeCutoff('P2W3D', new Date('2026-01-20T10:00:00Z'))).toBe('2026-01-02T23:00:00.000Z');
  });
});

describeStore(async () => {
  const db = await sqliteDatabase('erasure');
  return { ...db, dump: () => databaseText(db, ['audit_record', 'audit_erasure']) };
}, 'SQLite');

describeStore(async () => {
  const db = await postgresDatabase('erasure');
  return { ...db, dump: () => databaseText(db, ['audit_record', 'audit_erasure']) };
}, 'PostgreSQL');

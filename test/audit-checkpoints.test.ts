/**
 * Signed checkpoints, inclusion proofs, verification with checkpoints, the offline export and
 * its standalone verifier, retention and pseudonym key rotation: one suite, run against SQLite
 * and PostgreSQL alike, tampering with the tables directly as an attacker with database access
 * would. PostgreSQL must be reachable (SNITFLADE_TEST_PG, default
 * postgres://postgres@127.0.0.1:5432/postgres); the suite fails if it is not.
 */
import { execFile } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { recordHash } from '../src/audit/chain.js';
import { checkpointSigner, CheckpointVerifier, type CheckpointSigner } from '../src/audit/checkpoint.js';
import { AuditIntegrityError, Checkpointer } from '../src/audit/checkpointer.js';
import { exportTrail, ExportIntegrityError } from '../src/audit/export.js';
import { ProofBuilder, verifyInclusionProof } from '../src/audit/proof.js';
import { Pseudonymizer } from '../src/audit/pseudonym.js';
import { applyRetention } from '../src/audit/retention.js';
import { searchAuditTrail, verificationStatuses } from '../src/audit/search.js';
import { AuditTrail } from '../src/audit/trail.js';
import type { AuditEntry, AuditRecord } from '../src/audit/types.js';
import { verifySealedChain, verifyTrail } from '../src/audit/verify-trail.js';
import { canonicalJson } from '../src/lib/digest.js';
import { ChainInUseError } from '../src/store/audit-checkpoints.js';
import type { Store } from '../src/store/types.js';
import { auditEntry, randomDigest } from './support/audit-entries.js';
import { databaseText, postgresDatabase, sqliteDatabase, type TestDatabase } from './support/databases.js';

const run = promisify(execFile);
const VERIFIER_SCRIPT = path.resolve('src/audit/offline/verify-export.mjs');

const CITIZEN_A = '0101909901';
const CITIZEN_B = '1505859902';
const keyA = { id: 'ka', secret: randomBytes(32) };
const keyB = { id: 'kb', secret: randomBytes(32) };
const pseudonyms = new Pseudonymizer({ keys: [keyA], current: 'ka' });

/** A release of the social case system, answered by the provider. */
const entry = (over: Partial<AuditEntry> = {}): AuditEntry =>
  auditEntry({
    kind: 'release',
    caseworker: 'sof-cw-0042',
    caseRef: 'SOF-2026-0001',
    subject: pseudonyms.pseudonym(CITIZEN_A),
    tokenDigest: randomDigest(),
    upstream: { status: 200, latencyMs: 3 },
    responseDigest: randomDigest(),
    status: 200,
    latencyMs: 5,
    ...over,
  });

interface Harness extends TestDatabase {
  /** Every text value in every table, for the personal-data scan. */
  dump(): Promise<string>;
}

const pem = (): string => generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();

let chainCounter = 0;
const freshChain = (prefix: string): string => `${prefix}-${++chainCounter}-${randomBytes(2).toString('hex')}`;

function describeStore(makeHarness: () => Promise<Harness>, label: string): void {
  describe(`${label}: checkpoints, proofs and verification`, () => {
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

    /** A chain of n records, sealed by checkpoints after the seqs listed (the last one at n unless told otherwise). */
    async function sealedChain(
      n: number,
      sealAt: readonly number[],
      over: (i: number) => Partial<AuditEntry> = (i) => ({ caseworker: `cw-${i}` }),
    ) {
      const chain = freshChain('c');
      const trail = await AuditTrail.open(store, { chain });
      const checkpointer = new Checkpointer({ store, trail, signer, verifier, gatewayId: 'snitflade-gateway' });
      const records: AuditRecord[] = [];
      for (let i = 0; i < n; i++) {
        records.push(await trail.append(entry(over(i))));
        if (sealAt.includes(i + 1)) await checkpointer.checkpoint();
      }
      return { chain, trail, checkpointer, records };
    }
    const tmp = (): string => {
      const d = mkdtempSync(path.join(tmpdir(), 'snitflade-export-'));
      dirs.push(d);
      return d;
    };

    it('seals the chain in signed checkpoints whose roots every record can be proven against', async () => {
      const { chain, checkpointer, records } = await sealedChain(150, [37, 100, 150]);
      expect(checkpointer.last?.seq).toBe(150);
      expect((await store.checkpoints.list(chain, 0, 10)).map((c) => [c.seq, c.prev])).toEqual([
        [37, 0],
        [100, 37],
        [150, 100],
      ]);
      const latest = (await store.checkpoints.latest(chain))!;
      const payload = await verifier.verify(latest.jws);
      expect(payload).toMatchObject({ chain, seq: 150, head: records[149]!.hash, prev: 100 });
      // Upper levels of the tree are stored (subtrees of 64 and 128 leaves).
      expect(
        (
          await store.checkpoints.nodes(chain, [
            { level: 6, index: 0 },
            { level: 6, index: 1 },
            { level: 7, index: 0 },
            { level: 6, index: 2 },
          ])
        )
          .map((n) => `${n.level}:${n.index}`)
          .sort(),
      ).toEqual(['6:0', '6:1', '7:0']);

      const proofs = await new ProofBuilder(store, chain).prove(
        records.map((r) => r.seq),
        latest,
      );
      for (const r of records) {
        const proof = proofs.get(r.seq);
        if (proof === undefined || proof instanceof Error) throw new Error(`no proof for ${r.seq}`);
        expect(await verifyInclusionProof(r, proof, verifier)).toMatchObject({ ok: true });
      }
      // Against an earlier checkpoint too.
      const early = (await store.checkpoints.atOrBefore(chain, 40))!;
      expect(early.seq).toBe(37);
      const p5 = await new ProofBuilder(store, chain).proveOne(5, early);
      expect(await verifyInclusionProof(records[4]!, p5, verifier)).toMatchObject({ ok: true });

      // A changed record fails its proof, whether or not its stored hash was recomputed.
      const changed = { ...records[41]!, decision: 'deny' as const };
      expect(await verifyInclusionProof(changed, proofs.get(42) as never, verifier)).toMatchObject({ ok: false, reason: 'not-included' });
      const rehashed = { ...changed, hash: recordHash(changed.prevHash, changed) };
      expect(await verifyInclusionProof(rehashed, proofs.get(42) as never, verifier)).toMatchObject({ ok: false, reason: 'not-included' });
      // Another record's proof, and a proof against a checkpoint signed by a stranger, fail too.
      expect(await verifyInclusionProof(records[42]!, proofs.get(42) as never, verifier)).toMatchObject({ ok: false });
      const stranger = await checkpointSigner(pem());
      const forged = await stranger.sign(payload);
      expect(
        await verifyInclusionProof(records[41]!, { ...(proofs.get(42) as never as object), checkpoint: forged } as never, verifier),
      ).toMatchObject({ ok: false, reason: 'checkpoint-invalid' });

      // After the stored record is tampered with, its proof is built from the stored data and fails.
      await h.exec('UPDATE audit_record SET record = ? WHERE chain = ? AND seq = ?', [canonicalJson(changed), chain, 42]);
      const [status] = await verificationStatuses({ store, verifier }, [(await store.audit.range(chain, 42, 1))[0]!]);
      expect(status).toMatchObject({ status: 'failed' });
      const [intact] = await verificationStatuses({ store, verifier }, [records[120]!], { proofs: true });
      expect(intact).toMatchObject({ status: 'verified', checkpoint: { seq: 150 } });
    });

    it('verifies a sealed chain, and records after the last checkpoint are pending', async () => {
      const { chain, trail, records } = await sealedChain(20, [8, 20]);
      await trail.append(entry());
      const result = await verifySealedChain({ store, verifier }, chain);
      expect(result).toMatchObject({ ok: true, checked: 21, checkpoints: 2, lastCheckpoint: { seq: 20 }, unsealed: 1 });
      const statuses = await verificationStatuses({ store, verifier }, [records[3]!, (await store.audit.range(chain, 21, 1))[0]!]);
      expect(statuses.map((s) => s.status)).toEqual(['verified', 'pending']);
    });

    describe('finds any changed, removed, inserted or reordered record, directly in the database, and says where', () => {
      // First record, inside a segment, at a checkpoint, last record (sealed).
      const positions = [1, 5, 8, 12];

      it.each(positions)('a changed record at seq %i', async (seq) => {
        const { chain, records } = await sealedChain(12, [8, 12]);
        const changed = { ...records[seq - 1]!, fields: { ...records[seq - 1]!.fields, released: ['targetGroup', 'sanctions'] } };
        await h.exec('UPDATE audit_record SET record = ? WHERE chain = ? AND seq = ?', [canonicalJson(changed), chain, seq]);
        expect((await verifySealedChain({ store, verifier }, chain)).problem).toMatchObject({ seq, kind: 'hash-mismatch' });
      });

      it.each(positions)('a changed and rehashed record at seq %i, the rest of the chain rewritten to match', async (seq) => {
        const { chain, records } = await sealedChain(12, [8, 12]);
        // The attacker rewrites the record and every record after it, consistently.
        let prev = records[seq - 2]?.hash ?? '0'.repeat(64);
        for (let s = seq; s <= 12; s++) {
          const r = { ...records[s - 1]!, prevHash: prev, ...(s === seq ? { caseworker: 'someone-else' } : {}) };
          const rewritten = { ...r, hash: recordHash(prev, r) };
          prev = rewritten.hash;
          await h.exec('UPDATE audit_record SET record = ?, caseworker = ? WHERE chain = ? AND seq = ?', [
            canonicalJson(rewritten),
            rewritten.caseworker,
            chain,
            s,
          ]);
        }
        // Only the signed checkpoints can tell: the first one after the change names the place.
        expect((await verifySealedChain({ store, verifier }, chain)).problem).toMatchObject({
          seq: seq <= 8 ? 8 : 12,
          kind: 'checkpoint-mismatch',
        });
      });

      it.each(positions)('a removed record at seq %i', async (seq) => {
        const { chain } = await sealedChain(12, [8, 12]);
        await h.exec('DELETE FROM audit_record WHERE chain = ? AND seq = ?', [chain, seq]);
        const result = await verifySealedChain({ store, verifier }, chain);
        expect(result.problem).toMatchObject({ seq, kind: seq === 12 ? 'truncated' : 'gap' });
      });

      it.each([1, 5, 8, 12])('an inserted record at seq %i (the rest renumbered)', async (seq) => {
        const { chain, records } = await sealedChain(12, [8, 12]);
        await h.exec('UPDATE audit_record SET seq = seq + 1000000 WHERE chain = ? AND seq >= ?', [chain, seq]);
        await h.exec('UPDATE audit_record SET seq = seq - 999999 WHERE chain = ? AND seq > 1000000', [chain]);
        const prevHash = records[seq - 2]?.hash ?? '0'.repeat(64);
        const forged = { ...records[seq - 1]!, id: `forged-${chain}`, seq, prevHash, caseworker: 'intruder' };
        const row = { ...forged, hash: recordHash(prevHash, forged) };
        await h.exec(
          'INSERT INTO audit_record (chain, seq, id, audit_id, time, kind, subject, caller_system, administration, caseworker, contract, purpose, policy_id, policy_version, decision, reasons, record) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
          [
            chain,
            seq,
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
        expect((await verifySealedChain({ store, verifier }, chain)).problem).toMatchObject({ seq, kind: 'inserted' });
      });

      it.each([1, 5, 8, 11])('two records swapped at seq %i and the next', async (seq) => {
        const { chain } = await sealedChain(12, [8, 12]);
        await h.exec('UPDATE audit_record SET seq = ? WHERE chain = ? AND seq = ?', [100000, chain, seq]);
        await h.exec('UPDATE audit_record SET seq = ? WHERE chain = ? AND seq = ?', [seq, chain, seq + 1]);
        await h.exec('UPDATE audit_record SET seq = ? WHERE chain = ? AND seq = ?', [seq + 1, chain, 100000]);
        expect((await verifySealedChain({ store, verifier }, chain)).problem).toMatchObject({ seq, kind: 'reordered' });
      });

      it('a removed checkpoint, a forged one, and one whose records were cut off', async () => {
        const a = await sealedChain(12, [4, 8, 12]);
        await h.exec('DELETE FROM audit_checkpoint WHERE chain = ? AND seq = ?', [a.chain, 8]);
        expect((await verifySealedChain({ store, verifier }, a.chain)).problem).toMatchObject({ seq: 8, kind: 'checkpoint-invalid' });

        const b = await sealedChain(12, [4, 8, 12]);
        const stranger = await checkpointSigner(pem());
        const c8 = (await store.checkpoints.atOrBefore(b.chain, 8))!;
        const forged = await stranger.sign(await verifier.verify(c8.jws));
        await h.exec('UPDATE audit_checkpoint SET jws = ? WHERE chain = ? AND seq = ?', [forged, b.chain, 8]);
        expect((await verifySealedChain({ store, verifier }, b.chain)).problem).toMatchObject({ seq: 8, kind: 'checkpoint-invalid' });

        const c = await sealedChain(12, [4, 8, 12]);
        await h.exec('DELETE FROM audit_record WHERE chain = ? AND seq > ?', [c.chain, 6]);
        expect((await verifySealedChain({ store, verifier }, c.chain)).problem).toMatchObject({ seq: 7, kind: 'truncated' });
        // A whole chain removed: its checkpoints remain, and verifyTrail still finds it.
        const d = await sealedChain(5, [5]);
        await h.exec('DELETE FROM audit_record WHERE chain = ?', [d.chain]);
        const all = await verifyTrail({ store, verifier });
        expect(all.chains.find((x) => x.chain === d.chain)?.problem).toMatchObject({ seq: 1, kind: 'truncated' });
      });

      it('verifies from a trusted checkpoint onward: earlier records are taken on trust, later ones checked', async () => {
        const { chain, records } = await sealedChain(16, [8, 16]);
        const changed = { ...records[2]!, decision: 'deny' as const };
        await h.exec('UPDATE audit_record SET record = ?, decision = ? WHERE chain = ? AND seq = ?', [
          canonicalJson(changed),
          'deny',
          chain,
          3,
        ]);
        expect((await verifySealedChain({ store, verifier }, chain)).problem).toMatchObject({ seq: 3, kind: 'hash-mismatch' });
        expect(await verifySealedChain({ store, verifier }, chain, { fromCheckpoint: 8 })).toMatchObject({
          ok: true,
          fromSeq: 9,
          checked: 8,
          checkpoints: 1,
        });
        await h.exec('DELETE FROM audit_record WHERE chain = ? AND seq = ?', [chain, 11]);
        expect((await verifySealedChain({ store, verifier }, chain, { fromCheckpoint: 8 })).problem).toMatchObject({
          seq: 11,
          kind: 'gap',
        });
      });
    });

    it('the checkpointer refuses to sign a chain that is not what the trail wrote', async () => {
      const chain = freshChain('refuse');
      const trail = await AuditTrail.open(store, { chain });
      const checkpointer = new Checkpointer({ store, trail, signer, verifier, gatewayId: 'snitflade-gateway' });
      const records = [];
      for (let i = 0; i < 6; i++) records.push(await trail.append(entry()));
      await checkpointer.checkpoint();
      await trail.append(entry());
      const r7 = (await store.audit.range(chain, 7, 1))[0]!;
      await h.exec('UPDATE audit_record SET record = ? WHERE chain = ? AND seq = ?', [
        canonicalJson({ ...r7, purpose: 'whole-person-plan' }),
        chain,
        7,
      ]);
      await expect(checkpointer.checkpoint()).rejects.toBeInstanceOf(AuditIntegrityError);
      expect((await store.checkpoints.latest(chain))?.seq).toBe(6);
    });

    it('the checkpointer checks a page its fast row check cannot vouch for the slow way: equal content seals, a gap does not', async () => {
      const chain = freshChain('slow-page');
      const trail = await AuditTrail.open(store, { chain });
      const checkpointer = new Checkpointer({ store, trail, signer, verifier, gatewayId: 'snitflade-gateway' });
      for (let i = 0; i < 6; i++) await trail.append(entry());
      // The same record, stored as indented JSON: not canonical text, so only the slow path can hash it.
      const r3 = (await store.audit.range(chain, 3, 1))[0]!;
      await h.exec('UPDATE audit_record SET record = ? WHERE chain = ? AND seq = ?', [
        JSON.stringify(JSON.parse(canonicalJson(r3)), null, 2),
        chain,
        3,
      ]);
      expect((await checkpointer.checkpoint())?.seq).toBe(6);

      for (let i = 0; i < 3; i++) await trail.append(entry());
      await h.exec('DELETE FROM audit_record WHERE chain = ? AND seq = ?', [chain, 8]);
      await expect(checkpointer.checkpoint()).rejects.toThrow(/seq 8 is out of place|seq 8 are missing/);
      expect((await store.checkpoints.latest(chain))?.seq).toBe(6);
    });

    it('exports sealed records with their checkpoints; the standalone verifier accepts the export and names the first bad record of a tampered one', async () => {
      const { chain } = await sealedChain(30, [10, 20, 30]);
      const out = path.join(tmp(), 'export');
      const { manifest, entries } = await exportTrail(
        { store, verifier, gatewayId: 'snitflade-gateway' },
        { out, chains: [chain], segmentRecords: 15 },
      );
      expect(manifest.chains[0]).toMatchObject({ chain, fromSeq: 1, toSeq: 30 });
      expect(manifest.chains[0]!.segments.map((s) => [s.fromSeq, s.toSeq])).toEqual([
        [1, 20],
        [21, 30],
      ]);
      expect(entries).toHaveLength(1);
      expect((await store.checkpoints.exports(chain)).map((e) => e.toSeq)).toEqual([30]);
      expect(readdirSync(out).sort()).toEqual(['README.txt', 'chains', 'keys.jwks.json', 'manifest.json', 'verify-export.mjs']);

      const ok = await run(process.execPath, [path.join(out, 'verify-export.mjs'), out, '--kid', signer.publicKey.kid]);
      expect(ok.stdout).toContain(`OK   chain ${chain}: records 1-30 (30), 3 signed checkpoints`);

      const file = path.join(out, manifest.chains[0]!.segments[0]!.file);
      const original = readFileSync(file, 'utf8');
      const lines = original.split('\n');
      const fails = async (): Promise<string> => {
        const r = await run(process.execPath, [VERIFIER_SCRIPT, out]).then(
          () => ({ code: 0, stdout: '' }),
          (e: { code: number; stdout: string }) => e,
        );
        expect(r.code).toBe(1);
        return r.stdout;
      };
      // A changed record.
      const r12 = JSON.parse(lines[11]!);
      writeFileSync(file, [...lines.slice(0, 11), JSON.stringify({ ...r12, decision: 'deny' }), ...lines.slice(12)].join('\n'));
      expect(await fails()).toContain(`FAIL chain ${chain}, seq 12: the record was changed`);
      // A removed record.
      writeFileSync(file, [...lines.slice(0, 4), ...lines.slice(5)].join('\n'));
      expect(await fails()).toContain(`FAIL chain ${chain}, seq 5: record 5 is missing`);
      // Two records swapped.
      writeFileSync(file, [...lines.slice(0, 6), lines[7], lines[6], ...lines.slice(8)].join('\n'));
      expect(await fails()).toContain(`FAIL chain ${chain}, seq 7: the records at seq 7 and 8 are out of order`);
      // A whole segment rewritten consistently: only the signed checkpoint can tell.
      let prev = '0'.repeat(64);
      const rewritten = lines
        .filter((l) => l !== '')
        .map((l, i) => {
          const r = { ...JSON.parse(l), prevHash: prev, ...(i === 2 ? { caseworker: 'someone-else' } : {}) };
          delete r.hash;
          const hash = recordHash(prev, r);
          prev = hash;
          return canonicalJson({ ...r, hash });
        });
      writeFileSync(file, `${rewritten.join('\n')}\n`);
      expect(await fails()).toContain(`FAIL chain ${chain}, seq 10: the record is not the one the signed checkpoint names`);
      writeFileSync(file, original);
      // A forged checkpoint.
      const cps = path.join(out, manifest.chains[0]!.checkpoints);
      const cpLines = readFileSync(cps, 'utf8').split('\n');
      const stranger = await checkpointSigner(pem());
      const c20 = JSON.parse(cpLines[1]!);
      writeFileSync(
        cps,
        [cpLines[0], JSON.stringify({ seq: 20, jws: await stranger.sign(await verifier.verify(c20.jws)) }), ...cpLines.slice(2)].join('\n'),
      );
      expect(await fails()).toContain(`FAIL chain ${chain}, seq 20: the checkpoint: signed with a key that is not trusted`);
      // A key that is not the pinned one.
      const pinned = await run(process.execPath, [VERIFIER_SCRIPT, out, '--kid', 'x'.repeat(43)]).then(
        () => 0,
        (e: { code: number }) => e.code,
      );
      expect(pinned).toBe(2);
    });

    it('refuses to export a trail that does not verify', async () => {
      const { chain, records } = await sealedChain(6, [6]);
      await h.exec('UPDATE audit_record SET record = ? WHERE chain = ? AND seq = ?', [
        canonicalJson({ ...records[3]!, caseworker: 'x' }),
        chain,
        4,
      ]);
      await expect(
        exportTrail({ store, verifier, gatewayId: 'g' }, { out: path.join(tmp(), 'bad'), chains: [chain] }),
      ).rejects.toBeInstanceOf(ExportIntegrityError);
      expect(await store.checkpoints.exports(chain)).toEqual([]);
    });

    it('retention deletes old segments only once exported, and verification continues from the retained checkpoint', async () => {
      const { chain, trail, checkpointer, records } = await sealedChain(25, [10, 20]);
      const deps = { store, verifier, append: (e: AuditEntry) => trail.append(e) };
      const later = new Date(Date.now() + 40 * 86_400_000);
      // Not exported: nothing is deleted.
      expect(await applyRetention(deps, { retentionDays: 30, now: later, chains: [chain] })).toEqual([
        expect.objectContaining({ chain, deleted: 0, skipped: 'not-exported' }),
      ]);
      expect((await store.audit.range(chain, 1, 1))[0]?.seq).toBe(1);

      // Exported through seq 20 (the last checkpoint then), later records added and sealed.
      const out = path.join(tmp(), 'retention');
      await exportTrail({ store, verifier, gatewayId: 'g' }, { out, chains: [chain] });
      await checkpointer.checkpoint(); // seals 21-25 (+ nothing else)
      const [outcome] = await applyRetention(deps, { retentionDays: 30, now: later, chains: [chain] });
      expect(outcome).toMatchObject({ chain, deleted: 20, throughSeq: 20 });
      expect((await store.audit.range(chain, 1, 1))[0]?.seq).toBe(21);
      await checkpointer.checkpoint(); // seals the admin record of the deletion
      const verified = await verifySealedChain({ store, verifier }, chain);
      expect(verified).toMatchObject({ ok: true, fromSeq: 21, retained: { throughSeq: 20 } });
      // The admin record documents the deletion, without personal data.
      const admin = await store.audit.search({ kind: 'admin', chain, limit: 5 });
      expect(admin.records[0]?.reasons).toEqual(['AUDIT_RETENTION', `chain=${chain}`, 'through=20', expect.stringMatching(/^export=/)]);
      // Records after the mark still prove against the latest checkpoint.
      const statuses = await verificationStatuses({ store, verifier }, [records[22]!]);
      expect(statuses[0]).toMatchObject({ status: 'verified' });
      // A later export starts from the retained checkpoint and verifies offline.
      const out2 = path.join(tmp(), 'after-retention');
      const second = await exportTrail({ store, verifier, gatewayId: 'g' }, { out: out2, chains: [chain] });
      expect(second.manifest.chains[0]).toMatchObject({ fromSeq: 21 });
      await run(process.execPath, [VERIFIER_SCRIPT, out2, '--quiet']);

      // Deleting more records, or the admin record, is not covered by the mark.
      await h.exec('DELETE FROM audit_record WHERE chain = ? AND seq = ?', [chain, 21]);
      expect((await verifySealedChain({ store, verifier }, chain)).problem).toMatchObject({ seq: 21, kind: 'gap' });
    });

    it('a deletion nobody documented is not accepted as retention', async () => {
      const { chain } = await sealedChain(10, [5, 10]);
      await h.exec('DELETE FROM audit_record WHERE chain = ? AND seq <= ?', [chain, 5]);
      expect((await verifySealedChain({ store, verifier }, chain)).problem).toMatchObject({ seq: 1, kind: 'gap' });
      await store.checkpoints.markRetention({
        chain,
        throughSeq: 5,
        auditId: 'made-up',
        exportId: 'made-up',
        time: new Date().toISOString(),
      });
      expect((await verifySealedChain({ store, verifier }, chain)).problem).toMatchObject({ seq: 6, kind: 'retention-unproven' });
    });

    it('pseudonym keys rotate; destroying the old key makes its records unlinkable while the trail still verifies', async () => {
      const chain = freshChain('rotate');
      const trail = await AuditTrail.open(store, { chain });
      const checkpointer = new Checkpointer({ store, trail, signer, verifier, gatewayId: 'g' });
      const underA = new Pseudonymizer({ keys: [keyA], current: 'ka' });
      const rotated = new Pseudonymizer({ keys: [keyB, keyA], current: 'kb' });
      const destroyed = new Pseudonymizer({ keys: [keyB], current: 'kb' });
      for (let i = 0; i < 3; i++) await trail.append(entry({ subject: underA.pseudonym(CITIZEN_B) }));
      for (let i = 0; i < 2; i++) await trail.append(entry({ subject: rotated.pseudonym(CITIZEN_B) }));
      await checkpointer.checkpoint();
      const search = (p: Pseudonymizer) => searchAuditTrail({ store, pseudonyms: p, verifier }, { cpr: CITIZEN_B, chain, limit: 50 });

      const both = await search(rotated);
      expect(both.results).toHaveLength(5);
      expect(both.results.every((r) => r.verification.status === 'verified')).toBe(true);
      const after = await search(destroyed);
      expect(after.results.map((r) => r.record.subject)).toEqual([rotated.pseudonym(CITIZEN_B), rotated.pseudonym(CITIZEN_B)]);
      expect(await verifySealedChain({ store, verifier }, chain)).toMatchObject({ ok: true, checked: 5 });
    });

    it('holds one lease per chain: a second instance with the same chain id is refused until the first lets go', async () => {
      const chain = freshChain('lease');
      const other = await h.open();
      try {
        const lease = await store.checkpoints.lockChain(chain);
        await expect(other.checkpoints.lockChain(chain)).rejects.toBeInstanceOf(ChainInUseError);
        const different = await other.checkpoints.lockChain(`${chain}-b`);
        await lease.release();
        const again = await other.checkpoints.lockChain(chain);
        await again.release();
        await different.release();
      } finally {
        await other.close();
      }
    });

    it('no table holds a CPR number', async () => {
      const text = await h.dump();
      expect(text.length).toBeGreaterThan(1000);
      for (const cpr of [CITIZEN_A, CITIZEN_B]) {
        expect(text).not.toContain(cpr);
        expect(text).not.toContain(`${cpr.slice(0, 6)}-${cpr.slice(6)}`);
      }
    });
  });
}

const TABLES = ['audit_record', 'audit_checkpoint', 'audit_merkle_node', 'audit_export', 'audit_retention'];

describeStore(async () => {
  const db = await sqliteDatabase('cp');
  return { ...db, dump: () => databaseText(db, TABLES) };
}, 'SQLite');

describeStore(async () => {
  const db = await postgresDatabase('cp');
  return { ...db, dump: () => databaseText(db, TABLES) };
}, 'PostgreSQL');

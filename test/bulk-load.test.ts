import { randomUUID } from 'node:crypto';
import { GENESIS, recordHash } from '../src/audit/chain.js';
import { recordId } from '../src/audit/id.js';
import type { AuditRecord } from '../src/audit/types.js';
import { verifyChain } from '../src/audit/verify.js';
import { auditEntry } from '../src/audit/entry.js';
import { postgresBulkLoader, sqliteBulkLoader, type AuditBulkLoader } from '../src/store/bulk-load.js';
import { ChainConflictError } from '../src/store/types.js';
import { DATABASES, type TestDatabase } from './support/databases.js';

/** Records placed on `chain` after (seq, hash), hashed and linked as the trail would place them. */
function records(chain: string, after: { seq: number; hash: string }, count: number, subject: string): AuditRecord[] {
  const out: AuditRecord[] = [];
  let { seq, hash } = after;
  for (let i = 0; i < count; i++) {
    seq += 1;
    const entry = auditEntry(i % 2 === 0 ? 'decision' : 'release', {
      auditId: randomUUID(),
      requestId: randomUUID(),
      caller: { system: 'sof-case-system', administration: 'SOF' },
      contract: 'employment.citizen-status.v1',
      purpose: 'plan-coordination',
      subject,
      decision: 'permit',
    });
    const unhashed = {
      ...entry,
      id: recordId(),
      chain,
      seq,
      time: new Date(Date.UTC(2026, 0, 1) + seq * 1000).toISOString(),
      prevHash: hash,
    };
    hash = recordHash(hash, unhashed);
    out.push({ ...unhashed, hash });
  }
  return out;
}

const SUBJECT = `kbulk:${'A'.repeat(43)}`;

describe.each(DATABASES)('bulk loading of audit records (%s)', (_name, make) => {
  let db: TestDatabase;
  let loader: AuditBulkLoader;

  beforeAll(async () => {
    db = await make('bulk');
    await (await db.open()).close(); // creates the schema
    loader = db.storeConfig.kind === 'sqlite' ? sqliteBulkLoader(db.storeConfig.file) : await postgresBulkLoader(db.storeConfig.url);
  });

  afterAll(async () => {
    await loader.close();
    await db.cleanup();
  });

  it('loads chained records that the store then searches and verifyChain accepts', async () => {
    const first = records('bulk-1', { seq: 0, hash: GENESIS }, 300, SUBJECT);
    const last = first[first.length - 1]!;
    await loader.load(first);
    await loader.load(records('bulk-1', { seq: last.seq, hash: last.hash }, 200, SUBJECT));
    const store = await db.open();
    const result = await verifyChain(store, 'bulk-1');
    expect(result).toMatchObject({ ok: true, checked: 500 });
    const page = await store.audit.search({ subject: SUBJECT, limit: 10 });
    expect(page.records.map((r) => r.seq)).toEqual([500, 499, 498, 497, 496, 495, 494, 493, 492, 491]);
  });

  it('refuses a batch that does not continue its chain, and writes none of it', async () => {
    const gap = records('bulk-2', { seq: 0, hash: GENESIS }, 10, SUBJECT).slice(1);
    await expect(loader.load(gap)).rejects.toBeInstanceOf(ChainConflictError);
    const store = await db.open();
    expect(await store.audit.head('bulk-2')).toBeUndefined();
  });

  it('refuses records of several chains in one batch', async () => {
    const mixed = [
      ...records('bulk-3', { seq: 0, hash: GENESIS }, 2, SUBJECT),
      ...records('bulk-4', { seq: 0, hash: GENESIS }, 2, SUBJECT),
    ];
    await expect(loader.load(mixed)).rejects.toThrow(TypeError);
  });
});

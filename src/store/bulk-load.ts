import Database from 'better-sqlite3';
import pg from 'pg';
import type { AuditRecord } from '../audit/types.js';
import { INSERT_AUDIT } from './postgres-audit-insert.js';
import { AUDIT_COLUMNS, checkContinues, parseRecord, toRow } from './rows.js';

/**
 * Bulk loading of audit records that are already placed on their chain and hashed, straight
 * into audit_record over a connection of its own: for benchmarks (bench/micro.ts builds a trail
 * of millions of records with it) and for imports. One transaction per call, and nothing but the
 * rows: the DPO rollups count them from their watermark like any appended record (the gateway's
 * catch-up pass, src/audit/rollups.ts, every few seconds and before a DPO page reads them). It
 * refuses a batch that does not continue its chain, as append does. The schema must exist (open
 * the store with openStore once first).
 *
 * @example
 * const loader = sqliteBulkLoader('data/snitflade.db');
 * await loader.load(records); // durable when resolved
 * await loader.close();
 */
export interface AuditBulkLoader {
  /** Inserts the records (all of one chain, in seq order) in one transaction. */
  load(records: readonly AuditRecord[]): Promise<void>;
  close(): Promise<void>;
}

function oneChain(records: readonly AuditRecord[]): string {
  const chain = records[0]?.chain;
  if (typeof chain !== 'string' || records.some((r) => r.chain !== chain))
    throw new TypeError('AuditBulkLoader.load: records of exactly one chain');
  return chain;
}

export function sqliteBulkLoader(file: string): AuditBulkLoader {
  const db = new Database(file, { fileMustExist: true });
  db.pragma('busy_timeout = 5000');
  db.pragma('synchronous = FULL');
  const head = db.prepare('SELECT record FROM audit_record WHERE chain = ? ORDER BY seq DESC LIMIT 1').pluck();
  const insert = db.prepare(
    `INSERT INTO audit_record (${AUDIT_COLUMNS.join(', ')}) VALUES (${AUDIT_COLUMNS.map((c) => `@${c}`).join(', ')})`,
  );
  const load = db.transaction((records: readonly AuditRecord[]) => {
    const chain = oneChain(records);
    const last = head.get(chain) as string | undefined;
    checkContinues(chain, last === undefined ? undefined : parseRecord(last), records);
    for (const r of records) insert.run(toRow(r));
  });
  return {
    async load(records) {
      if (records.length > 0) load.immediate(records);
    },
    async close() {
      db.close();
    },
  };
}

export async function postgresBulkLoader(url: string): Promise<AuditBulkLoader> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  await client.connect();
  return {
    async load(records) {
      if (records.length === 0) return;
      const chain = oneChain(records);
      const rows = records.map(toRow);
      await client.query('BEGIN');
      try {
        const { rows: last } = await client.query<{ record: string }>(
          'SELECT record FROM audit_record WHERE chain = $1 ORDER BY seq DESC LIMIT 1 FOR UPDATE',
          [chain],
        );
        checkContinues(chain, last[0] === undefined ? undefined : parseRecord(last[0].record), records);
        await client.query(
          INSERT_AUDIT,
          AUDIT_COLUMNS.map((c) => rows.map((r) => r[c])),
        );
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      }
    },
    async close() {
      await client.end();
    },
  };
}

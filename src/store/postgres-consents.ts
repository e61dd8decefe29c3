import type pg from 'pg';
import type { ConsentEventRecord, ConsentRecord } from '../consent/types.js';
import {
  MAX_CONSENTS_PER_SUBJECT,
  assembleConsents,
  checkConsentRecord,
  toConsentRow,
  toEventRow,
  type ConsentEventRow,
  type ConsentRow,
  type ConsentStore,
  type StoredConsent,
} from './consents.js';

/** A read on a pooled connection: SQL text, or a named statement (prepared once per connection). */
export type PgRead = <T extends pg.QueryResultRow>(
  query: string | { readonly name: string; readonly text: string },
  values: unknown[],
) => Promise<T[]>;
export type PgTransaction = <T>(fn: (client: pg.PoolClient) => Promise<T>) => Promise<T>;

const EVENT_COLUMNS = 'consent_id, seq, type, at, actor, audit_id, reason';
const INSERT_EVENT = `INSERT INTO consent_event (${EVENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)`;

function eventValues(r: ConsentEventRow): unknown[] {
  return [r.consent_id, r.seq, r.type, r.at, r.actor, r.audit_id, r.reason];
}

/**
 * The consent registry on PostgreSQL. Reads go to the database every time (no cache), so a
 * withdrawal committed by one gateway instance is seen by the next check on every other one.
 */
export function postgresConsents(read: PgRead, transaction: PgTransaction): ConsentStore {
  const withEvents = async (
    rows: Pick<ConsentRow, 'id' | 'state' | 'record'>[],
    events: (ids: string[]) => Promise<ConsentEventRow[]>,
  ): Promise<StoredConsent[]> => (rows.length === 0 ? [] : assembleConsents(rows, await events(rows.map((r) => r.id))));

  return {
    async add(consent: ConsentRecord, given: ConsentEventRecord) {
      checkConsentRecord(consent, given);
      const r = toConsentRow(consent);
      await transaction(async (c) => {
        await c.query(
          'INSERT INTO consent (id, subject, state, valid_from, valid_to, recorded_at, receipt_digest, record) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)',
          [r.id, r.subject, r.state, r.valid_from, r.valid_to, r.recorded_at, r.receipt_digest, r.record],
        );
        await c.query(INSERT_EVENT, eventValues(toEventRow(consent.id, 1, given)));
      });
    },
    async get(id) {
      const rows = await read<Pick<ConsentRow, 'id' | 'state' | 'record'>>('SELECT id, state, record FROM consent WHERE id = $1', [id]);
      const found = await withEvents(rows, (ids) =>
        read<ConsentEventRow>(`SELECT ${EVENT_COLUMNS} FROM consent_event WHERE consent_id = ANY($1::text[]) ORDER BY seq`, [ids]),
      );
      return found[0];
    },
    async bySubject(subjects) {
      if (subjects.length === 0) return [];
      // One statement: the consents and their events as of one snapshot.
      const rows = await read<{ id: string; state: string; record: string; events: ConsentEventRow[] | null }>(
        `SELECT c.id, c.state, c.record,
                (SELECT json_agg(json_build_object('consent_id', e.consent_id, 'seq', e.seq, 'type', e.type, 'at', e.at, 'actor', e.actor, 'audit_id', e.audit_id, 'reason', e.reason) ORDER BY e.seq)
                   FROM consent_event e WHERE e.consent_id = c.id) AS events
           FROM consent c WHERE c.subject = ANY($1::text[]) ORDER BY c.recorded_at DESC, c.id DESC LIMIT $2`,
        [[...subjects], MAX_CONSENTS_PER_SUBJECT],
      );
      return assembleConsents(
        rows,
        rows.flatMap((r) => r.events ?? []),
      );
    },
    async withdraw(id, event) {
      if (event?.type !== 'withdrawn') throw new TypeError('ConsentStore.withdraw: the event must be "withdrawn"');
      return transaction(async (c) => {
        const updated = await c.query("UPDATE consent SET state = 'withdrawn' WHERE id = $1 AND state = 'active'", [id]);
        if (updated.rowCount !== 1) {
          const exists = await c.query('SELECT 1 FROM consent WHERE id = $1', [id]);
          return exists.rowCount === 0 ? 'not-found' : 'already-withdrawn';
        }
        const { rows } = await c.query<{ seq: number | null }>('SELECT max(seq) AS seq FROM consent_event WHERE consent_id = $1', [id]);
        await c.query(INSERT_EVENT, eventValues(toEventRow(id, (rows[0]?.seq ?? 0) + 1, event)));
        return 'withdrawn';
      });
    },
  };
}

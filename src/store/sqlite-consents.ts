import type Database from 'better-sqlite3';
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

/** The consent registry on SQLite. `write` runs a function in one IMMEDIATE transaction. */
export function sqliteConsents(db: Database.Database, write: <T>(fn: () => T) => T): ConsentStore {
  const sql = {
    insert: db.prepare(
      'INSERT INTO consent (id, subject, state, valid_from, valid_to, recorded_at, receipt_digest, record) VALUES (@id, @subject, @state, @valid_from, @valid_to, @recorded_at, @receipt_digest, @record)',
    ),
    insertEvent: db.prepare(
      'INSERT INTO consent_event (consent_id, seq, type, at, actor, audit_id, reason) VALUES (@consent_id, @seq, @type, @at, @actor, @audit_id, @reason)',
    ),
    get: db.prepare('SELECT id, state, record FROM consent WHERE id = ?'),
    events: db.prepare('SELECT consent_id, seq, type, at, actor, audit_id, reason FROM consent_event WHERE consent_id = ? ORDER BY seq'),
    lastSeq: db.prepare('SELECT max(seq) FROM consent_event WHERE consent_id = ?').pluck(),
    withdraw: db.prepare("UPDATE consent SET state = 'withdrawn' WHERE id = ? AND state = 'active'"),
  };
  const eventsOf = (ids: readonly string[]): ConsentEventRow[] => ids.flatMap((id) => sql.events.all(id) as ConsentEventRow[]);

  return {
    async add(consent: ConsentRecord, given: ConsentEventRecord) {
      checkConsentRecord(consent, given);
      const row = toConsentRow(consent);
      write(() => {
        sql.insert.run(row);
        sql.insertEvent.run(toEventRow(consent.id, 1, given));
      });
    },
    async get(id) {
      const row = sql.get.get(id) as Pick<ConsentRow, 'id' | 'state' | 'record'> | undefined;
      return row === undefined ? undefined : assembleConsents([row], eventsOf([row.id]))[0];
    },
    async bySubject(subjects): Promise<StoredConsent[]> {
      if (subjects.length === 0) return [];
      // One read transaction: the consents and their events as of one moment.
      return db.transaction(() => {
        const rows = db
          .prepare(
            `SELECT id, state, record FROM consent WHERE subject IN (${subjects.map(() => '?').join(', ')}) ORDER BY recorded_at DESC, id DESC LIMIT ?`,
          )
          .all(...subjects, MAX_CONSENTS_PER_SUBJECT) as Pick<ConsentRow, 'id' | 'state' | 'record'>[];
        return assembleConsents(rows, eventsOf(rows.map((r) => r.id)));
      })();
    },
    async withdraw(id, event) {
      if (event?.type !== 'withdrawn') throw new TypeError('ConsentStore.withdraw: the event must be "withdrawn"');
      return write(() => {
        if (sql.withdraw.run(id).changes === 0) return sql.get.get(id) === undefined ? 'not-found' : 'already-withdrawn';
        const seq = ((sql.lastSeq.get(id) as number | null) ?? 0) + 1;
        sql.insertEvent.run(toEventRow(id, seq, event));
        return 'withdrawn';
      });
    },
  };
}

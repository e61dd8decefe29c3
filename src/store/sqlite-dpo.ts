import type Database from 'better-sqlite3';
import type {
  CaseworkerActivity,
  ConsentPermit,
  ConsentRecording,
  ConsentUse,
  ConsentWithdrawal,
  DayRange,
  DpoSession,
  DpoStore,
  KeyCount,
  OffHoursLookup,
  RollupBatch,
  SavedSearch,
  SystemCitizensDay,
} from './dpo-types.js';
import { parseRecord } from './rows.js';

const DIMENSION_COLUMNS = { callerSystem: 'caller_system', contract: 'contract', purpose: 'purpose' } as const;

/** Most values bound in one IN (...) list. */
const IN_CHUNK = 500;

interface SessionRow {
  id_hash: string;
  client_id: string;
  fingerprint: string;
  csrf: string;
  lang: string;
  created_at: number;
  last_seen_at: number;
}

function toSession(r: SessionRow): DpoSession {
  return {
    idHash: r.id_hash,
    clientId: r.client_id,
    fingerprint: r.fingerprint,
    csrf: r.csrf,
    lang: r.lang === 'en' ? 'en' : 'da',
    createdAt: r.created_at,
    lastSeenAt: r.last_seen_at,
  };
}

export interface SqliteDpo {
  readonly dpo: DpoStore;
}

/**
 * The DPO store on the embedded SQLite database. `write` runs a function in an IMMEDIATE
 * transaction of the owning store (and counts the commit).
 */
export function sqliteDpo(db: Database.Database, write: <T>(fn: () => T) => T): SqliteDpo {
  const sql = {
    watermark: db.prepare('SELECT seq FROM dpo_rollup_state WHERE chain = ?').pluck(),
    watermarks: db.prepare('SELECT chain, seq FROM dpo_rollup_state'),
    setWatermark: db.prepare(
      'INSERT INTO dpo_rollup_state (chain, seq) VALUES (?, ?) ON CONFLICT (chain) DO UPDATE SET seq = excluded.seq',
    ),
    traffic: db.prepare(
      'INSERT INTO dpo_daily_traffic (day, caller_system, contract, purpose, requests, refused) VALUES (@day, @callerSystem, @contract, @purpose, @requests, @refused) ' +
        'ON CONFLICT (day, caller_system, contract, purpose) DO UPDATE SET requests = requests + excluded.requests, refused = refused + excluded.refused',
    ),
    reason: db.prepare(
      'INSERT INTO dpo_daily_reason (day, caller_system, reason, n) VALUES (@day, @callerSystem, @reason, @n) ' +
        'ON CONFLICT (day, caller_system, reason) DO UPDATE SET n = n + excluded.n',
    ),
    caseworker: db.prepare(
      'INSERT INTO dpo_daily_caseworker (day, caller_system, caseworker, requests, refused, off_hours, asked, asked_withheld) ' +
        'VALUES (@day, @callerSystem, @caseworker, @requests, @refused, @offHours, @asked, @askedWithheld) ' +
        'ON CONFLICT (day, caller_system, caseworker) DO UPDATE SET requests = requests + excluded.requests, refused = refused + excluded.refused, ' +
        'off_hours = off_hours + excluded.off_hours, asked = asked + excluded.asked, asked_withheld = asked_withheld + excluded.asked_withheld',
    ),
    citizen: db.prepare(
      'INSERT INTO dpo_daily_citizen (day, caller_system, caseworker, subject) VALUES (@day, @callerSystem, @caseworker, @subject) ON CONFLICT DO NOTHING',
    ),
    withheld: db.prepare(
      'INSERT INTO dpo_daily_withheld (day, caller_system, contract, field, n) VALUES (@day, @callerSystem, @contract, @field, @n) ' +
        'ON CONFLICT (day, caller_system, contract, field) DO UPDATE SET n = n + excluded.n',
    ),
    offHours: db.prepare(
      'INSERT INTO dpo_off_hours (record_id, time, caller_system, caseworker) VALUES (@recordId, @time, @callerSystem, @caseworker) ON CONFLICT DO NOTHING',
    ),
    consentUse: db.prepare(
      'INSERT INTO dpo_consent_use (consent, record_id, time, caller_system, contract) VALUES (@consent, @recordId, @time, @callerSystem, @contract) ON CONFLICT DO NOTHING',
    ),
    withdrawal: db.prepare(
      'INSERT INTO dpo_consent_withdrawal (consent, record_id, time, subject) VALUES (@consent, @recordId, @time, @subject) ON CONFLICT DO NOTHING',
    ),
    recording: db.prepare(
      'INSERT INTO dpo_consent_recorded (consent, record_id, time, subject, caller_system, administration, caseworker, level, backdated, representative) ' +
        'VALUES (@consent, @recordId, @time, @subject, @callerSystem, @administration, @caseworker, @level, @backdated, @representative) ON CONFLICT DO NOTHING',
    ),
    permit: db.prepare(
      'INSERT INTO dpo_consent_permit (consent, record_id, audit_id, time, kind, recipient_system, recipient_administration, contract) ' +
        'VALUES (@consent, @recordId, @auditId, @time, @kind, @recipientSystem, @recipientAdministration, @contract) ON CONFLICT DO NOTHING',
    ),
    recordingsIn: db.prepare(
      'SELECT consent, record_id AS recordId, time, subject, caller_system AS callerSystem, administration, caseworker, level, backdated, representative ' +
        'FROM dpo_consent_recorded WHERE time >= @from AND time < @to AND (@level IS NULL OR level = @level) AND (@backdated IS NULL OR backdated = @backdated) ' +
        'ORDER BY time DESC, consent LIMIT @limit',
    ),
    withdrawalsIn: db.prepare(
      'SELECT consent, record_id AS recordId, time, subject FROM dpo_consent_withdrawal WHERE time >= ? AND time < ? ORDER BY time DESC LIMIT ?',
    ),
    byDay: db.prepare(
      'SELECT day, SUM(requests) AS requests, SUM(refused) AS refused FROM dpo_daily_traffic WHERE day >= ? AND day <= ? GROUP BY day ORDER BY day',
    ),
    reasons: db.prepare(
      'SELECT caller_system AS callerSystem, reason, SUM(n) AS n FROM dpo_daily_reason WHERE day >= ? AND day <= ? GROUP BY caller_system, reason ORDER BY n DESC, caller_system, reason',
    ),
    caseworkers: db.prepare(
      'SELECT caller_system AS callerSystem, caseworker, SUM(requests) AS requests, SUM(refused) AS refused, SUM(off_hours) AS offHours, ' +
        'SUM(asked) AS asked, SUM(asked_withheld) AS askedWithheld FROM dpo_daily_caseworker WHERE day >= ? AND day <= ? GROUP BY caller_system, caseworker',
    ),
    citizens: db.prepare(
      'SELECT caller_system AS callerSystem, caseworker, COUNT(DISTINCT subject) AS citizens FROM dpo_daily_citizen WHERE day >= ? AND day <= ? GROUP BY caller_system, caseworker',
    ),
    systemCitizens: db.prepare(
      'SELECT caller_system AS callerSystem, day, COUNT(DISTINCT subject) AS citizens, COUNT(DISTINCT caseworker) AS caseworkers FROM dpo_daily_citizen WHERE day >= ? AND day <= ? GROUP BY caller_system, day ORDER BY caller_system, day',
    ),
    withheldBy: db.prepare(
      'SELECT caller_system AS callerSystem, contract, field, SUM(n) AS n FROM dpo_daily_withheld WHERE day >= ? AND day <= ? GROUP BY caller_system, contract, field ORDER BY n DESC, caller_system, contract, field',
    ),
    offHoursIn: db.prepare(
      'SELECT record_id AS recordId, time, caller_system AS callerSystem, caseworker FROM dpo_off_hours WHERE time >= ? AND time < ? ORDER BY time DESC LIMIT ?',
    ),
    record: db.prepare('SELECT record FROM audit_record WHERE id = ?').pluck(),
    createSession: db.prepare(
      'INSERT INTO dpo_session (id_hash, client_id, fingerprint, csrf, lang, created_at, last_seen_at) VALUES (@idHash, @clientId, @fingerprint, @csrf, @lang, @createdAt, @lastSeenAt)',
    ),
    session: db.prepare('SELECT * FROM dpo_session WHERE id_hash = ?'),
    touch: db.prepare('UPDATE dpo_session SET last_seen_at = ?, lang = coalesce(?, lang) WHERE id_hash = ?'),
    deleteSession: db.prepare('DELETE FROM dpo_session WHERE id_hash = ?'),
    deleteSearches: db.prepare('DELETE FROM dpo_search WHERE session_hash = ?'),
    pruneSessions: db.prepare('DELETE FROM dpo_session WHERE last_seen_at < ? OR created_at < ?'),
    pruneSearches: db.prepare('DELETE FROM dpo_search WHERE session_hash NOT IN (SELECT id_hash FROM dpo_session)'),
    saveSearch: db.prepare('INSERT INTO dpo_search (id, session_hash, created_at, query) VALUES (@id, @sessionHash, @createdAt, @query)'),
    savedSearch: db.prepare(
      'SELECT id, session_hash AS sessionHash, created_at AS createdAt, query FROM dpo_search WHERE id = ? AND session_hash = ?',
    ),
  };
  const byDimension = Object.fromEntries(
    Object.entries(DIMENSION_COLUMNS).map(([dim, col]) => [
      dim,
      db.prepare(
        `SELECT ${col} AS key, SUM(requests) AS requests, SUM(refused) AS refused FROM dpo_daily_traffic WHERE day >= ? AND day <= ? GROUP BY ${col} ORDER BY requests DESC, ${col}`,
      ),
    ]),
  ) as Record<keyof typeof DIMENSION_COLUMNS, Database.Statement>;

  /**
   * Applies a batch if the chain is still counted up to batch.afterSeq (compare-and-set); the
   * caller holds the write transaction (IMMEDIATE: no other connection writes meanwhile).
   */
  const apply = (batch: RollupBatch): boolean => {
    const current = (sql.watermark.get(batch.chain) as number | undefined) ?? 0;
    if (current !== batch.afterSeq) return false;
    for (const row of batch.traffic) sql.traffic.run(row);
    for (const row of batch.reasons) sql.reason.run(row);
    for (const row of batch.caseworkers) sql.caseworker.run(row);
    for (const row of batch.citizens) sql.citizen.run(row);
    for (const row of batch.withheld) sql.withheld.run(row);
    for (const row of batch.offHours) sql.offHours.run(row);
    for (const row of batch.consentUses) sql.consentUse.run(row);
    for (const row of batch.withdrawals) sql.withdrawal.run(row);
    for (const row of batch.consentRecordings)
      sql.recording.run({ ...row, backdated: row.backdated ? 1 : 0, representative: row.representative ? 1 : 0 });
    for (const row of batch.consentPermits) sql.permit.run(row);
    sql.setWatermark.run(batch.chain, batch.throughSeq);
    return true;
  };
  const range = (r: DayRange): [string, string] => [r.fromDay, r.toDay];

  const dpo: DpoStore = {
    async rollupWatermarks() {
      return new Map((sql.watermarks.all() as { chain: string; seq: number }[]).map((r) => [r.chain, r.seq]));
    },
    async addToRollups(batch) {
      return write(() => apply(batch));
    },
    async trafficByDay(r) {
      return sql.byDay.all(...range(r)) as { day: string; requests: number; refused: number }[];
    },
    async trafficBy(dimension, r) {
      const stmt = byDimension[dimension];
      if (stmt === undefined) throw new TypeError('DpoStore.trafficBy: unknown dimension');
      return stmt.all(...range(r)) as KeyCount[];
    },
    async reasons(r) {
      return sql.reasons.all(...range(r)) as { callerSystem: string; reason: string; n: number }[];
    },
    async caseworkers(r) {
      const rows = sql.caseworkers.all(...range(r)) as Omit<CaseworkerActivity, 'citizens'>[];
      const citizens = new Map(
        (sql.citizens.all(...range(r)) as { callerSystem: string; caseworker: string; citizens: number }[]).map((c) => [
          `${c.callerSystem}\u0000${c.caseworker}`,
          c.citizens,
        ]),
      );
      return rows.map((row) => ({ ...row, citizens: citizens.get(`${row.callerSystem}\u0000${row.caseworker}`) ?? 0 }));
    },
    async systemCitizens(r) {
      return sql.systemCitizens.all(...range(r)) as SystemCitizensDay[];
    },
    async withheld(r) {
      return sql.withheldBy.all(...range(r)) as { callerSystem: string; contract: string; field: string; n: number }[];
    },
    async offHours(from, to, limit) {
      return sql.offHoursIn.all(from, to, limit) as OffHoursLookup[];
    },
    async consentUses(consents, limit) {
      const out: ConsentUse[] = [];
      for (let i = 0; i < consents.length; i += IN_CHUNK) {
        const chunk = consents.slice(i, i + IN_CHUNK);
        const stmt = db.prepare(
          `SELECT consent, record_id AS recordId, time, caller_system AS callerSystem, contract FROM dpo_consent_use WHERE consent IN (${chunk.map(() => '?').join(', ')}) ORDER BY time DESC LIMIT ?`,
        );
        out.push(...(stmt.all(...chunk, limit) as ConsentUse[]));
      }
      return out.sort((a, b) => (a.time < b.time ? 1 : a.time > b.time ? -1 : 0)).slice(0, limit);
    },
    async consentWithdrawals(from, to, limit) {
      return sql.withdrawalsIn.all(from, to, limit) as ConsentWithdrawal[];
    },
    async consentRecordings(q) {
      const rows = sql.recordingsIn.all({
        from: q.from,
        to: q.to,
        level: q.level ?? null,
        backdated: q.backdated === true ? 1 : null,
        limit: q.limit,
      }) as (Omit<ConsentRecording, 'backdated' | 'representative'> & { backdated: number; representative: number })[];
      return rows.map((r) => ({ ...r, backdated: r.backdated === 1, representative: r.representative === 1 }));
    },
    async consentPermits(consents, from, to, limit) {
      const out: ConsentPermit[] = [];
      for (let i = 0; i < consents.length; i += IN_CHUNK) {
        const chunk = consents.slice(i, i + IN_CHUNK);
        const stmt = db.prepare(
          'SELECT consent, record_id AS recordId, audit_id AS auditId, time, kind, recipient_system AS recipientSystem, ' +
            `recipient_administration AS recipientAdministration, contract FROM dpo_consent_permit WHERE consent IN (${chunk.map(() => '?').join(', ')}) ` +
            'AND time >= ? AND time < ? ORDER BY time DESC LIMIT ?',
        );
        out.push(...(stmt.all(...chunk, from, to, limit) as ConsentPermit[]));
      }
      return out.sort((a, b) => (a.time < b.time ? 1 : a.time > b.time ? -1 : 0)).slice(0, limit);
    },
    async record(id) {
      const json = sql.record.get(id) as string | undefined;
      return json === undefined ? undefined : parseRecord(json);
    },
    async createSession(session) {
      write(() => sql.createSession.run(session));
    },
    async session(idHash) {
      const row = sql.session.get(idHash) as SessionRow | undefined;
      return row === undefined ? undefined : toSession(row);
    },
    async touchSession(idHash, at, lang) {
      write(() => sql.touch.run(at, lang ?? null, idHash));
    },
    async deleteSession(idHash) {
      write(() => {
        sql.deleteSession.run(idHash);
        sql.deleteSearches.run(idHash);
      });
    },
    async pruneSessions(idleBefore, createdBefore) {
      return write(() => {
        const n = sql.pruneSessions.run(idleBefore, createdBefore).changes;
        sql.pruneSearches.run();
        return n;
      });
    },
    async saveSearch(search) {
      write(() => sql.saveSearch.run(search));
    },
    async savedSearch(id, sessionHash) {
      return sql.savedSearch.get(id, sessionHash) as SavedSearch | undefined;
    },
  };

  return { dpo };
}

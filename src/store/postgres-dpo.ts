import type pg from 'pg';
import type { DpoSession, DpoStore, RollupBatch, SavedSearch } from './dpo-types.js';
import { parseRecord } from './rows.js';

const DIMENSION_COLUMNS = { callerSystem: 'caller_system', contract: 'contract', purpose: 'purpose' } as const;

/** Reads of the rollups: pg returns SUM(bigint) and COUNT as text. */
const num = (v: unknown): number => Number(v ?? 0);

/**
 * One statement adds a whole batch: each rollup table gets one INSERT ... SELECT FROM unnest
 * (one array parameter per column) with ON CONFLICT adding to the existing counts, and the
 * watermark moves, in data-modifying CTEs. The batch is summed per key beforehand, so no
 * statement touches the same row twice.
 */
const APPLY = `WITH
  t AS (INSERT INTO dpo_daily_traffic (day, caller_system, contract, purpose, requests, refused)
        SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[])
        ON CONFLICT (day, caller_system, contract, purpose) DO UPDATE
        SET requests = dpo_daily_traffic.requests + EXCLUDED.requests, refused = dpo_daily_traffic.refused + EXCLUDED.refused),
  r AS (INSERT INTO dpo_daily_reason (day, caller_system, reason, n)
        SELECT * FROM unnest($7::text[], $8::text[], $9::text[], $10::bigint[])
        ON CONFLICT (day, caller_system, reason) DO UPDATE SET n = dpo_daily_reason.n + EXCLUDED.n),
  w AS (INSERT INTO dpo_daily_caseworker (day, caller_system, caseworker, requests, refused, off_hours, asked, asked_withheld)
        SELECT * FROM unnest($11::text[], $12::text[], $13::text[], $14::bigint[], $15::bigint[], $16::bigint[], $17::bigint[], $18::bigint[])
        ON CONFLICT (day, caller_system, caseworker) DO UPDATE
        SET requests = dpo_daily_caseworker.requests + EXCLUDED.requests, refused = dpo_daily_caseworker.refused + EXCLUDED.refused,
            off_hours = dpo_daily_caseworker.off_hours + EXCLUDED.off_hours, asked = dpo_daily_caseworker.asked + EXCLUDED.asked,
            asked_withheld = dpo_daily_caseworker.asked_withheld + EXCLUDED.asked_withheld),
  c AS (INSERT INTO dpo_daily_citizen (day, caller_system, caseworker, subject)
        SELECT * FROM unnest($19::text[], $20::text[], $21::text[], $22::text[]) ON CONFLICT DO NOTHING),
  h AS (INSERT INTO dpo_daily_withheld (day, caller_system, contract, field, n)
        SELECT * FROM unnest($23::text[], $24::text[], $25::text[], $26::text[], $27::bigint[])
        ON CONFLICT (day, caller_system, contract, field) DO UPDATE SET n = dpo_daily_withheld.n + EXCLUDED.n),
  o AS (INSERT INTO dpo_off_hours (record_id, time, caller_system, caseworker)
        SELECT * FROM unnest($28::text[], $29::text[], $30::text[], $31::text[]) ON CONFLICT DO NOTHING),
  u AS (INSERT INTO dpo_consent_use (consent, record_id, time, caller_system, contract)
        SELECT * FROM unnest($32::text[], $33::text[], $34::text[], $35::text[], $36::text[]) ON CONFLICT DO NOTHING),
  x AS (INSERT INTO dpo_consent_withdrawal (consent, record_id, time, subject)
        SELECT * FROM unnest($37::text[], $38::text[], $39::text[], $40::text[]) ON CONFLICT DO NOTHING),
  g AS (INSERT INTO dpo_consent_recorded (consent, record_id, time, subject, caller_system, administration, caseworker, level, backdated, representative)
        SELECT * FROM unnest($43::text[], $44::text[], $45::text[], $46::text[], $47::text[], $48::text[], $49::text[], $50::text[], $51::int[], $52::int[])
        ON CONFLICT DO NOTHING),
  p AS (INSERT INTO dpo_consent_permit (consent, record_id, audit_id, time, kind, recipient_system, recipient_administration, contract)
        SELECT * FROM unnest($53::text[], $54::text[], $55::text[], $56::text[], $57::text[], $58::text[], $59::text[], $60::text[])
        ON CONFLICT DO NOTHING)
UPDATE dpo_rollup_state SET seq = $42 WHERE chain = $41`;

/** Locks the chain's watermark row (creating it at 0) and returns the watermark. */
const LOCK_WATERMARK =
  'INSERT INTO dpo_rollup_state (chain, seq) VALUES ($1, 0) ON CONFLICT (chain) DO UPDATE SET seq = dpo_rollup_state.seq RETURNING seq';

function applyParams(b: RollupBatch): unknown[] {
  const cols = <T>(rows: readonly T[], ...keys: (keyof T)[]): unknown[][] => keys.map((k) => rows.map((r) => r[k]));
  return [
    ...cols(b.traffic, 'day', 'callerSystem', 'contract', 'purpose', 'requests', 'refused'),
    ...cols(b.reasons, 'day', 'callerSystem', 'reason', 'n'),
    ...cols(b.caseworkers, 'day', 'callerSystem', 'caseworker', 'requests', 'refused', 'offHours', 'asked', 'askedWithheld'),
    ...cols(b.citizens, 'day', 'callerSystem', 'caseworker', 'subject'),
    ...cols(b.withheld, 'day', 'callerSystem', 'contract', 'field', 'n'),
    ...cols(b.offHours, 'recordId', 'time', 'callerSystem', 'caseworker'),
    ...cols(b.consentUses, 'consent', 'recordId', 'time', 'callerSystem', 'contract'),
    ...cols(b.withdrawals, 'consent', 'recordId', 'time', 'subject'),
    b.chain,
    b.throughSeq,
    ...cols(
      b.consentRecordings.map((r) => ({ ...r, backdated: r.backdated ? 1 : 0, representative: r.representative ? 1 : 0 })),
      'consent',
      'recordId',
      'time',
      'subject',
      'callerSystem',
      'administration',
      'caseworker',
      'level',
      'backdated',
      'representative',
    ),
    ...cols(b.consentPermits, 'consent', 'recordId', 'auditId', 'time', 'kind', 'recipientSystem', 'recipientAdministration', 'contract'),
  ];
}

/**
 * Compare-and-set: the watermark row is locked first (a concurrent catch-up of the same chain, in
 * this process or another instance, waits here until this transaction ends, then reads the
 * watermark this one left), so a batch is added only if the chain is still counted up to
 * batch.afterSeq, and never twice.
 */
async function apply(c: pg.PoolClient, batch: RollupBatch): Promise<boolean> {
  const { rows } = await c.query<{ seq: string }>(LOCK_WATERMARK, [batch.chain]);
  if (num(rows[0]?.seq) !== batch.afterSeq) return false;
  await c.query(APPLY, applyParams(batch));
  return true;
}

export interface PostgresDpo {
  readonly dpo: DpoStore;
}

/**
 * The DPO store on PostgreSQL. `read` runs one statement on a pooled connection; `transaction`
 * runs a function in a transaction of the owning store (and counts the commit).
 */
export function postgresDpo(
  read: <T extends pg.QueryResultRow>(text: string, values: unknown[]) => Promise<T[]>,
  transaction: <T>(fn: (client: pg.PoolClient) => Promise<T>) => Promise<T>,
): PostgresDpo {
  const dpo: DpoStore = {
    async rollupWatermarks() {
      const rows = await read<{ chain: string; seq: string }>('SELECT chain, seq FROM dpo_rollup_state', []);
      return new Map(rows.map((r) => [r.chain, num(r.seq)]));
    },
    addToRollups: (batch) => transaction((c) => apply(c, batch)),
    async trafficByDay(r) {
      const rows = await read<{ day: string; requests: string; refused: string }>(
        'SELECT day, SUM(requests) AS requests, SUM(refused) AS refused FROM dpo_daily_traffic WHERE day >= $1 AND day <= $2 GROUP BY day ORDER BY day',
        [r.fromDay, r.toDay],
      );
      return rows.map((x) => ({ day: x.day, requests: num(x.requests), refused: num(x.refused) }));
    },
    async trafficBy(dimension, r) {
      const col = DIMENSION_COLUMNS[dimension];
      if (col === undefined) throw new TypeError('DpoStore.trafficBy: unknown dimension');
      const rows = await read<{ key: string; requests: string; refused: string }>(
        `SELECT ${col} AS key, SUM(requests) AS requests, SUM(refused) AS refused FROM dpo_daily_traffic WHERE day >= $1 AND day <= $2 GROUP BY ${col} ORDER BY SUM(requests) DESC, ${col}`,
        [r.fromDay, r.toDay],
      );
      return rows.map((x) => ({ key: x.key, requests: num(x.requests), refused: num(x.refused) }));
    },
    async reasons(r) {
      const rows = await read<{ caller_system: string; reason: string; n: string }>(
        'SELECT caller_system, reason, SUM(n) AS n FROM dpo_daily_reason WHERE day >= $1 AND day <= $2 GROUP BY caller_system, reason ORDER BY SUM(n) DESC, caller_system, reason',
        [r.fromDay, r.toDay],
      );
      return rows.map((x) => ({ callerSystem: x.caller_system, reason: x.reason, n: num(x.n) }));
    },
    async systemCitizens(r) {
      const rows = await read<{ caller_system: string; day: string; citizens: string; caseworkers: string }>(
        'SELECT caller_system, day, COUNT(DISTINCT subject) AS citizens, COUNT(DISTINCT caseworker) AS caseworkers FROM dpo_daily_citizen WHERE day >= $1 AND day <= $2 GROUP BY caller_system, day ORDER BY caller_system, day',
        [r.fromDay, r.toDay],
      );
      return rows.map((x) => ({
        callerSystem: x.caller_system,
        day: String(x.day),
        citizens: num(x.citizens),
        caseworkers: num(x.caseworkers),
      }));
    },
    async caseworkers(r) {
      const [rows, citizens] = await Promise.all([
        read<Record<string, string>>(
          'SELECT caller_system, caseworker, SUM(requests) AS requests, SUM(refused) AS refused, SUM(off_hours) AS off_hours, SUM(asked) AS asked, ' +
            'SUM(asked_withheld) AS asked_withheld FROM dpo_daily_caseworker WHERE day >= $1 AND day <= $2 GROUP BY caller_system, caseworker',
          [r.fromDay, r.toDay],
        ),
        read<{ caller_system: string; caseworker: string; citizens: string }>(
          'SELECT caller_system, caseworker, COUNT(DISTINCT subject) AS citizens FROM dpo_daily_citizen WHERE day >= $1 AND day <= $2 GROUP BY caller_system, caseworker',
          [r.fromDay, r.toDay],
        ),
      ]);
      const distinct = new Map(citizens.map((c) => [`${c.caller_system}\u0000${c.caseworker}`, num(c.citizens)]));
      return rows.map((x) => ({
        callerSystem: x.caller_system as string,
        caseworker: x.caseworker as string,
        requests: num(x.requests),
        refused: num(x.refused),
        offHours: num(x.off_hours),
        asked: num(x.asked),
        askedWithheld: num(x.asked_withheld),
        citizens: distinct.get(`${x.caller_system}\u0000${x.caseworker}`) ?? 0,
      }));
    },
    async withheld(r) {
      const rows = await read<{ caller_system: string; contract: string; field: string; n: string }>(
        'SELECT caller_system, contract, field, SUM(n) AS n FROM dpo_daily_withheld WHERE day >= $1 AND day <= $2 GROUP BY caller_system, contract, field ORDER BY SUM(n) DESC, caller_system, contract, field',
        [r.fromDay, r.toDay],
      );
      return rows.map((x) => ({ callerSystem: x.caller_system, contract: x.contract, field: x.field, n: num(x.n) }));
    },
    async offHours(from, to, limit) {
      const rows = await read<{ record_id: string; time: string; caller_system: string; caseworker: string }>(
        'SELECT record_id, time, caller_system, caseworker FROM dpo_off_hours WHERE time >= $1 AND time < $2 ORDER BY time DESC LIMIT $3',
        [from, to, limit],
      );
      return rows.map((x) => ({ recordId: x.record_id, time: x.time, callerSystem: x.caller_system, caseworker: x.caseworker }));
    },
    async consentUses(consents, limit) {
      if (consents.length === 0) return [];
      const rows = await read<{ consent: string; record_id: string; time: string; caller_system: string; contract: string }>(
        'SELECT consent, record_id, time, caller_system, contract FROM dpo_consent_use WHERE consent = ANY($1::text[]) ORDER BY time DESC LIMIT $2',
        [[...consents], limit],
      );
      return rows.map((x) => ({
        consent: x.consent,
        recordId: x.record_id,
        time: x.time,
        callerSystem: x.caller_system,
        contract: x.contract,
      }));
    },
    async consentWithdrawals(from, to, limit) {
      const rows = await read<{ consent: string; record_id: string; time: string; subject: string }>(
        'SELECT consent, record_id, time, subject FROM dpo_consent_withdrawal WHERE time >= $1 AND time < $2 ORDER BY time DESC LIMIT $3',
        [from, to, limit],
      );
      return rows.map((x) => ({ consent: x.consent, recordId: x.record_id, time: x.time, subject: x.subject }));
    },
    async consentRecordings(q) {
      const rows = await read<{
        consent: string;
        record_id: string;
        time: string;
        subject: string;
        caller_system: string;
        administration: string;
        caseworker: string;
        level: string;
        backdated: number;
        representative: number;
      }>(
        'SELECT consent, record_id, time, subject, caller_system, administration, caseworker, level, backdated, representative FROM dpo_consent_recorded ' +
          'WHERE time >= $1 AND time < $2 AND ($3::text IS NULL OR level = $3) AND ($4::int IS NULL OR backdated = $4) ORDER BY time DESC, consent LIMIT $5',
        [q.from, q.to, q.level ?? null, q.backdated === true ? 1 : null, q.limit],
      );
      return rows.map((x) => ({
        consent: x.consent,
        recordId: x.record_id,
        time: x.time,
        subject: x.subject,
        callerSystem: x.caller_system,
        administration: x.administration,
        caseworker: x.caseworker,
        level: x.level === 'citizen-signed' ? 'citizen-signed' : 'recorded-by-caseworker',
        backdated: x.backdated === 1,
        representative: x.representative === 1,
      }));
    },
    async consentPermits(consents, from, to, limit) {
      if (consents.length === 0) return [];
      const rows = await read<{
        consent: string;
        record_id: string;
        audit_id: string;
        time: string;
        kind: string;
        recipient_system: string;
        recipient_administration: string;
        contract: string;
      }>(
        'SELECT consent, record_id, audit_id, time, kind, recipient_system, recipient_administration, contract FROM dpo_consent_permit ' +
          'WHERE consent = ANY($1::text[]) AND time >= $2 AND time < $3 ORDER BY time DESC LIMIT $4',
        [[...consents], from, to, limit],
      );
      return rows.map((x) => ({
        consent: x.consent,
        recordId: x.record_id,
        auditId: x.audit_id,
        time: x.time,
        kind: x.kind === 'notification' ? 'notification' : 'decision',
        recipientSystem: x.recipient_system,
        recipientAdministration: x.recipient_administration,
        contract: x.contract,
      }));
    },
    async record(id) {
      const rows = await read<{ record: string }>('SELECT record FROM audit_record WHERE id = $1', [id]);
      return rows[0] === undefined ? undefined : parseRecord(rows[0].record);
    },
    async createSession(s) {
      await transaction((c) =>
        c.query(
          'INSERT INTO dpo_session (id_hash, client_id, fingerprint, csrf, lang, created_at, last_seen_at) VALUES ($1, $2, $3, $4, $5, $6, $7)',
          [s.idHash, s.clientId, s.fingerprint, s.csrf, s.lang, s.createdAt, s.lastSeenAt],
        ),
      );
    },
    async session(idHash) {
      const rows = await read<{
        id_hash: string;
        client_id: string;
        fingerprint: string;
        csrf: string;
        lang: string;
        created_at: string;
        last_seen_at: string;
      }>('SELECT * FROM dpo_session WHERE id_hash = $1', [idHash]);
      const r = rows[0];
      if (r === undefined) return undefined;
      const session: DpoSession = {
        idHash: r.id_hash,
        clientId: r.client_id,
        fingerprint: r.fingerprint,
        csrf: r.csrf,
        lang: r.lang === 'en' ? 'en' : 'da',
        createdAt: num(r.created_at),
        lastSeenAt: num(r.last_seen_at),
      };
      return session;
    },
    async touchSession(idHash, at, lang) {
      await transaction((c) =>
        c.query('UPDATE dpo_session SET last_seen_at = $1, lang = coalesce($2, lang) WHERE id_hash = $3', [at, lang ?? null, idHash]),
      );
    },
    async deleteSession(idHash) {
      await transaction(async (c) => {
        await c.query('DELETE FROM dpo_session WHERE id_hash = $1', [idHash]);
        await c.query('DELETE FROM dpo_search WHERE session_hash = $1', [idHash]);
      });
    },
    async pruneSessions(idleBefore, createdBefore) {
      return transaction(async (c) => {
        const { rowCount } = await c.query('DELETE FROM dpo_session WHERE last_seen_at < $1 OR created_at < $2', [
          idleBefore,
          createdBefore,
        ]);
        await c.query('DELETE FROM dpo_search s WHERE NOT EXISTS (SELECT 1 FROM dpo_session WHERE id_hash = s.session_hash)');
        return rowCount ?? 0;
      });
    },
    async saveSearch(s) {
      await transaction((c) =>
        c.query('INSERT INTO dpo_search (id, session_hash, created_at, query) VALUES ($1, $2, $3, $4)', [
          s.id,
          s.sessionHash,
          s.createdAt,
          s.query,
        ]),
      );
    },
    async savedSearch(id, sessionHash) {
      const rows = await read<{ id: string; session_hash: string; created_at: string; query: string }>(
        'SELECT id, session_hash, created_at, query FROM dpo_search WHERE id = $1 AND session_hash = $2',
        [id, sessionHash],
      );
      const r = rows[0];
      const search: SavedSearch | undefined =
        r === undefined ? undefined : { id: r.id, sessionHash: r.session_hash, createdAt: num(r.created_at), query: r.query };
      return search;
    },
  };

  return { dpo };
}

import { createHash } from 'node:crypto';
import pg from 'pg';
import {
  ChainInUseError,
  ChainLeaseLostError,
  leaseMovedOn,
  CheckpointConflictError,
  ErasureConflictError,
  RETENTION_LEASE,
  RetentionInUseError,
  checkCheckpoint,
  checkErasures,
  fromCheckpointRow,
  fromErasureRow,
  fromExportRow,
  fromRetentionRow,
  type AuditCheckpointStore,
  type ChainFence,
  type ChainLease,
  type CheckpointRow,
  type ErasureRow,
  type ExportRow,
  type RetentionRow,
} from './audit-checkpoints.js';
import { ERASE_AUDIT } from './postgres-audit-insert.js';
import { AUDIT_COLUMNS, parseRecord, toRow } from './rows.js';

/** The advisory lock key of a chain: 64 bits of SHA-256, so different chain ids do not collide in practice. */
export function chainLockKey(chain: string): string {
  const digest = createHash('sha256').update(`snitflade-chain\n${chain}`).digest();
  return BigInt.asIntN(64, digest.readBigUInt64BE(0)).toString();
}

/**
 * The start-up options of every connection the PostgreSQL store opens (its pool, the chain
 * lease): synchronous commit on for the session, which outranks the server's configuration
 * file, ALTER SYSTEM, ALTER DATABASE and ALTER ROLE defaults, so that no setting changed while
 * the gateway runs can make its commits asynchronous.
 */
export const DURABLE_SESSION = '-c synchronous_commit=on';

/**
 * The checkpoint store on the shared PostgreSQL database. Writes run in their own transaction
 * on the store's pool, whose connections commit synchronously (DURABLE_SESSION), so a
 * checkpoint is durable when `add` resolves.
 */
export function postgresCheckpointStore(pool: pg.Pool, url: string): AuditCheckpointStore {
  const read = async <T extends pg.QueryResultRow>(text: string, values: unknown[]): Promise<T[]> =>
    (await pool.query<T>(text, values)).rows;
  const tx = async <T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> => {
    const c = await pool.connect();
    let broken: Error | undefined;
    const onError = (err: Error): void => {
      broken = err;
    };
    c.on('error', onError);
    try {
      await c.query('BEGIN');
      try {
        const value = await fn(c);
        await c.query('COMMIT');
        return value;
      } catch (err) {
        await c.query('ROLLBACK').catch((rollbackErr: unknown) => {
          broken ??= rollbackErr instanceof Error ? rollbackErr : new Error(String(rollbackErr));
        });
        if (
          !(err instanceof pg.DatabaseError) &&
          !(err instanceof CheckpointConflictError) &&
          !(err instanceof ChainLeaseLostError) &&
          !(err instanceof ErasureConflictError)
        )
          broken ??= err instanceof Error ? err : new Error(String(err));
        throw err;
      }
    } finally {
      c.removeListener('error', onError);
      c.release(broken);
    }
  };
  const one = (rows: CheckpointRow[]) => (rows[0] === undefined ? undefined : fromCheckpointRow(rows[0]));
  /** In a write's transaction: the fence must still be its chain's (lease) current one. */
  const fenced = async (c: pg.PoolClient, fence: ChainFence): Promise<void> => {
    // FOR SHARE: a new holder's generation bump waits for this commit (see postgres.ts, appendStatement).
    const held = await c.query('SELECT 1 FROM audit_chain_lease WHERE chain = $1 AND generation = $2 FOR SHARE', [
      fence.chain,
      fence.generation,
    ]);
    if (held.rowCount !== 1) throw leaseMovedOn(fence);
  };

  return {
    async add(checkpoint, nodes, fence) {
      checkCheckpoint(checkpoint);
      await tx(async (c) => {
        if (fence !== undefined) {
          if (fence.chain !== checkpoint.chain) throw leaseMovedOn(fence);
          await fenced(c, fence);
        }
        const { rowCount } = await c.query(
          'INSERT INTO audit_checkpoint (chain, seq, time, head, root, prev, jws, frontier) VALUES ($1, $2, $3::timestamptz, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING',
          [
            checkpoint.chain,
            checkpoint.seq,
            checkpoint.time,
            checkpoint.head,
            checkpoint.root,
            checkpoint.prev,
            checkpoint.jws,
            checkpoint.frontier,
          ],
        );
        if (rowCount !== 1) throw new CheckpointConflictError(checkpoint.chain, checkpoint.seq);
        if (nodes.length > 0) {
          await c.query(
            'INSERT INTO audit_merkle_node (chain, level, idx, hash) SELECT $1, * FROM unnest($2::int[], $3::bigint[], $4::text[]) ' +
              'ON CONFLICT (chain, level, idx) DO UPDATE SET hash = excluded.hash',
            [checkpoint.chain, nodes.map((n) => n.level), nodes.map((n) => n.index), nodes.map((n) => n.hash)],
          );
        }
      });
    },
    async chains() {
      return (await read<{ chain: string }>('SELECT DISTINCT chain FROM audit_checkpoint ORDER BY chain', [])).map((r) => r.chain);
    },
    async latest(chain) {
      return one(await read<CheckpointRow>('SELECT * FROM audit_checkpoint WHERE chain = $1 ORDER BY seq DESC LIMIT 1', [chain]));
    },
    async list(chain, afterSeq, limit) {
      return (
        await read<CheckpointRow>('SELECT * FROM audit_checkpoint WHERE chain = $1 AND seq > $2 ORDER BY seq LIMIT $3', [
          chain,
          afterSeq,
          limit,
        ])
      ).map(fromCheckpointRow);
    },
    async atOrBefore(chain, seq) {
      return one(
        await read<CheckpointRow>('SELECT * FROM audit_checkpoint WHERE chain = $1 AND seq <= $2 ORDER BY seq DESC LIMIT 1', [chain, seq]),
      );
    },
    async lastBefore(chain, time) {
      return one(
        await read<CheckpointRow>(
          'SELECT * FROM audit_checkpoint WHERE chain = $1 AND time < $2::timestamptz ORDER BY time DESC, seq DESC LIMIT 1',
          [chain, time],
        ),
      );
    },
    async nodes(chain, wanted) {
      if (wanted.length === 0) return [];
      const rows = await read<{ level: number; idx: string; hash: string }>(
        'SELECT level, idx, hash FROM audit_merkle_node WHERE chain = $1 AND (level, idx) IN (SELECT * FROM unnest($2::int[], $3::bigint[]))',
        [chain, wanted.map((w) => w.level), wanted.map((w) => w.index)],
      );
      return rows.map((r) => ({ level: r.level, index: Number(r.idx), hash: r.hash }));
    },
    async recordExport(e) {
      await tx((c) =>
        c.query(
          'INSERT INTO audit_export (id, chain, from_seq, to_seq, time, location, manifest_digest) VALUES ($1, $2, $3, $4, $5::timestamptz, $6, $7)',
          [e.id, e.chain, e.fromSeq, e.toSeq, e.time, e.location, e.manifestDigest],
        ),
      );
    },
    async exports(chain) {
      return (await read<ExportRow>('SELECT * FROM audit_export WHERE chain = $1 ORDER BY to_seq, time', [chain])).map(fromExportRow);
    },
    async retention(chain) {
      const rows = await read<RetentionRow>('SELECT * FROM audit_retention WHERE chain = $1', [chain]);
      return rows[0] === undefined ? undefined : fromRetentionRow(rows[0]);
    },
    async markRetention(m) {
      await tx((c) =>
        c.query(
          'INSERT INTO audit_retention (chain, through_seq, audit_id, export_id, time) VALUES ($1, $2, $3, $4, $5::timestamptz) ' +
            'ON CONFLICT (chain) DO UPDATE SET through_seq = excluded.through_seq, audit_id = excluded.audit_id, export_id = excluded.export_id, time = excluded.time ' +
            'WHERE excluded.through_seq > audit_retention.through_seq',
          [m.chain, m.throughSeq, m.auditId, m.exportId, m.time],
        ),
      );
    },
    async deleteThrough(chain, throughSeq, limit) {
      return tx(async (c) => {
        const { rowCount } = await c.query(
          'DELETE FROM audit_record WHERE chain = $1 AND seq IN (SELECT seq FROM audit_record WHERE chain = $1 AND seq <= $2 ORDER BY seq LIMIT $3)',
          [chain, throughSeq, limit],
        );
        return rowCount ?? 0;
      });
    },
    async expiring(q) {
      const after = q.after === undefined ? '' : ' AND (time, chain, seq) > ($4::timestamptz, $3, $5)';
      const values: unknown[] = [q.purpose, q.before, q.chain, ...(q.after === undefined ? [] : [q.after.time, q.after.seq])];
      const rows = await read<{ record: string }>(
        `SELECT record FROM audit_record WHERE purpose = $1 AND time < $2::timestamptz AND chain = $3${after} ORDER BY time, chain, seq LIMIT $${values.length + 1}`,
        [...values, q.limit],
      );
      return rows.map((r) => parseRecord(r.record));
    },
    async erase(erasures, fence) {
      checkErasures(erasures);
      if (erasures.length === 0) return;
      const rows = erasures.map((e) => toRow(e.record));
      await tx(async (c) => {
        if (fence !== undefined) await fenced(c, fence);
        const entries = await c.query(
          'INSERT INTO audit_erasure (chain, seq, audit_id, digest) SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[]) ON CONFLICT DO NOTHING',
          [
            erasures.map((e) => e.record.chain),
            erasures.map((e) => e.record.seq),
            erasures.map((e) => e.record.erasedBy),
            erasures.map((e) => e.digest),
          ],
        );
        const updated =
          entries.rowCount === erasures.length
            ? await c.query(
                ERASE_AUDIT,
                AUDIT_COLUMNS.map((col) => rows.map((r) => r[col])),
              )
            : undefined;
        if (updated?.rowCount !== erasures.length) {
          const first = erasures[0]!.record;
          throw new ErasureConflictError(
            first.chain,
            `chain ${first.chain}: a record of the erasure was erased already, or is not the one read; nothing was erased`,
          );
        }
      });
    },
    async forgetErasures(chain, throughSeq) {
      return tx(async (c) => {
        const { rowCount } = await c.query(
          'DELETE FROM audit_erasure WHERE chain = $1 AND audit_id IN (SELECT e.audit_id FROM audit_erasure e WHERE e.chain = $1 AND e.seq <= $2 ' +
            'AND NOT EXISTS (SELECT 1 FROM audit_erasure f WHERE f.audit_id = e.audit_id AND (f.chain <> e.chain OR f.seq > $2)))',
          [chain, throughSeq],
        );
        return rowCount ?? 0;
      });
    },
    async erasures(chain, fromSeq, toSeq) {
      return (
        await read<ErasureRow>('SELECT * FROM audit_erasure WHERE chain = $1 AND seq >= $2 AND seq < $3 ORDER BY seq', [
          chain,
          fromSeq,
          toSeq,
        ])
      ).map(fromErasureRow);
    },
    async erasedBy(auditId, after, limit) {
      const rows =
        after === undefined
          ? await read<ErasureRow>('SELECT * FROM audit_erasure WHERE audit_id = $1 ORDER BY chain, seq LIMIT $2', [auditId, limit])
          : await read<ErasureRow>(
              'SELECT * FROM audit_erasure WHERE audit_id = $1 AND (chain, seq) > ($2, $3) ORDER BY chain, seq LIMIT $4',
              [auditId, after.chain, after.seq, limit],
            );
      return rows.map(fromErasureRow);
    },
    async addErasureSignature(chain, auditId, jws) {
      const { rowCount } = await pool.query('INSERT INTO audit_erasure_signature (audit_id, jws) VALUES ($1, $2) ON CONFLICT DO NOTHING', [
        auditId,
        jws,
      ]);
      if (rowCount !== 1)
        throw new ErasureConflictError(
          chain,
          `chain ${chain}: the erasure documented by admin record ${auditId} is signed already; nothing was written`,
        );
    },
    async erasureSignature(auditId) {
      const [row] = await read<{ jws: string }>('SELECT jws FROM audit_erasure_signature WHERE audit_id = $1', [auditId]);
      return row?.jws;
    },
    async erasureMarks(chain) {
      const rows = await read<{ purpose: string; through_time: Date }>(
        'SELECT purpose, through_time FROM audit_erasure_mark WHERE chain = $1',
        [chain],
      );
      return new Map(rows.map((r) => [r.purpose, r.through_time.toISOString()]));
    },
    async markErasure(chain, purpose, throughTime) {
      await tx((c) =>
        c.query(
          'INSERT INTO audit_erasure_mark (chain, purpose, through_time) VALUES ($1, $2, $3::timestamptz) ' +
            'ON CONFLICT (chain, purpose) DO UPDATE SET through_time = excluded.through_time WHERE excluded.through_time > audit_erasure_mark.through_time',
          [chain, purpose, throughTime],
        ),
      );
    },
    lockChain(chain, options = {}) {
      return advisoryLease(url, chain, options);
    },
    async lockRetention() {
      try {
        return await advisoryLease(url, RETENTION_LEASE, {});
      } catch (err) {
        if (err instanceof ChainInUseError)
          throw new RetentionInUseError(RETENTION_LEASE, 'another gateway instance on this database is applying the retention rules');
        throw err;
      }
    },
  };
}

/** How soon a lease that was lost is tried again (the sooner, the shorter a database restart leaves the chain free). */
const RETAKE_EVERY_MS = 1000;

/**
 * A session advisory lock on a connection of its own (not from the pool, whose connections come
 * and go), and a new generation of the chain's lease row, taken on that connection right after
 * the lock: the fence every append and checkpoint of this holding carries. If the connection
 * breaks (the database restarted), the lock is gone with it: the lease reports `lost`, has no
 * fence until it is taken again (with a new generation), and tries to take it every second.
 * Another process may take it first; then this one stays lost, and its writes are refused.
 */
async function advisoryLease(
  url: string,
  chain: string,
  options: { onLost?: (err: Error) => void; onRegained?: () => void },
): Promise<ChainLease> {
  const key = chainLockKey(chain);
  const connect = async (): Promise<{ client: pg.Client; fence: ChainFence }> => {
    const client = new pg.Client({
      connectionString: url,
      connectionTimeoutMillis: 5000,
      application_name: 'snitflade-chain-lease',
      keepAlive: true,
      options: DURABLE_SESSION,
    });
    client.on('error', () => undefined); // until watched; a failed connect rejects on its own
    await client.connect();
    let fence: ChainFence | undefined;
    let ok: boolean;
    try {
      const { rows } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1::bigint) AS ok', [key]);
      ok = rows[0]?.ok === true;
      if (ok) {
        const taken = await client.query<{ generation: string }>(
          'INSERT INTO audit_chain_lease (chain, generation, taken_at) VALUES ($1, 1, now()) ' +
            'ON CONFLICT (chain) DO UPDATE SET generation = audit_chain_lease.generation + 1, taken_at = now() RETURNING generation',
          [chain],
        );
        fence = { chain, generation: Number(taken.rows[0]!.generation) };
      }
    } finally {
      if (fence === undefined) await client.end().catch(() => undefined);
    }
    if (!ok)
      throw new ChainInUseError(
        chain,
        `chain ${chain} is held by another running gateway instance on this database; each running instance needs its own instance id (SNITFLADE_INSTANCE_ID)`,
      );
    return { client, fence: fence! };
  };

  let { client, fence } = await connect();
  let lost = false;
  let released = false;
  let retry: NodeJS.Timeout | undefined;
  const watch = (c: pg.Client): void => {
    let gone = false;
    const onGone = (err: Error): void => {
      if (gone || released) return;
      gone = true;
      lost = true;
      options.onLost?.(err);
      schedule();
    };
    c.on('error', onGone);
    c.on('end', () => onGone(new Error('the connection holding the chain lease ended')));
  };
  const schedule = (): void => {
    if (released) return;
    retry = setTimeout(() => {
      connect().then(
        (taken) => {
          if (released) {
            void taken.client.end().catch(() => undefined);
            return;
          }
          client = taken.client;
          fence = taken.fence;
          lost = false;
          watch(taken.client);
          options.onRegained?.();
        },
        () => schedule(),
      );
    }, RETAKE_EVERY_MS);
    retry.unref();
  };
  watch(client);
  return {
    chain,
    get lost() {
      return lost;
    },
    get fence() {
      return lost || released ? undefined : fence;
    },
    async release() {
      if (released) return;
      released = true;
      if (retry !== undefined) clearTimeout(retry);
      if (!lost) await client.query('SELECT pg_advisory_unlock($1::bigint)', [key]).catch(() => undefined);
      await client.end().catch(() => undefined);
    },
  };
}

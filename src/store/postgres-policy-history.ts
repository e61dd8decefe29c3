import type { PgRead, PgTransaction } from './postgres-consents.js';
import {
  checkPutInForce,
  fromPolicyRow,
  historyWrites,
  rollbacksOf,
  type PolicyHistoryStore,
  type PolicyInForceRow,
} from './policy-history.js';

const COLUMNS = 'policy_id, version, content_digest, since, instance, taken_out_at, taken_out_by';
const GET = `SELECT ${COLUMNS} FROM policy_in_force WHERE policy_id = ANY($1::text[])`;

/** pg_advisory_xact_lock key of putting a policy set in force: "Snit" and "pol" as two int4. */
const HISTORY_LOCK = [0x536e6974, 0x706f6c00] as const;

/**
 * The policies put in force, on PostgreSQL, shared by every gateway instance on the database.
 * Putting a set in force takes a transaction-scoped advisory lock first: two instances putting
 * sets in force at once take turns, so each checks against what the other wrote.
 */
export function postgresPolicyHistory(read: PgRead, transaction: PgTransaction): PolicyHistoryStore {
  return {
    async get(ids) {
      return (await read<PolicyInForceRow>(GET, [[...ids]])).map(fromPolicyRow);
    },
    async putInForce(set, refuse) {
      checkPutInForce(set);
      return transaction(async (c) => {
        await c.query('SELECT pg_advisory_xact_lock($1, $2)', [...HISTORY_LOCK]);
        const last = await c.query<{ policies: string }>('SELECT policies FROM policy_set_in_force WHERE instance = $1', [set.instance]);
        const lastSet = JSON.parse(last.rows[0]?.policies ?? '[]') as string[];
        const { rows } = await c.query<PolicyInForceRow>(GET, [[...new Set([...set.policies.map((p) => p.id), ...lastSet])]]);
        const history = rows.map(fromPolicyRow);
        const rollbacks = rollbacksOf(set.policies, history);
        if (refuse && rollbacks.length > 0) return rollbacks;
        const { upserts, takenOut } = historyWrites(set, history, lastSet);
        for (const r of upserts)
          await c.query(
            `INSERT INTO policy_in_force (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7) ` +
              'ON CONFLICT (policy_id) DO UPDATE SET version = excluded.version, content_digest = excluded.content_digest, since = excluded.since, ' +
              'instance = excluded.instance, taken_out_at = excluded.taken_out_at, taken_out_by = excluded.taken_out_by',
            [r.policy_id, r.version, r.content_digest, r.since, r.instance, r.taken_out_at, r.taken_out_by],
          );
        if (takenOut.length > 0)
          await c.query(
            'UPDATE policy_in_force SET taken_out_at = $1, taken_out_by = $2 WHERE policy_id = ANY($3::text[]) AND taken_out_at IS NULL',
            [set.at, set.instance, takenOut],
          );
        await c.query(
          'INSERT INTO policy_set_in_force (instance, digest, policies, at) VALUES ($1, $2, $3, $4) ' +
            'ON CONFLICT (instance) DO UPDATE SET digest = excluded.digest, policies = excluded.policies, at = excluded.at',
          [set.instance, set.setDigest, JSON.stringify(set.policies.map((p) => p.id)), set.at],
        );
        return rollbacks;
      });
    },
  };
}

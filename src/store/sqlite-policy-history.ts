import type Database from 'better-sqlite3';
import {
  checkPutInForce,
  fromPolicyRow,
  historyWrites,
  rollbacksOf,
  type PolicyHistoryStore,
  type PolicyInForceRow,
} from './policy-history.js';

const COLUMNS = 'policy_id, version, content_digest, since, instance, taken_out_at, taken_out_by';

/** The policies put in force, on SQLite. `write` runs a function in one IMMEDIATE transaction. */
export function sqlitePolicyHistory(db: Database.Database, write: <T>(fn: () => T) => T): PolicyHistoryStore {
  const sql = {
    get: db.prepare(`SELECT ${COLUMNS} FROM policy_in_force WHERE policy_id IN (SELECT value FROM json_each(?))`),
    lastSet: db.prepare('SELECT policies FROM policy_set_in_force WHERE instance = ?').pluck(),
    upsert: db.prepare(
      `INSERT INTO policy_in_force (${COLUMNS}) VALUES (@policy_id, @version, @content_digest, @since, @instance, @taken_out_at, @taken_out_by) ` +
        'ON CONFLICT (policy_id) DO UPDATE SET version = excluded.version, content_digest = excluded.content_digest, since = excluded.since, ' +
        'instance = excluded.instance, taken_out_at = excluded.taken_out_at, taken_out_by = excluded.taken_out_by',
    ),
    takeOut: db.prepare('UPDATE policy_in_force SET taken_out_at = ?, taken_out_by = ? WHERE policy_id = ? AND taken_out_at IS NULL'),
    setOf: db.prepare(
      'INSERT INTO policy_set_in_force (instance, digest, policies, at) VALUES (?, ?, ?, ?) ' +
        'ON CONFLICT (instance) DO UPDATE SET digest = excluded.digest, policies = excluded.policies, at = excluded.at',
    ),
  };
  const get = (ids: readonly string[]) => (sql.get.all(JSON.stringify(ids)) as PolicyInForceRow[]).map(fromPolicyRow);

  return {
    async get(ids) {
      return get(ids);
    },
    async putInForce(set, refuse) {
      checkPutInForce(set);
      return write(() => {
        const lastSet = JSON.parse((sql.lastSet.get(set.instance) as string | undefined) ?? '[]') as string[];
        const history = get([...new Set([...set.policies.map((p) => p.id), ...lastSet])]);
        const rollbacks = rollbacksOf(set.policies, history);
        if (refuse && rollbacks.length > 0) return rollbacks;
        const { upserts, takenOut } = historyWrites(set, history, lastSet);
        for (const row of upserts) sql.upsert.run(row);
        for (const id of takenOut) sql.takeOut.run(set.at, set.instance, id);
        sql.setOf.run(set.instance, set.setDigest, JSON.stringify(set.policies.map((p) => p.id)), set.at);
        return rollbacks;
      });
    },
  };
}

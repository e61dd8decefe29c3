/**
 * The policies put in force, as the store remembers them across restarts and gateway instances:
 * for each policy id the highest version ever put in force with its content digest, when and by
 * which instance, and whether it was taken out of force since; for each instance the set it last
 * put in force (its digest and policy ids). What src/rules/rollback.ts checks a set against
 * before it comes into force, so that a policy's version never goes back (docs/POLICY-APPROVALS.md,
 * "Versions only go forward").
 *
 * One table per concern, appended to both migration lists in migrations.ts as one migration;
 * times are ISO 8601 text in both dialects.
 */

/** A policy of a set being put in force. */
export interface PolicyVersion {
  readonly id: string;
  readonly version: number;
  /** The content digest (src/policy/approvals/digest.ts). */
  readonly digest: string;
}

/** A set being put in force by a gateway instance. */
export interface PutInForce {
  /** config.instanceId. */
  readonly instance: string;
  /** When, ISO 8601. */
  readonly at: string;
  /** The policy set's digest (LoadedPolicySet.digest). */
  readonly setDigest: string;
  readonly policies: readonly PolicyVersion[];
}

/** What the store remembers of one policy id. */
export interface PolicyInForce {
  readonly id: string;
  /** The highest version put in force. */
  readonly version: number;
  readonly digest: string;
  /** When that version was first put in force, and by which instance. */
  readonly since: string;
  readonly instance: string;
  /** When it was taken out of force (absent from a set an instance put in force instead of one that had it), and by which instance. */
  readonly takenOut?: { readonly at: string; readonly instance: string };
}

/**
 * Why a policy of a set may not come into force: its version is older than the highest put in
 * force, the same version had another content, or it was taken out of force and comes back
 * without a higher version.
 */
export interface PolicyRollback {
  readonly kind: 'older' | 'changed' | 'returned';
  readonly policy: PolicyVersion;
  readonly inForce: PolicyInForce;
}

export interface PolicyHistoryStore {
  /** What the store remembers of these policy ids (those it knows), by id. */
  get(ids: readonly string[]): Promise<PolicyInForce[]>;
  /**
   * Records `set` as put in force by its instance, in one transaction with the check: the
   * rollbacks it finds (rollbacksOf, against the history as of this transaction, the ids its
   * instance takes out of force included). With `refuse` and any rollback found, writes nothing.
   * Otherwise raises each policy's version (never lowers it), marks the policies that instance
   * had in force and `set` lacks as taken out, and remembers `set` as the instance's.
   */
  putInForce(set: PutInForce, refuse: boolean): Promise<PolicyRollback[]>;
}

/** The rollbacks of `policies` against what is remembered of them: the rule in one place. */
export function rollbacksOf(policies: readonly PolicyVersion[], history: readonly PolicyInForce[]): PolicyRollback[] {
  const known = new Map(history.map((h) => [h.id, h]));
  const out: PolicyRollback[] = [];
  for (const policy of policies) {
    const inForce = known.get(policy.id);
    if (inForce === undefined || policy.version > inForce.version) continue;
    if (policy.version < inForce.version) out.push({ kind: 'older', policy, inForce });
    else if (inForce.takenOut !== undefined) out.push({ kind: 'returned', policy, inForce });
    else if (policy.digest !== inForce.digest) out.push({ kind: 'changed', policy, inForce });
  }
  return out;
}

/** Refuses what no caller may pass (programming mistakes). */
export function checkPutInForce(set: PutInForce): void {
  if (typeof set?.instance !== 'string' || set.instance.length === 0)
    throw new TypeError('PolicyHistoryStore.putInForce: instance is required');
  if (Number.isNaN(Date.parse(set.at))) throw new TypeError('PolicyHistoryStore.putInForce: at must be an ISO time');
  const ids = new Set<string>();
  for (const p of set.policies) {
    if (!Number.isInteger(p.version) || p.version < 1)
      throw new TypeError(`PolicyHistoryStore.putInForce: policy "${p.id}" has no valid version`);
    if (!/^[0-9a-f]{64}$/.test(p.digest)) throw new TypeError(`PolicyHistoryStore.putInForce: policy "${p.id}" has no content digest`);
    if (ids.has(p.id)) throw new TypeError(`PolicyHistoryStore.putInForce: policy "${p.id}" twice`);
    ids.add(p.id);
  }
}

/** A row of policy_in_force, in both dialects. */
export interface PolicyInForceRow {
  readonly policy_id: string;
  readonly version: number;
  readonly content_digest: string;
  readonly since: string;
  readonly instance: string;
  readonly taken_out_at: string | null;
  readonly taken_out_by: string | null;
}

export function fromPolicyRow(r: PolicyInForceRow): PolicyInForce {
  return {
    id: r.policy_id,
    version: Number(r.version),
    digest: r.content_digest,
    since: r.since,
    instance: r.instance,
    ...(r.taken_out_at !== null ? { takenOut: { at: r.taken_out_at, instance: r.taken_out_by ?? '' } } : {}),
  };
}

/**
 * What putting `set` in force writes, given the history of its ids and of those its instance last
 * had: the rows to insert or raise, the ids to mark taken out. Both dialects write exactly this.
 */
export function historyWrites(
  set: PutInForce,
  history: readonly PolicyInForce[],
  lastSet: readonly string[],
): { readonly upserts: PolicyInForceRow[]; readonly takenOut: string[] } {
  const known = new Map(history.map((h) => [h.id, h]));
  const upserts: PolicyInForceRow[] = [];
  for (const p of set.policies) {
    const h = known.get(p.id);
    // Never lowered, never another content under a version already remembered; in force again.
    if (h !== undefined && p.version <= h.version) {
      if (h.takenOut !== undefined) upserts.push({ ...toRow(h), taken_out_at: null, taken_out_by: null });
      continue;
    }
    upserts.push({
      policy_id: p.id,
      version: p.version,
      content_digest: p.digest,
      since: set.at,
      instance: set.instance,
      taken_out_at: null,
      taken_out_by: null,
    });
  }
  const ids = new Set(set.policies.map((p) => p.id));
  return { upserts, takenOut: lastSet.filter((id) => !ids.has(id)) };
}

function toRow(h: PolicyInForce): PolicyInForceRow {
  return {
    policy_id: h.id,
    version: h.version,
    content_digest: h.digest,
    since: h.since,
    instance: h.instance,
    taken_out_at: h.takenOut?.at ?? null,
    taken_out_by: h.takenOut?.instance ?? null,
  };
}

export const POLICY_HISTORY_MIGRATION_NAME = 'policies put in force: highest version per policy, taken out of force, set per instance';

function statements(key: string): string[] {
  return [
    `CREATE TABLE policy_in_force (
      policy_id ${key} NOT NULL PRIMARY KEY,
      version INTEGER NOT NULL CHECK (version >= 1), -- the highest version put in force
      content_digest TEXT NOT NULL, -- its content digest (hex SHA-256)
      since TEXT NOT NULL, -- ISO 8601: when that version was first put in force
      instance TEXT NOT NULL, -- by which gateway instance
      taken_out_at TEXT, -- ISO 8601: when it was taken out of force, until a higher version comes
      taken_out_by TEXT
    )`,
    `CREATE TABLE policy_set_in_force (
      instance ${key} NOT NULL PRIMARY KEY,
      digest TEXT NOT NULL, -- the policy set's digest
      policies TEXT NOT NULL, -- JSON array of the policy ids in it
      at TEXT NOT NULL
    )`,
  ];
}

export const POLICY_HISTORY_SQLITE_STATEMENTS = statements('TEXT');
export const POLICY_HISTORY_POSTGRES_STATEMENTS = statements('TEXT COLLATE "C"');

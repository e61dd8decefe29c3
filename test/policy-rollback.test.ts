/**
 * Versions only go forward (src/rules/rollback.ts, src/store/policy-history.ts), on both stores:
 * an older policy, the same version with another content, or a policy taken out of force coming
 * back at its old version is refused with approvals required, recorded with a warning without;
 * gateway instances sharing a store refuse an older set than one in force elsewhere, never a newer one.
 */
import { createHash } from 'node:crypto';
import { LoadErrors, loadErrorsIn } from '../src/lib/load-error.js';
import type { Policy, PolicySet } from '../src/policy/types.js';
import { checkRollback, putInForce } from '../src/rules/rollback.js';
import type { Store } from '../src/store/types.js';
import { DATABASES, type TestDatabase } from './support/databases.js';

const digest = (text: string): string => createHash('sha256').update(text).digest('hex');

/** A policy set of (id, version, content) as the rule set's loader would give it. */
function set(...policies: [id: string, version: number, content?: string][]): PolicySet {
  const list = policies.map(
    ([id, version, content]) =>
      ({ id, version, contentDigest: digest(`${id} ${version} ${content ?? ''}`), file: `policies/${id}.policy.yaml` }) as Policy,
  );
  return { digest: digest(JSON.stringify(policies)), purposes: new Map(), policies: list, candidates: () => [] };
}

const A = { instance: 'gw-a', enforced: true };
const B = { instance: 'gw-b', enforced: true };

/** The problems putInForce refused with, or [] when it put the set in force. */
async function refused(store: Store, s: PolicySet, options = A): Promise<string[]> {
  try {
    await putInForce(store.policyHistory, s, options);
    return [];
  } catch (err) {
    if (!(err instanceof LoadErrors)) throw err;
    return loadErrorsIn(err)!.map((e) => e.message);
  }
}

describe.each(DATABASES)('%s policy history', (name, makeDatabase) => {
  let db: TestDatabase;
  let store: Store;
  beforeEach(async () => {
    db = await makeDatabase(`policy_history_${name.toLowerCase()}`);
    store = await db.open();
  });
  afterEach(async () => {
    await db.cleanup();
  });

  it('refuses an older version than one put in force, naming the file, both versions and when', async () => {
    expect(await refused(store, set(['p', 5], ['q', 1]))).toEqual([]);
    const [since] = (await store.policyHistory.get(['p'])).map((h) => h.since);
    const problems = await refused(store, set(['p', 4], ['q', 1]));
    expect(problems).toEqual([
      expect.stringContaining(
        `policies/p.policy.yaml at /version: policy "p" version 4 is older than version 5 already put in force on ${since}`,
      ),
    ]);
    // Nothing was recorded; the newer set still goes, the older again does not.
    expect((await store.policyHistory.get(['p']))[0]).toMatchObject({ version: 5, instance: 'gw-a' });
    expect(await refused(store, set(['p', 5], ['q', 1]))).toEqual([]);
    expect(await refused(store, set(['p', 4], ['q', 1]))).toHaveLength(1);
  });

  it('refuses the same version with another content', async () => {
    expect(await refused(store, set(['p', 5, 'fields: [a, b]']))).toEqual([]);
    const problems = await refused(store, set(['p', 5, 'fields: [a, b, c]']));
    expect(problems).toEqual([
      expect.stringMatching(
        /policy "p" version 5 \(content [0-9a-f]{12}\) differs from the version 5 put in force on .*one version cannot mean two texts/,
      ),
    ]);
    expect(await refused(store, set(['p', 6, 'fields: [a, b, c]']))).toEqual([]);
  });

  it('refuses a policy taken out of force coming back at its old version, and takes it at a higher one', async () => {
    expect(await refused(store, set(['p', 5], ['q', 3]))).toEqual([]);
    expect(await refused(store, set(['p', 5]))).toEqual([]);
    expect((await store.policyHistory.get(['q']))[0]?.takenOut).toMatchObject({ instance: 'gw-a' });
    const problems = await refused(store, set(['p', 5], ['q', 3]));
    expect(problems).toEqual([expect.stringContaining('policy "q" version 3 was taken out of force on')]);
    expect(problems[0]).toContain('give the policy version 4 or higher and have it signed');
    expect(await refused(store, set(['p', 5], ['q', 2]))).toEqual([expect.stringContaining('version 2 is older than version 3')]);
    expect(await refused(store, set(['p', 5], ['q', 4]))).toEqual([]);
    expect((await store.policyHistory.get(['q']))[0]).toMatchObject({ version: 4 });
    expect((await store.policyHistory.get(['q']))[0]?.takenOut).toBeUndefined();
  });

  it('checks without writing as putInForce would refuse (a reload checks before it audits)', async () => {
    await putInForce(store.policyHistory, set(['p', 5]), A);
    expect((await checkRollback(store.policyHistory, set(['p', 4]), A)).errors.map((e) => e.message)).toEqual([
      expect.stringContaining('version 4 is older than version 5'),
    ]);
    expect(await checkRollback(store.policyHistory, set(['p', 6]), A)).toEqual({ errors: [], warnings: [] });
    expect((await store.policyHistory.get(['p']))[0]).toMatchObject({ version: 5 });
  });

  it('without approvals required (the demo) records and warns, never refuses, and never lowers a version', async () => {
    const demo = { instance: 'gw-a', enforced: false };
    expect(await putInForce(store.policyHistory, set(['p', 5], ['q', 1]), demo)).toEqual([]);
    expect(await putInForce(store.policyHistory, set(['p', 5]), demo)).toEqual([]);
    const warnings = await putInForce(store.policyHistory, set(['p', 4], ['q', 1]), demo);
    expect(warnings.map((w) => w.message)).toEqual([
      expect.stringMatching(/policy "p" version 4 is older than version 5 .*\(not refused: policies.requireApprovals is false\)$/),
      expect.stringContaining('policy "q" version 1 was taken out of force'),
    ]);
    const history = await store.policyHistory.get(['p', 'q']);
    expect(history.find((h) => h.id === 'p')).toMatchObject({ version: 5 });
    // q is in force again; once approvals are required, the set in force passes.
    expect(history.find((h) => h.id === 'q')?.takenOut).toBeUndefined();
    expect(await refused(store, set(['p', 5], ['q', 1]))).toEqual([]);
  });

  it('keeps what a store handle wrote for the next one (a restart, another instance)', async () => {
    await putInForce(store.policyHistory, set(['p', 5]), A);
    const again = await db.open();
    expect(await refused(again, set(['p', 4]), B)).toEqual([expect.stringContaining('already put in force on')]);
    expect((await refused(again, set(['p', 4]), B))[0]).toContain('by gateway instance gw-a');
  });

  it('two instances on one store: an older set is refused, a newer one never, and a policy added by one is not taken out by the other', async () => {
    const a = store;
    const b = await db.open();
    expect(await refused(a, set(['p', 5], ['q', 1]), A)).toEqual([]);
    expect(await refused(b, set(['p', 5], ['q', 1]), B)).toEqual([]);
    // A is upgraded first: p version 6, and a new policy r.
    expect(await refused(a, set(['p', 6], ['q', 1], ['r', 1]), A)).toEqual([]);
    // B, not yet upgraded, reloads or restarts: its older set is refused, and what is in force stays.
    expect(await refused(b, set(['p', 5], ['q', 1]), B)).toEqual([expect.stringContaining('by gateway instance gw-a')]);
    // A set that only lacks r (which B never had) is not older: it goes, and does not take r out.
    expect(await refused(b, set(['p', 6], ['q', 1]), B)).toEqual([]);
    expect((await a.policyHistory.get(['r']))[0]?.takenOut).toBeUndefined();
    // B is upgraded; A restarts with the same set; both run it, as often as they like.
    for (let i = 0; i < 2; i++) {
      expect(await refused(b, set(['p', 6], ['q', 1], ['r', 1]), B)).toEqual([]);
      expect(await refused(a, set(['p', 6], ['q', 1], ['r', 1]), A)).toEqual([]);
    }
    // A takes q out; B reloading its set with q is then older, and refused; the new set goes on both.
    expect(await refused(a, set(['p', 6], ['r', 1]), A)).toEqual([]);
    expect(await refused(b, set(['p', 6], ['q', 1], ['r', 1]), B)).toEqual([
      expect.stringContaining('policy "q" version 1 was taken out of force'),
    ]);
    expect(await refused(b, set(['p', 6], ['r', 1]), B)).toEqual([]);
    expect(await refused(a, set(['p', 6], ['r', 1]), A)).toEqual([]);
  });

  it('two instances putting conflicting sets in force at once: one wins, the other is refused', async () => {
    const b = await db.open();
    await putInForce(store.policyHistory, set(['p', 5]), A);
    const results = await Promise.all([refused(store, set(['p', 6, 'one']), A), refused(b, set(['p', 6, 'other']), B)]);
    expect(results.filter((r) => r.length === 0)).toHaveLength(1);
    expect(results.flat()).toEqual([expect.stringContaining('one version cannot mean two texts')]);
  });
});

/**
 * The `relation:` clause (need to know) in the rule set and the evaluator: the loader reads it in
 * the words of the policy's kind and refuses what no relation could satisfy; decide() asks the
 * register once per decision, and only for a policy with the clause; a register that cannot be
 * read refuses the request instead of deciding it.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Pseudonymizer } from '../src/audit/pseudonym.js';
import { relationCheck, relationReasonsOf } from '../src/exchange/relation-check.js';
import { assumedRelations, decide, type RelationCheck } from '../src/policy/evaluate.js';
import type { DecisionRequest, RelationFact } from '../src/policy/types.js';
import { checkRules } from '../src/rules/check.js';
import type { Rules } from '../src/rules/types.js';
import type { RelationStore } from '../src/relations/types.js';

const ROOT = process.cwd();
let dir: string;
let policies: string;

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'snitflade-policy-relations-'));
  policies = path.join(dir, 'policies');
  cpSync(path.join(ROOT, 'policies'), policies, { recursive: true });
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function edit(file: string, from: string, to: string): void {
  const p = path.join(policies, file);
  const text = readFileSync(p, 'utf8');
  if (!text.includes(from)) throw new Error(`nothing to replace in ${file}`);
  writeFileSync(p, text.replace(from, to));
}

const check = () => checkRules({ schemas: path.join(ROOT, 'schemas'), policies, certs: path.join(dir, 'no-certs') }, { runCases: false });
const problems = async () => (await check()).errors.map((e) => `${path.basename(e.file)} ${e.path}: ${e.problem}`);

describe('the relation clause in the rule set', () => {
  it('loads the example policies with their clauses', async () => {
    const report = await check();
    expect(report.errors).toEqual([]);
    const p = report.policies!.policies.find((x) => x.id === 'sof-coordinator-reads-employment-overview')!;
    expect(p.relation).toEqual({ requester: ['coordinating-caseworker'], sameCaseworker: true });
    const n = report.policies!.policies.find((x) => x.id === 'bif-notifies-sof-of-sanctions')!;
    expect(n.relation).toEqual({ requester: ['social-case', 'housing-support', 'support-contact-person'], sameCaseworker: false });
  });

  it("refuses a query policy's clause in a notification's words, and sameCaseworker on a notification", async () => {
    edit('sof-reads-employment-status.policy.yaml', '  requester: [social-case,', '  recipient: [social-case,');
    edit(
      'bif-notifies-sof-of-sanctions.policy.yaml',
      '  recipient: [social-case, housing-support, support-contact-person]',
      '  recipient: [social-case]\n  sameCaseworker: true',
    );
    const found = await problems();
    expect(found).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^sof-reads-employment-status\.policy\.yaml \/relation\/recipient: a query policy names "requester"/),
        expect.stringMatching(
          /^bif-notifies-sof-of-sanctions\.policy\.yaml \/relation\/sameCaseworker: sameCaseworker applies to query policies only/,
        ),
      ]),
    );
  });

  it('refuses an unknown capacity, and one that belongs to another administration than the side it is named for', async () => {
    edit('sof-reads-employment-status.policy.yaml', '  requester: [social-case,', '  requester: [socal-case, cash-benefit,');
    edit('bif-reads-social-coordination-summary.policy.yaml', '  provider: any', '  provider: [cash-benefit]');
    const found = await problems();
    expect(found).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^sof-reads-employment-status\.policy\.yaml \/relation\/requester\/0: unknown capacity "socal-case"/),
        expect.stringMatching(
          /^sof-reads-employment-status\.policy\.yaml \/relation\/requester\/1: capacity "cash-benefit" belongs to BIF, not to SOF/,
        ),
        expect.stringMatching(
          /^bif-reads-social-coordination-summary\.policy\.yaml \/relation\/provider\/0: capacity "cash-benefit" belongs to BIF, not to SOF/,
        ),
      ]),
    );
  });
});

describe('decide with a relation clause', () => {
  let rules: Pick<Rules, 'policies' | 'contracts'>;
  beforeAll(async () => {
    const report = await checkRules({ schemas: path.join(ROOT, 'schemas'), policies: path.join(ROOT, 'policies'), certs: '/nonexistent' });
    rules = { policies: report.policies!, contracts: report.contracts! };
  });
  const request: DecisionRequest = {
    contract: 'employment.citizen-status.v1',
    administration: 'SOF',
    roles: ['caseworker-system'],
    purpose: 'plan-coordination',
    requestedFields: ['incomeSupport'],
    at: new Date('2026-06-01T12:00:00Z'),
    provider: 'BIF',
    caseworker: 'sof-cw-0042',
    subjectAge: 40,
  };
  const noConsent = () => Promise.resolve({ status: 'missing' as const });
  const counting = (facts: RelationFact[]): RelationCheck & { calls: string[][] } => {
    const calls: string[][] = [];
    return Object.assign(
      (administrations: readonly string[]) => {
        calls.push([...administrations]);
        return Promise.resolve(facts.filter((f) => administrations.includes(f.administration)));
      },
      { calls },
    );
  };
  const fact = (administration: string, capacity: string, id: string): RelationFact => ({
    id,
    version: 1,
    administration,
    capacity,
    caseworker: null,
    from: '2026-01-01',
    to: null,
  });

  it('reads the register once, for both sides, and cites the relations relied on in id order', async () => {
    const check = counting([
      fact('SOF', 'social-case', 'b'),
      fact('BIF', 'cash-benefit', 'a'),
      fact('SOF', 'coordinating-caseworker', 'c'),
    ]);
    const d = await decide(rules.policies, rules.contracts, request, noConsent, check);
    expect(d.decision).toBe('permit');
    expect(check.calls).toEqual([['SOF', 'BIF']]);
    expect(d.decision === 'permit' && d.relations?.map((r) => r.id)).toEqual(['a', 'b']);
    const reasons = relationReasonsOf(d.decision === 'permit' ? d.relations : undefined);
    expect(reasons.slice(0, 2)).toEqual(['relation=a', 'relation=b']);
    // The digest changes with the state relied on.
    const later = relationReasonsOf([{ ...fact('BIF', 'cash-benefit', 'a'), version: 2 }, fact('SOF', 'social-case', 'b')]);
    expect(later[2]).not.toBe(reasons[2]);
  });

  it('denies without the provider side, or without the other administration named in the request', async () => {
    const d = await decide(
      rules.policies,
      rules.contracts,
      request,
      noConsent,
      assumedRelations([{ administration: 'SOF', capacity: 'social-case' }]),
    );
    expect(d).toMatchObject({ decision: 'deny', reasons: ['RELATION_MISSING'] });
    const { provider: _provider, ...unnamed } = request;
    const e = await decide(
      rules.policies,
      rules.contracts,
      unnamed,
      noConsent,
      assumedRelations([
        { administration: 'SOF', capacity: 'social-case' },
        { administration: 'BIF', capacity: 'cash-benefit' },
      ]),
    );
    expect(e).toMatchObject({ decision: 'deny', reasons: ['RELATION_MISSING'] });
  });

  it('does not ask the register for a policy without the clause, and without a RelationCheck a clause denies', async () => {
    const check = counting([]);
    const d = await decide(
      rules.policies,
      rules.contracts,
      { ...request, contract: 'employment.job-plan-summary.v1', requestedFields: ['jobGoalArea'] },
      noConsent,
      check,
    );
    expect(check.calls).toEqual([]);
    expect(d).toMatchObject({ decision: 'permit', fields: ['jobGoalArea'] });
    expect(d.decision === 'permit' && d.relations).toBeUndefined();
    expect(await decide(rules.policies, rules.contracts, request, noConsent)).toMatchObject({
      decision: 'deny',
      reasons: ['RELATION_MISSING'],
    });
  });

  it('refuses the request when the register cannot be read (503 RELATION_REGISTER_UNAVAILABLE), never deciding without it', async () => {
    const broken = { active: () => Promise.reject(new Error('connection refused')) } as unknown as Pick<RelationStore, 'active'>;
    const pseudonyms = new Pseudonymizer({ keys: [{ id: 'k1', secret: Buffer.alloc(32, 1) }], current: 'k1' });
    const check = relationCheck({ relations: broken, pseudonyms }, '3112799923', request.at);
    await expect(decide(rules.policies, rules.contracts, request, noConsent, check)).rejects.toMatchObject({
      code: 'RELATION_REGISTER_UNAVAILABLE',
      status: 503,
    });
  });
});

import { localText } from '../src/lib/local-text.js';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { loadContracts } from '../src/contracts/registry.js';
import { LoadErrors, type LoadError } from '../src/lib/load-error.js';
import { assumedRelations, decide, type ConsentCheck } from '../src/policy/evaluate.js';
import { loadPolicySet, policySetFrom } from '../src/policy/loader.js';
import { loadPolicyCases, runPolicyCases, type PolicyCase } from '../src/policy/testing.js';
import type { ConsentEvidence, ConsentStatus, DecisionRequest, Policy } from '../src/policy/types.js';

const ROOT = process.cwd();
const POLICIES = path.join(ROOT, 'policies');
const BROKEN = path.join(ROOT, 'test', 'fixtures', 'policies-broken');
const contracts = loadContracts(path.join(ROOT, 'schemas'));
const set = loadPolicySet({ dir: POLICIES, contracts });

const STATUS = 'employment.citizen-status.v1';
const SUMMARY = 'social.coordination-summary.v1';
const AT = new Date('2025-06-01T10:00:00Z');

const sofStatus = (over: Partial<DecisionRequest> = {}): DecisionRequest => ({
  contract: STATUS,
  administration: 'SOF',
  roles: ['caseworker-system'],
  purpose: 'plan-coordination',
  requestedFields: ['targetGroup', 'incomeSupport'],
  at: AT,
  provider: 'BIF',
  subjectAge: 40,
  ...over,
});
const rehab = (over: Partial<DecisionRequest> = {}): DecisionRequest => ({
  contract: SUMMARY,
  administration: 'BIF',
  roles: ['rehabilitation-team'],
  purpose: 'rehabilitation-team-assessment',
  requestedFields: ['healthEfforts', 'openSocialCase'],
  at: AT,
  provider: 'SOF',
  subjectAge: 40,
  ...over,
});
/** A shared citizen (need to know): social services and the jobcentre both serve them, as the example policies require. */
const sharedCitizen = assumedRelations([
  { administration: 'SOF', capacity: 'social-case' },
  { administration: 'BIF', capacity: 'cash-benefit' },
]);

/** A consent check that answers `status` and records what it was asked. */
function consentAnswering(status: ConsentStatus): ConsentCheck & { calls: { policy: string; fields: readonly string[] }[] } {
  const calls: { policy: string; fields: readonly string[] }[] = [];
  const check = async (policy: Policy, fields: readonly string[]): Promise<ConsentEvidence> => {
    calls.push({ policy: policy.id, fields });
    return status === 'active' ? { status, consentId: 'c-1', receiptDigest: 'd-1' } : { status };
  };
  return Object.assign(check, { calls });
}
const noConsentExpected: ConsentCheck = async () => {
  throw new Error('the consent source must not be asked');
};

describe('decide: default deny, reason by reason', () => {
  it('denies NO_POLICY when no policy covers the contract for the administration', async () => {
    const d = await decide(set, contracts, sofStatus({ administration: 'BUF' }), noConsentExpected);
    expect(d).toMatchObject({ decision: 'deny', reasons: ['NO_POLICY'] });
    expect(d.policy).toBeUndefined();
    expect(d.trace).toEqual(['No policy lets BUF use employment.citizen-status.v1: default deny.']);
  });

  it('denies NO_POLICY for an unknown contract', async () => {
    const d = await decide(set, contracts, sofStatus({ contract: 'employment.citizen-status.v9' }), noConsentExpected);
    expect(d).toMatchObject({ decision: 'deny', reasons: ['NO_POLICY'] });
  });

  it('denies PURPOSE_NOT_ALLOWED when policies exist for another purpose only', async () => {
    const d = await decide(set, contracts, sofStatus({ purpose: 'whole-person-plan' }), noConsentExpected);
    expect(d).toMatchObject({ decision: 'deny', reasons: ['PURPOSE_NOT_ALLOWED'] });
    expect(d.trace[0]).toContain('purposes allowed: plan-coordination');
  });

  it("denies ROLE_NOT_ALLOWED when no policy for the purpose names one of the caller's roles", async () => {
    const d = await decide(set, contracts, rehab({ roles: ['caseworker-system', 'provider'] }), noConsentExpected);
    expect(d).toMatchObject({ decision: 'deny', reasons: ['ROLE_NOT_ALLOWED'], policy: { id: 'bif-rehab-team-reads-social-efforts' } });
    expect(d.trace[0]).toContain('for role(s) rehabilitation-team; the caller has caseworker-system, provider');
    const none = await decide(set, contracts, sofStatus({ roles: [] }), noConsentExpected);
    expect(none).toMatchObject({ decision: 'deny', reasons: ['ROLE_NOT_ALLOWED'] });
  });

  it('denies POLICY_NOT_IN_FORCE outside the validity period', async () => {
    const d = await decide(set, contracts, sofStatus({ at: new Date('2023-12-31T12:00:00Z') }), noConsentExpected);
    expect(d).toMatchObject({ decision: 'deny', reasons: ['POLICY_NOT_IN_FORCE'], policy: { id: 'sof-reads-employment-status' } });
    expect(d.trace[1]).toBe('sof-reads-employment-status v4: not in force on 2023-12-31 (valid 2024-01-01 to open end, Copenhagen dates).');
  });

  it('denies NO_FIELDS_PERMITTED when nothing asked for is permitted', async () => {
    const d = await decide(
      set,
      contracts,
      { ...rehab(), roles: ['caseworker-system'], purpose: 'plan-coordination', requestedFields: ['efforts', 'healthEfforts'] },
      noConsentExpected,
    );
    expect(d).toMatchObject({
      decision: 'deny',
      reasons: ['NO_FIELDS_PERMITTED'],
      policy: { id: 'bif-reads-social-coordination-summary' },
    });
  });

  it("permits policy ∩ requested, in the contract's field order, without asking for consent when none is required", async () => {
    const d = await decide(
      set,
      contracts,
      sofStatus({ requestedFields: ['sanctionInForceSince', 'targetGroup', 'nextMeeting', 'nextMeetingDate', 'sanctions'] }),
      noConsentExpected,
      sharedCitizen,
    );
    expect(d.decision).toBe('permit');
    if (d.decision !== 'permit') return;
    expect(d.policy.id).toBe('sof-reads-employment-status');
    expect(d.fields).toEqual(['targetGroup', 'nextMeetingDate', 'sanctionInForceSince']);
    expect(d.consent).toBeUndefined();
    expect(d.trace[d.trace.length - 1]).toContain('releases targetGroup, nextMeetingDate, sanctionInForceSince under Art. 6(1)(e)');
  });

  it('withholds fields the policy does not permit (the efforts that reveal health, for plan coordination)', async () => {
    const d = await decide(
      set,
      contracts,
      {
        ...rehab(),
        roles: ['caseworker-system'],
        purpose: 'plan-coordination',
        requestedFields: ['healthEfforts', 'efforts', 'socialEfforts', 'actionPlan', 'openSocialCase'],
      },
      noConsentExpected,
      sharedCitizen,
    );
    expect(d).toMatchObject({ decision: 'permit', fields: ['openSocialCase', 'actionPlan', 'socialEfforts'] });
  });
});

describe('decide: consent', () => {
  it('permits with the consent evidence when the consent is active, asking for exactly the releasable fields', async () => {
    const consent = consentAnswering('active');
    const d = await decide(set, contracts, rehab({ requestedFields: ['efforts', 'healthEfforts', 'openSocialCase'] }), consent);
    expect(d).toMatchObject({
      decision: 'permit',
      fields: ['openSocialCase', 'healthEfforts'],
      consent: { status: 'active', consentId: 'c-1', receiptDigest: 'd-1' },
    });
    expect(consent.calls).toEqual([{ policy: 'bif-rehab-team-reads-social-efforts', fields: ['openSocialCase', 'healthEfforts'] }]);
  });

  it.each([
    ['missing', 'CONSENT_MISSING'],
    ['withdrawn', 'CONSENT_WITHDRAWN'],
    ['expired', 'CONSENT_EXPIRED'],
    ['scope', 'CONSENT_SCOPE'],
    ['unavailable', 'CONSENT_SOURCE_UNAVAILABLE'],
  ] as const)('denies consent status %s as %s, naming the policy and the evidence', async (status, reason) => {
    const d = await decide(set, contracts, rehab(), consentAnswering(status));
    expect(d).toMatchObject({
      decision: 'deny',
      reasons: [reason],
      policy: { id: 'bif-rehab-team-reads-social-efforts' },
      consent: { status },
    });
  });

  it('fails closed when the consent check throws, keeping the error out of the trace', async () => {
    const d = await decide(set, contracts, rehab(), async () => {
      throw new Error('lookup failed for 0101909912');
    });
    expect(d).toMatchObject({ decision: 'deny', reasons: ['CONSENT_SOURCE_UNAVAILABLE'], consent: { status: 'unavailable' } });
    expect(d.trace.join('\n')).not.toContain('0101909912');
    expect(d.trace[d.trace.length - 1]).toContain('the consent look-up failed');
  });

  it('fails closed on a consent answer with an unknown status', async () => {
    const d = await decide(set, contracts, rehab(), async () => ({ status: 'granted' }) as unknown as ConsentEvidence);
    expect(d).toMatchObject({ decision: 'deny', reasons: ['CONSENT_SOURCE_UNAVAILABLE'], consent: { status: 'unavailable' } });
  });
});

/** In-memory policies against the repository's purposes and administrations. */
const base = (id: string, over: Partial<Policy> = {}): Policy => ({
  id,
  version: 1,
  example: true,
  title: localText(`test policy ${id}`),
  contract: STATUS,
  requester: { administrations: ['SOF'], roles: ['caseworker-system'] },
  purpose: 'plan-coordination',
  legalBasis: { gdpr: 'Art. 6(1)(e)', national: 'test', description: localText('Example for tests.') },
  consent: { required: false, evidence: [] },
  // The repository's contracts are about adults: a policy on one must say so.
  subject: { age: { min: 18 } },
  fields: ['targetGroup'],
  validity: { from: '2024-01-01' },
  owner: localText('test owner'),
  file: `memory/${id}.policy.yaml`,
  ...over,
});
const setOf = (...policies: Policy[]) =>
  policySetFrom({ administrations: [...set.administrations.values()], purposes: [...set.purposes.values()], policies, contracts });

describe('decide: validity by Copenhagen date, inclusive', () => {
  const s = setOf(base('q1-2025', { validity: { from: '2025-01-01', to: '2025-03-31' } }));
  const at = (iso: string) => decide(s, contracts, sofStatus({ requestedFields: ['targetGroup'], at: new Date(iso) }), noConsentExpected);

  it('starts at midnight Copenhagen time on the first day (CET, UTC+1)', async () => {
    expect((await at('2024-12-31T22:59:59.999Z')).decision).toBe('deny');
    expect((await at('2024-12-31T23:00:00Z')).decision).toBe('permit');
  });

  it('ends at midnight Copenhagen time after the last day (CEST, UTC+2)', async () => {
    expect((await at('2025-03-31T21:59:59.999Z')).decision).toBe('permit');
    const after = await at('2025-03-31T22:00:00Z');
    expect(after).toMatchObject({ decision: 'deny', reasons: ['POLICY_NOT_IN_FORCE'] });
    expect(after.trace[1]).toContain('not in force on 2025-04-01');
  });
});

describe('decide: several policies for one caller', () => {
  const plain = base('status-plain', { fields: ['targetGroup'] });
  const wide = base('status-wide-with-consent', {
    requester: { administrations: ['SOF'], roles: ['coordinating-caseworker'] },
    fields: ['targetGroup', 'incomeSupport', 'sanctionInForceSince'],
    consent: { required: true, evidence: ['citizen-signed', 'recorded-by-caseworker'] },
  });
  const s = setOf(plain, wide);
  const both = sofStatus({ roles: ['caseworker-system', 'coordinating-caseworker'], requestedFields: ['targetGroup', 'incomeSupport'] });

  it('tries the policy releasing the most requested fields first', async () => {
    const d = await decide(s, contracts, both, consentAnswering('active'));
    expect(d).toMatchObject({ decision: 'permit', policy: { id: 'status-wide-with-consent' }, fields: ['targetGroup', 'incomeSupport'] });
  });

  it('falls back to a policy without consent when the consent is missing, releasing only what it permits', async () => {
    const d = await decide(s, contracts, both, consentAnswering('missing'));
    expect(d).toMatchObject({ decision: 'permit', policy: { id: 'status-plain' }, fields: ['targetGroup'] });
    expect(d.trace.some((l) => l.includes("status-wide-with-consent v1: requires the citizen's consent"))).toBe(true);
  });

  it('reports every reason, the closest policy first, when none permits', async () => {
    const d = await decide(s, contracts, { ...both, requestedFields: ['incomeSupport'] }, consentAnswering('withdrawn'));
    expect(d).toMatchObject({
      decision: 'deny',
      reasons: ['CONSENT_WITHDRAWN', 'NO_FIELDS_PERMITTED'],
      policy: { id: 'status-wide-with-consent' },
    });
  });
});

describe('decide: with many policies', () => {
  it('finds the one applicable policy among 10,000 through the index', async () => {
    const admins = ['BIF', 'SOF', 'SUF', 'BUF'];
    const purposes = [...set.purposes.keys()];
    const policies: Policy[] = [];
    for (let i = 0; i < 10_000; i++) {
      const contract = i % 2 === 0 ? STATUS : SUMMARY;
      policies.push(
        base(`generated-${i}`, {
          contract,
          requester: {
            administrations: [admins[Math.floor(i / 2) % admins.length]!],
            roles: i % 7 === 0 ? [`team-${i}`, `team-${i}-deputy`] : [`team-${i}`],
          },
          purpose: purposes[i % purposes.length]!,
          fields: contract === STATUS ? ['targetGroup', 'incomeSupport', 'sanctionInForceSince'] : ['openSocialCase', 'actionPlan'],
        }),
      );
    }
    const big = setOf(...policies);
    const caller = [...big.policies].find(
      (p) => p.contract === STATUS && p.requester.roles.length === 2 && p.requester.administrations[0] === 'SOF',
    )!;
    const req = sofStatus({
      roles: ['provider', caller.requester.roles[0]!],
      purpose: caller.purpose,
      requestedFields: ['sanctionInForceSince', 'incomeSupport'],
    });
    const first = await decide(big, contracts, req, noConsentExpected);
    expect(first).toMatchObject({ decision: 'permit', policy: { id: caller.id }, fields: ['incomeSupport', 'sanctionInForceSince'] });

    // Its speed (target p99 <= 50 µs) is measured by `npm run bench`, not asserted here.
  });
});

describe('loadPolicySet: the repository policies', () => {
  it('loads the purposes, administrations and three example policies', () => {
    expect([...set.purposes.keys()]).toEqual([
      'plan-coordination',
      'sanction-notice',
      'summons-copy',
      'coordinating-caseworker',
      'rehabilitation-team-assessment',
      'progression-assessment',
      'whole-person-plan',
      'youth-coordination',
    ]);
    expect([...set.administrations.keys()]).toEqual(['BIF', 'SOF', 'SUF', 'BUF', 'DPO', 'OPS']);
    expect(set.policies.map((p) => p.id)).toEqual(
      expect.arrayContaining([
        'bif-copies-summons-to-sof-contact',
        'bif-notifies-sof-of-sanctions',
        'bif-reads-social-coordination-summary',
        'bif-rehab-team-reads-social-efforts',
        'sof-reads-employment-status',
      ]),
    );
    expect(set.policies.map((p) => p.id)).toEqual(
      readdirSync(POLICIES)
        .filter((f) => f.endsWith('.policy.yaml'))
        .map((f) => f.replace(/\.policy\.yaml$/, ''))
        .sort(),
    );
    for (const p of set.policies) {
      expect(p.example).toBe(true);
      expect(p.legalBasis.description.en).toMatch(/^Example for legal review/);
      expect(p.legalBasis.description.da).toMatch(/^Eksempel til juridisk gennemgang/);
      expect(p.file).toBe(path.join('policies', `${p.id}.policy.yaml`));
    }
    expect(set.purposes.get('rehabilitation-team-assessment')!.retention).toBe('P10Y');
  });

  it('finds candidates through its index', () => {
    expect(set.candidates(SUMMARY, 'BIF').map((p) => p.id)).toEqual([
      'bif-reads-social-coordination-summary',
      'bif-rehab-team-reads-social-efforts',
    ]);
    expect(set.candidates(STATUS, 'SOF').map((p) => p.id)).toEqual(['sof-reads-employment-status']);
    expect(set.candidates(STATUS, 'BIF')).toEqual([]);
  });

  it('is deep-frozen, maps included', () => {
    expect(Object.isFrozen(set)).toBe(true);
    expect(Object.isFrozen(set.policies)).toBe(true);
    expect(Object.isFrozen(set.policies[0]!.fields)).toBe(true);
    expect(Object.isFrozen(set.policies[0]!.legalBasis)).toBe(true);
    expect(Object.isFrozen(set.candidates(SUMMARY, 'BIF'))).toBe(true);
    expect(() => (set.purposes as unknown as Map<string, unknown>).set('curiosity', {})).toThrow(TypeError);
    expect(Object.isFrozen(set.purposes.get('plan-coordination'))).toBe(true);
  });

  it('has a stable SHA-256 digest of everything loaded', () => {
    expect(set.digest).toMatch(/^[0-9a-f]{64}$/);
    expect(loadPolicySet({ dir: POLICIES, contracts }).digest).toBe(set.digest);
    const changed = setOf(
      ...set.policies.map((p) => (p.id === 'sof-reads-employment-status' ? { ...p, fields: p.fields.slice(0, 2) } : p)),
    );
    expect(changed.digest).not.toBe(set.digest);
    expect(setOf(...set.policies).digest).toBe(set.digest);
  });
});

describe('loadPolicySet: refusing broken files, naming file, line and place', () => {
  function problems(fixture: string): readonly LoadError[] {
    try {
      loadPolicySet({ dir: path.join(BROKEN, fixture), contracts });
    } catch (err) {
      expect(err).toBeInstanceOf(LoadErrors);
      return (err as LoadErrors).errors;
    }
    throw new Error(`fixture ${fixture} loaded without errors`);
  }
  const file = (fixture: string, name: string) => path.join('test', 'fixtures', 'policies-broken', fixture, name);

  it('refuses a field the contract does not have', () => {
    const [e, ...rest] = problems('unknown-field');
    expect(rest).toEqual([]);
    expect(e).toMatchObject({ file: file('unknown-field', 'sof-reads-status.policy.yaml'), path: '/fields/1', line: 15 });
    expect(e!.message).toBe(
      `${file('unknown-field', 'sof-reads-status.policy.yaml')}:15 at /fields/1: "diagnosis" is not a field of employment.citizen-status.v1; its fields are: targetGroup, benefit, incomeSupport, jobcentreUnit, caseworkerContact, nextMeeting, nextMeetingDate, sanctions, sanctionInForceSince`,
    );
  });

  it('refuses a health field without an Art. 9 basis', () => {
    const [e, ...rest] = problems('health-without-art9');
    expect(rest).toEqual([]);
    expect(e).toMatchObject({ path: '/fields/1', line: 13 });
    expect(e!.problem).toContain('"efforts" is health data, a special category (GDPR Art. 9)');
    expect(e!.problem).toContain('legalBasis.gdprSpecial');
  });

  it('refuses an unknown purpose', () => {
    const [e, ...rest] = problems('unknown-purpose');
    expect(rest).toEqual([]);
    expect(e).toMatchObject({ path: '/purpose', line: 7 });
    expect(e!.problem).toBe(
      'unknown purpose "curiosity"; the purposes in purposes.yaml are: plan-coordination, rehabilitation-team-assessment',
    );
  });

  it('refuses overlapping policies, once per pair, and accepts periods that only touch', () => {
    const errors = problems('overlapping');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ file: file('overlapping', 'sof-reads-status-more.policy.yaml'), path: '/validity', line: 14 });
    expect(errors[0]!.problem).toContain('policy "sof-reads-status-more" overlaps policy "sof-reads-status"');
    expect(errors[0]!.problem).toContain('administration SOF, role caseworker-system and purpose plan-coordination');
  });

  it('refuses a YAML syntax error with its line', () => {
    const errors = problems('yaml-syntax');
    expect(errors.length).toBeGreaterThanOrEqual(1);
    expect(errors[0]).toMatchObject({ file: file('yaml-syntax', 'sof-reads-status.policy.yaml'), path: '' });
    expect(errors[0]!.line).toBeGreaterThanOrEqual(7);
    expect(errors[0]!.problem).toMatch(/^YAML syntax error/);
  });

  it('refuses a schema violation, every problem with its line', () => {
    const errors = problems('schema-violation');
    expect(errors.map((e) => [e.path, e.line, e.problem])).toEqual([
      ['', 1, 'missing required property "fields"'],
      ['/version', 2, 'must be integer'],
      [
        '/requester/roles/0',
        8,
        'must be one of ["caseworker-system","rehabilitation-team","coordinating-caseworker","provider","dpo","operations"]',
      ],
      ['/legalBasis/gdpr', 11, 'must match pattern "^Art\\. 6\\(1\\)\\([a-f]\\)"'],
      [
        '/feilds',
        15,
        'unknown property "feilds" (allowed here: id, version, example, title, contract, requester, recipient, purpose, legalBasis, consent, relation, subject, fields, validity, owner); did you mean "fields"?',
      ],
      ['/validity/from', 16, 'must be a real calendar date, YYYY-MM-DD'],
    ]);
  });

  it('refuses broken cross-rules: unknown contract and administration, Art. 9(2)(a) without consent, consent scope, periods, id and file name, unmarked example', () => {
    const errors = problems('cross-checks');
    expect(errors.map((e) => [e.file.split(path.sep).pop(), e.path, e.line])).toEqual([
      ['bif-consent-scope.policy.yaml', '/consent/categories', 13],
      // Health data on consent, accepting (by default) the recipient's own record of a paper form.
      ['bif-consent-scope.policy.yaml', '/consent/evidence', 13],
      ['bif-reads-summary.policy.yaml', '/id', 1],
      ['bif-reads-summary.policy.yaml', '/requester/administrations/1', 6],
      ['bif-reads-summary.policy.yaml', '/legalBasis/description', 12],
      ['bif-reads-summary.policy.yaml', '/consent/categories', 13],
      ['bif-reads-summary.policy.yaml', '/consent/required', 13],
      ['bif-reads-summary.policy.yaml', '/validity/to', 15],
      ['unknown-contract.policy.yaml', '/contract', 5],
    ]);
    expect(errors[0]!.problem).toContain('add contact');
    expect(errors[1]!.problem).toContain('must not accept "recorded-by-caseworker"');
    expect(errors[2]!.problem).toContain('name the file "bif-reads-summary-v2.policy.yaml"');
    expect(errors[3]!.problem).toContain('unknown administration "BUF"');
    expect(errors[4]!.problem).toContain('an example policy must say so');
    expect(errors[5]!.problem).toContain('only when consent is required');
    expect(errors[6]!.problem).toContain('Art. 9(2)(a)');
    expect(errors[7]!.problem).toContain('ends (2024-12-31) before it starts (2025-01-01)');
    expect(errors[8]!.problem).toContain('unknown contract "employment.citizen-status.v9"');
  });

  it('refuses broken registries: a purpose listed twice, an administration without an English name', () => {
    const errors = problems('broken-purposes');
    expect(errors.map((e) => [e.file.split(path.sep).pop(), e.path, e.line])).toEqual([
      ['administrations.yaml', '/administrations/0/name', 3],
      ['purposes.yaml', '/purposes/1/id', 7],
    ]);
  });

  it('puts every problem in one error message', () => {
    expect(() => loadPolicySet({ dir: path.join(BROKEN, 'cross-checks'), contracts })).toThrow(
      /^9 problem\(s\) in the gateway's files:\n {2}- test\/fixtures\/policies-broken\/cross-checks\/bif-consent-scope\.policy\.yaml:13 at \/consent\/categories: /,
    );
  });
});

describe('policy test cases', () => {
  it('notices a case whose expectation the policies do not meet, and incomplete coverage', async () => {
    const wrong: PolicyCase = {
      file: 'memory.test.yaml',
      line: 1,
      policy: 'bif-reads-social-coordination-summary',
      name: 'a caseworker system may read the efforts (wrong: it may not)',
      request: {
        contract: SUMMARY,
        administration: 'BIF',
        roles: ['caseworker-system'],
        purpose: 'plan-coordination',
        fields: ['efforts'],
        at: '2025-06-01',
      },
      expect: { decision: 'permit', policy: 'bif-reads-social-coordination-summary', fields: ['efforts'] },
    };
    const { results, coverage } = await runPolicyCases(set, contracts, [wrong]);
    expect(results[0]).toMatchObject({ ok: false, actual: { decision: 'deny', reasons: ['NO_FIELDS_PERMITTED'] } });
    expect(coverage.complete).toBe(false);
    expect(coverage.policiesWithoutCases).toEqual(
      set.policies.map((p) => p.id).filter((id) => id !== 'bif-reads-social-coordination-summary'),
    );
    expect(coverage.policiesWithoutDenyCase).toContain('bif-reads-social-coordination-summary');
    expect(coverage.fieldsNotExercised).toContainEqual({ policy: 'bif-reads-social-coordination-summary', field: 'actionPlan' });
  });

  it('refuses a broken case file with file and line', () => {
    let caught: unknown;
    try {
      loadPolicyCases(path.join(ROOT, 'test', 'fixtures', 'policy-cases-broken'));
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(LoadErrors);
    expect((caught as LoadErrors).errors.map((e) => [e.file.split(path.sep).pop(), e.path, e.line, e.problem])).toEqual([
      ['misnamed.test.yaml', '/cases/1/expect/reasons/0', 20, expect.stringContaining('must be one of')],
      ['misnamed.test.yaml', '/cases/2/expect', 28, 'missing required property "fields"'],
      [
        'twice.test.yaml',
        '/policy',
        1,
        'the cases are about "sof-reads-employment-status" but the file is named twice.test.yaml; name it "sof-reads-employment-status.test.yaml"',
      ],
      ['twice.test.yaml', '/cases/1/name', 12, 'two cases are named "the same name"; give each case its own name'],
    ]);
  });
});

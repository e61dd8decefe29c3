import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { PassThrough } from 'node:stream';
import path from 'node:path';
import { runContractNew } from '../src/cli/commands/contract-new.js';
import { runExplain } from '../src/cli/commands/explain.js';
import { runOpenApi } from '../src/cli/commands/openapi.js';
import { runPolicyTest } from '../src/cli/commands/policy-test.js';
import { runRecords } from '../src/cli/commands/records.js';
import { loadContracts } from '../src/contracts/registry.js';
import { loadPolicySet } from '../src/policy/loader.js';
import type { ProcessingRecord } from '../src/policy/records.js';
import { captureIO } from './support/cli-io.js';

const ROOT = process.cwd();
const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'check');
const contracts = loadContracts(path.join(ROOT, 'schemas'));
const policies = loadPolicySet({ dir: path.join(ROOT, 'policies'), contracts });

describe('snitflade policy test', () => {
  it('runs every case of the repository with full coverage', async () => {
    const io = captureIO();
    expect(await runPolicyTest({}, io)).toBe(0);
    expect(io.out()).toMatch(/\n(\d+) case\(s\): \1 passed, 0 failed\n/);
    expect(io.out()).toContain(`coverage: ${policies.policies.length}/${policies.policies.length} policies have a permit and a deny case`);
    expect(io.out()).toContain('permitted fields are released by a case (100%)');
  });

  it('fails on a failing case and says where, what was expected, what happened and why', async () => {
    const io = captureIO();
    expect(await runPolicyTest({ dir: path.join(FIXTURES, 'failing-case') }, io)).toBe(1);
    expect(io.err()).toContain('sof-reads-employment-status.test.yaml:17 "social caseworker system gets only the fields it asks for"');
    expect(io.err()).toContain('expected permit by sof-reads-employment-status of [benefit, sanctions, jobcentreUnit]');
    expect(io.err()).toContain('actual   permit by sof-reads-employment-status of [benefit, sanctions]');
    expect(io.err()).toContain('in force for role and purpose; releases benefit, sanctions');
    expect(io.out()).toContain('10 case(s): 9 passed, 1 failed');
  });

  it('fails when a policy has no deny case, and names the gap', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'snitflade-cov-'));
    try {
      cpSync(path.join(FIXTURES, 'valid'), dir, { recursive: true });
      const file = path.join(dir, 'policies', 'sof-reads-employment-status.test.yaml');
      const text = readFileSync(file, 'utf8');
      const cut = text.indexOf('\n  - name: social services may not read employment status for another purpose');
      writeFileSync(file, `${text.slice(0, cut)}\n`);
      const io = captureIO();
      expect(await runPolicyTest({ dir }, io)).toBe(1);
      expect(io.err()).toContain('! policy sof-reads-employment-status has no deny case');
      expect(io.out()).toContain('coverage: 1/2 policies have a permit and a deny case');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('snitflade explain', () => {
  it('explains a permit policy by policy: released, withheld, legal basis and each condition', async () => {
    const io = captureIO();
    const code = await runExplain(
      {
        contract: 'social.coordination-summary.v1',
        client: 'bif-jobcentre-system',
        purpose: 'plan-coordination',
        fields: ['openSocialCase', 'efforts'],
        at: '2025-06-01',
        // --relation BIF:cash-benefit --relation SOF:social-case: a shared citizen (need to know)
        relation: [
          { administration: 'BIF', capacity: 'cash-benefit' },
          { administration: 'SOF', capacity: 'social-case' },
        ],
      },
      io,
    );
    expect(code).toBe(0);
    const out = io.out();
    expect(out).toContain('  relations in force: BIF as cash-benefit, SOF as social-case\n');
    expect(out).toContain('Decision: PERMIT under bif-reads-social-coordination-summary v4');
    expect(out).toContain('  released: openSocialCase\n  withheld: efforts\n');
    expect(out).toContain('legal basis: Art. 6(1)(e); Forvaltningsloven § 28, stk. 1, jf. databeskyttelsesloven § 6, stk. 1');
    expect(out).toMatch(
      /✔ bif-reads-social-coordination-summary v4[^\n]*\n(.*\n){4}.*fields +would release openSocialCase; not efforts\n.*ok +subject +covers citizens aged 18 or over; the citizen is 40\n.*ok +relation +needs relations with the citizen: BIF as cash-benefit or sickness-benefit or rehabilitation-case; SOF as any capacity; assumed: BIF as cash-benefit, SOF as social-case\n/,
    );
    expect(out).toMatch(
      /✘ bif-rehab-team-reads-social-efforts v4[^\n]*\n.*\n.*ok +role +the caller holds rehabilitation-team\n.*FAIL purpose +only for "rehabilitation-team-assessment", not "plan-coordination"/,
    );
  });

  it('explains a deny: the consent the policy needs and what the registry answered', async () => {
    const io = captureIO();
    await runExplain(
      {
        contract: 'health.rehabilitation-info.v1',
        administration: 'BIF',
        roles: ['rehabilitation-team'],
        purpose: 'rehabilitation-team-assessment',
        consent: 'withdrawn',
        at: '2025-06-01',
        json: true,
      },
      io,
    );
    const e = JSON.parse(io.out());
    expect(e).toMatchObject({
      decision: 'deny',
      reasons: ['CONSENT_WITHDRAWN'],
      released: [],
      withheld: ['healthServices', 'functionalLevel', 'healthContact'],
    });
    expect(e.policies).toHaveLength(1);
    expect(e.policies[0].checks.find((c: { check: string }) => c.check === 'consent')).toEqual({
      check: 'consent',
      ok: false,
      detail:
        'requires the citizen\'s consent covering health, contact, evidenced as citizen-signed or recorded-by-other-administration; the registry answers "withdrawn"',
    });
  });

  it('says default deny when no policy names the contract for the administration', async () => {
    const io = captureIO();
    await runExplain(
      {
        contract: 'employment.citizen-status.v1',
        administration: 'BUF',
        roles: ['caseworker-system'],
        purpose: 'plan-coordination',
        at: '2025-06-01',
      },
      io,
    );
    expect(io.out()).toContain('Decision: DENY (NO_POLICY)');
    expect(io.out()).toContain('No policy lets BUF use employment.citizen-status.v1: default deny.');
    expect(io.out()).toMatch(/FAIL administration +names SOF, not BUF/);
  });

  it('refuses an unknown client with the registered ones', async () => {
    const io = captureIO();
    expect(await runExplain({ contract: 'employment.citizen-status.v1', client: 'no-such-system', purpose: 'plan-coordination' }, io)).toBe(
      2,
    );
    expect(io.err()).toContain('no client "no-such-system"');
    expect(io.err()).toContain('sof-case-system');
  });
});

describe('snitflade openapi', () => {
  it('writes an OpenAPI 3.1 document with a path for every contract', async () => {
    const io = captureIO();
    expect(await runOpenApi({ server: 'https://gateway.example' }, io)).toBe(0);
    const doc = JSON.parse(io.out());
    expect(doc.openapi).toMatch(/^3\.1/);
    const paths = Object.keys(doc.paths);
    for (const c of contracts.list()) expect(paths).toContain(`/v1/${c.kind === 'query' ? 'queries' : 'notifications'}/${c.id}`);
  });
});

describe('snitflade records (GDPR Art. 30)', () => {
  it('lists every purpose and every recipient and provider named in the policies, as JSON', async () => {
    const io = captureIO();
    expect(await runRecords({ format: 'json', controller: 'Københavns Kommune' }, io)).toBe(0);
    const record = JSON.parse(io.out()) as ProcessingRecord;
    expect(record.controller).toBe('Københavns Kommune');
    expect(record.policySet).toBe(policies.digest);
    expect(record.activities.map((a) => a.purpose.id).sort()).toEqual([...policies.purposes.keys()].sort());
    for (const p of policies.policies) {
      const a = record.activities.find((x) => x.purpose.id === p.purpose)!;
      for (const admin of p.requester.administrations) expect(a.recipients.map((r) => r.id)).toContain(admin);
      expect(a.providers.map((r) => r.id)).toContain(contracts.get(p.contract)!.provider.administration);
      const e = a.exchanges.find((x) => x.policy.id === p.id)!;
      expect(e.fields.map((f) => f.name)).toEqual(p.fields);
      expect(e.legalBasis.national).toBe(p.legalBasis.national);
      expect(a.retention.duration).toBe(policies.purposes.get(p.purpose)!.retention);
    }
    const rehab = record.activities.find((a) => a.purpose.id === 'rehabilitation-team-assessment')!;
    expect(rehab.specialCategories).toBe(true);
    expect(rehab.dataCategories.find((c) => c.category === 'health')).toMatchObject({ special: true });
    expect(rehab.legalBases.some((b) => b.includes('Art. 9(2)(b)'))).toBe(true);
  });

  it('writes Markdown with an overview row per purpose and a section per purpose', async () => {
    const io = captureIO();
    expect(await runRecords({ format: 'markdown' }, io)).toBe(0);
    const md = io.out();
    expect(md).toMatch(/^# Record of processing activities \(GDPR Art\. 30\)/);
    for (const p of policies.purposes.values()) {
      expect(md).toContain(`## ${p.title.en} (\`${p.id}\`)`);
      expect(md).toContain(`| ${p.title.en} (\`${p.id}\`) |`);
    }
    for (const p of policies.policies) expect(md).toContain(`| \`${p.id}\` v${p.version}`);
    for (const a of policies.administrations.values()) {
      if (policies.policies.some((p) => p.requester.administrations.includes(a.id))) expect(md).toContain(`${a.name.en} (${a.id})`);
    }
  });
});

describe('snitflade contract new', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'snitflade-new-'));
    cpSync(path.join(ROOT, 'schemas'), path.join(dir, 'schemas'), { recursive: true });
    cpSync(path.join(ROOT, 'policies'), path.join(dir, 'policies'), { recursive: true });
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('scaffolds a contract, its schemas, a policy and its test cases that pass the check', async () => {
    const io = captureIO();
    const code = await runContractNew(
      {
        dir,
        id: 'social.housing-status.v1',
        title: 'Housing status at social services',
        description: 'Whether the citizen has housing support and lives in municipally assigned housing.',
        provider: 'sof-case-system',
        field: [
          'housingSupport:social:boolean:Bostøtte:Housing support',
          'assignedHousing:social:enum=none|temporary|permanent',
          'housingContact:contact',
        ],
        requester: ['BIF'],
        purpose: 'plan-coordination',
        national: 'Retssikkerhedsloven § 11 c (example)',
        from: '2026-01-01',
      },
      io,
    );
    expect(io.err()).toBe('');
    expect(code).toBe(0);
    expect(io.out()).toContain('check passed');
    const contract = JSON.parse(readFileSync(path.join(dir, 'schemas', 'social.housing-status.v1.json'), 'utf8'));
    expect(contract.provider).toEqual({ administration: 'SOF', system: 'sof-case-system' });
    expect(contract.fields.housingSupport).toEqual({ category: 'social', label: { da: 'Bostøtte', en: 'Housing support' } });
    expect(contract.response.properties.assignedHousing).toEqual({ type: 'string', enum: ['none', 'temporary', 'permanent'] });
    expect(contract.request.properties.fields.items.enum).toEqual(['housingSupport', 'assignedHousing', 'housingContact']);
    const policy = readFileSync(path.join(dir, 'policies', 'bif-reads-housing-status.policy.yaml'), 'utf8');
    expect(policy).toContain('example: true');
    expect(policy).toContain('fields: [housingSupport, assignedHousing, housingContact]');
    expect(contract.subject).toEqual({ age: { min: 18 } });
    expect(policy).toContain('subject:\n  age: { min: 18 }\n');
    const cases = readFileSync(path.join(dir, 'policies', 'bif-reads-housing-status.test.yaml'), 'utf8');
    expect(cases).toContain(
      'expect: { decision: permit, policy: bif-reads-housing-status, fields: [housingSupport, assignedHousing, housingContact] }',
    );
    expect(cases).toContain('expect: { decision: deny, reasons: [NO_POLICY] }');
    const tested = captureIO();
    expect(await runPolicyTest({ dir }, tested)).toBe(0);
  });

  it('scaffolds a health field with an Art. 9 consent basis, consent required, and a consent deny case', async () => {
    const io = captureIO();
    const code = await runContractNew(
      {
        dir,
        id: 'health.care-contact.v1',
        title: 'Care contact',
        provider: 'suf-health-system',
        field: ['homeCare:health:boolean'],
        requester: ['BIF'],
        role: ['rehabilitation-team'],
        purpose: 'rehabilitation-team-assessment',
        art9: 'Art. 9(2)(a)',
      },
      io,
    );
    expect(io.err()).toBe('');
    expect(code).toBe(0);
    const policy = readFileSync(path.join(dir, 'policies', 'bif-reads-care-contact.policy.yaml'), 'utf8');
    expect(policy).toContain('gdprSpecial: "Art. 9(2)(a)"');
    expect(policy).toContain('required: true\n  categories: [health]');
    expect(readFileSync(path.join(dir, 'policies', 'bif-reads-care-contact.test.yaml'), 'utf8')).toContain('reasons: [CONSENT_MISSING]');
  });

  it("scaffolds a child's data as a contract about children, with a policy about children and no Art. 9 basis", async () => {
    const io = captureIO();
    const code = await runContractNew(
      {
        dir,
        id: 'child.school-attendance.v1',
        title: "A child's school attendance",
        provider: 'buf-youth-system',
        field: ['attendance:child:enum=regular|irregular|absent'],
        requester: ['SOF'],
        purpose: 'youth-coordination',
        national: 'Barnets lov (example)',
      },
      io,
    );
    expect(io.err()).toBe('');
    expect(code).toBe(0);
    const contract = JSON.parse(readFileSync(path.join(dir, 'schemas', 'child.school-attendance.v1.json'), 'utf8'));
    expect(contract.subject).toEqual({ age: { max: 17 } });
    const policy = readFileSync(path.join(dir, 'policies', 'sof-reads-school-attendance.policy.yaml'), 'utf8');
    expect(policy).not.toContain('gdprSpecial');
    expect(policy).toContain('subject:\n  age: { max: 17 }\nfields: [attendance]');
    expect(readFileSync(path.join(dir, 'policies', 'sof-reads-school-attendance.test.yaml'), 'utf8')).toContain('subjectAge: 12');
    // Any other contract is about adults, and so is its policy.
    const adult = JSON.parse(readFileSync(path.join(dir, 'schemas', 'employment.citizen-status.v1.json'), 'utf8'));
    expect(adult.subject).toEqual({ age: { min: 18 } });
  });

  it('asks for what the flags do not give when standard input is a terminal', async () => {
    const stdin = Object.assign(new PassThrough(), { isTTY: true });
    stdin.end(
      [
        'social.housing-status.v1',
        'sof-case-system',
        'Housing status',
        '',
        'housingSupport:social:boolean',
        '',
        'BIF',
        '',
        'plan-coordination',
        '',
      ].join('\n'),
    );
    const io = { ...captureIO(), stdin };
    expect(await runContractNew({ dir, national: 'Retssikkerhedsloven § 11 c' }, io)).toBe(0);
    expect(io.err()).toContain('Contract id (<area>.<name>.v1, e.g. social.housing-status.v1): ');
    expect(io.err()).toContain(
      'Role(s) of the asking system (caseworker-system, rehabilitation-team, coordinating-caseworker, provider, dpo, operations) [caseworker-system]: ',
    );
    const contract = JSON.parse(readFileSync(path.join(dir, 'schemas', 'social.housing-status.v1.json'), 'utf8'));
    expect(contract).toMatchObject({ title: 'Housing status', description: 'Housing status', provider: { system: 'sof-case-system' } });
    expect(contract.fields).toEqual({ housingSupport: { category: 'social', label: { da: 'Housing support', en: 'Housing support' } } });
    expect(readFileSync(path.join(dir, 'policies', 'bif-reads-housing-status.policy.yaml'), 'utf8')).toContain(
      'roles: [caseworker-system]',
    );
  });

  it('writes nothing and says what is missing when a special-category field has no Art. 9 basis', async () => {
    const before = readdirSync(path.join(dir, 'policies')).length;
    const io = captureIO();
    const code = await runContractNew(
      {
        dir,
        id: 'health.care-contact.v1',
        title: 'Care contact',
        provider: 'suf-health-system',
        field: ['homeCare:health:boolean'],
        requester: ['BIF'],
        purpose: 'rehabilitation-team-assessment',
      },
      io,
    );
    expect(code).toBe(2);
    expect(io.err()).toContain('✘ --art9: homeCare (health) is a special category (GDPR Art. 9); give the Art. 9(2) basis');
    expect(io.err()).toContain('nothing was written');
    expect(existsSync(path.join(dir, 'schemas', 'health.care-contact.v1.json'))).toBe(false);
    expect(readdirSync(path.join(dir, 'policies'))).toHaveLength(before);
  });

  it('refuses unknown providers, purposes, categories and field names, and never overwrites', async () => {
    const io = captureIO();
    const code = await runContractNew(
      {
        dir,
        id: 'social.x.v1',
        title: 'X',
        provider: 'nobody',
        field: ['Bad-Name:social', 'ok:secret'],
        requester: ['XYZ'],
        purpose: 'gossip',
      },
      io,
    );
    expect(code).toBe(2);
    const err = io.err();
    expect(err).toContain('--provider: "nobody" is not registered');
    expect(err).toContain('--field field "Bad-Name": names are plain camelCase');
    expect(err).toContain('--field field "ok": the category must be one of identifier, contact, employment, social, health, child, plan');
    expect(err).toContain('--requester: "XYZ" is not in administrations.yaml');
    expect(err).toContain('--purpose: "gossip" is not in purposes.yaml');
    const again = captureIO();
    expect(
      await runContractNew(
        {
          dir,
          id: 'employment.citizen-status.v1',
          title: 'X',
          provider: 'bif-jobcentre-system',
          field: ['a:social'],
          requester: ['SOF'],
          purpose: 'plan-coordination',
        },
        again,
      ),
    ).toBe(2);
    expect(again.err()).toContain('employment.citizen-status.v1.json already exists; nothing was written');
  });
});

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import { parse } from 'yaml';
import { CONTRACT_ID, DATA_CATEGORIES, FIELD_NAME } from '../../contracts/meta-schema.js';
import { ADULT_AGE, CHILD_CATEGORY, SPECIAL_CATEGORIES, type ContractSubject, type DataCategory } from '../../contracts/types.js';
import { checkRules } from '../../rules/check.js';
import { copenhagenDate } from '../../policy/dates.js';
import { ROLES } from '../../policy/roles.js';
import { POLICY_ID } from '../../policy/schemas.js';
import { list, processIO, readClientRoles, rulePaths, withDirOptions, type CliIO, type DirOptions } from './shared.js';

/**
 * `snitflade contract new`: scaffolds a new query exchange from a few answers: the contract
 * (schemas/<id>.json with its request and response schemas and field categories), an example
 * policy for the requesting administration and its policy test cases (a permit and a deny), then
 * runs the check on the result. Answers come from flags; missing ones are asked for when standard
 * input is a terminal.
 */

export const FIELD_TYPES = ['text', 'boolean', 'date', 'integer'] as const;

export interface ContractNewOptions extends DirOptions {
  id?: string;
  title?: string;
  description?: string;
  /** The providing system (a registered client); its administration is the contract's. */
  provider?: string;
  /** name:category[:type[:Danish label[:English label]]]; type is text, boolean, date, integer or enum=a|b|c. */
  field?: string[];
  requester?: string[];
  role?: string[];
  purpose?: string;
  gdpr?: string;
  /** The Art. 9(2) basis; needed when a field is health data. */
  art9?: string;
  /** The national provision, as text. */
  national?: string;
  consent?: boolean;
  owner?: string;
  policyId?: string;
  from?: string;
}

interface FieldSpec {
  readonly name: string;
  readonly category: DataCategory;
  readonly schema: Record<string, unknown>;
  readonly da: string;
  readonly en: string;
}

/** Answers from flags, else from the terminal, line by line (typed ahead or pasted lines are kept). */
class Answers {
  readonly #io: CliIO;
  #rl: ReturnType<typeof createInterface> | undefined;
  #lines: AsyncIterator<string> | undefined;
  constructor(io: CliIO) {
    this.#io = io;
  }
  get interactive(): boolean {
    return this.#io.stdin?.isTTY === true;
  }
  async ask(question: string, fallback?: string): Promise<string | undefined> {
    if (!this.interactive) return fallback;
    if (!this.#lines) {
      this.#rl = createInterface({ input: this.#io.stdin!, crlfDelay: Infinity });
      this.#lines = this.#rl[Symbol.asyncIterator]();
    }
    this.#io.stderr.write(`${question}${fallback !== undefined ? ` [${fallback}]` : ''}: `);
    const next = await this.#lines.next();
    const answer = next.done ? '' : next.value.trim();
    return answer === '' ? fallback : answer;
  }
  close(): void {
    this.#rl?.close();
  }
}

/** "housingSupport" -> "Housing support". */
function words(name: string): string {
  const spaced = name.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase();
  return spaced.charAt(0).toUpperCase() + spaced.slice(1);
}

function fieldSchema(type: string): Record<string, unknown> | undefined {
  if (type === 'text') return { type: 'string', minLength: 1, maxLength: 200 };
  if (type === 'boolean') return { type: 'boolean' };
  if (type === 'date') return { type: ['string', 'null'], format: 'date' };
  if (type === 'integer') return { type: 'integer', minimum: 0, maximum: 1000000000 };
  const values = /^enum=(.+)$/
    .exec(type)?.[1]
    ?.split('|')
    .map((v) => v.trim())
    .filter((v) => v.length > 0);
  if (values && values.length > 0 && values.every((v) => /^[a-z0-9][a-z0-9-]{0,63}$/.test(v)))
    return { type: 'string', enum: [...new Set(values)] };
  return undefined;
}

/** Parses one --field; returns the field or a problem. */
export function parseField(spec: string): FieldSpec | string {
  const [name = '', category = '', type = 'text', da, en] = spec.split(':').map((s) => s.trim());
  if (!new RegExp(FIELD_NAME).test(name))
    return `field "${name}": names are plain camelCase (a letter, then letters and digits), e.g. housingSupport`;
  if (!(DATA_CATEGORIES as readonly string[]).includes(category))
    return `field "${name}": the category must be one of ${DATA_CATEGORIES.join(', ')}`;
  const schema = fieldSchema(type);
  if (!schema) return `field "${name}": the type must be ${FIELD_TYPES.join(', ')} or enum=a|b|c (lower-case values)`;
  const english = en && en.length > 0 ? en : words(name);
  return { name, category: category as DataCategory, schema, da: da && da.length > 0 ? da : english, en: english };
}

const q = (s: string): string => JSON.stringify(s);

function policyYaml(p: {
  id: string;
  title: string;
  contract: string;
  requesters: string[];
  roles: string[];
  purpose: string;
  gdpr: string;
  art9?: string;
  national: string;
  description: string;
  consent: DataCategory[] | undefined;
  /** Special categories or a child's data on consent: only evidence the recipient cannot make itself. */
  strictEvidence: boolean;
  subject: ContractSubject;
  fields: string[];
  from: string;
  owner: string;
}): string {
  return [
    "# EXAMPLE POLICY FOR LEGAL REVIEW, scaffolded by `snitflade contract new`. The municipality's lawyers",
    '# and DPO must confirm (or replace) the legal basis, then set example: false.',
    `id: ${p.id}`,
    'version: 1',
    'example: true',
    `title: ${q(p.title)}`,
    `contract: ${p.contract}`,
    'requester:',
    `  administrations: [${p.requesters.join(', ')}]`,
    `  roles: [${p.roles.join(', ')}]`,
    `purpose: ${p.purpose}`,
    'legalBasis:',
    `  gdpr: ${q(p.gdpr)}`,
    ...(p.art9 ? [`  gdprSpecial: ${q(p.art9)}`] : []),
    `  national: ${q(p.national)}`,
    `  description: ${q(p.description)}`,
    'consent:',
    `  required: ${p.consent ? 'true' : 'false'}`,
    ...(p.consent ? [`  categories: [${p.consent.join(', ')}]`] : []),
    // Special categories or a child's data on consent: not on the recipient's own record of a paper form.
    ...(p.consent && p.strictEvidence ? ['  evidence: [citizen-signed, recorded-by-other-administration]'] : []),
    // Whom the policy is about: within the contract's subject (the loader checks it).
    'subject:',
    `  age: { ${ageBounds(p.subject)} }`,
    `fields: [${p.fields.join(', ')}]`,
    'validity:',
    `  from: ${p.from}`,
    `owner: ${q(p.owner)}`,
    '',
  ].join('\n');
}

/** "min: 18", "max: 17" or "min: 18, max: 29": a subject's age bounds as YAML or JSON-ish text. */
function ageBounds(subject: ContractSubject): string {
  const { min, max } = subject.age;
  return [min !== undefined ? `min: ${min}` : '', max !== undefined ? `max: ${max}` : ''].filter((x) => x !== '').join(', ');
}

interface CaseSpec {
  name: string;
  administration: string;
  roles: string[];
  purpose: string;
  fields: string[];
  at: string;
  consent?: string;
  subjectAge?: number;
  expect: string;
}

function casesYaml(policy: string, contract: string, cases: CaseSpec[]): string {
  const body = cases.map((c) =>
    [
      `  - name: ${q(c.name)}`,
      '    request:',
      `      contract: ${contract}`,
      `      administration: ${c.administration}`,
      `      roles: [${c.roles.join(', ')}]`,
      `      purpose: ${c.purpose}`,
      `      fields: [${c.fields.join(', ')}]`,
      `      at: ${c.at}`,
      ...(c.consent ? [`      consent: ${c.consent}`] : []),
      ...(c.subjectAge !== undefined ? [`      subjectAge: ${c.subjectAge}`] : []),
      `    expect: ${c.expect}`,
    ].join('\n'),
  );
  return [
    `# What the policy ${policy} is meant to allow and refuse (scaffolded: add the cases the lawyers care about).`,
    `policy: ${policy}`,
    'cases:',
    body.join('\n\n'),
    '',
  ].join('\n');
}

function readIds(file: string, key: string): string[] {
  try {
    const doc = parse(readFileSync(file, 'utf8')) as Record<string, { id?: unknown }[]> | null;
    return (doc?.[key] ?? []).map((x) => x.id).filter((x): x is string => typeof x === 'string');
  } catch {
    return [];
  }
}

/** Scaffolds the files; returns the exit code (0 when the result passes the check). */
export async function runContractNew(o: ContractNewOptions, io: CliIO = processIO): Promise<number> {
  const answers = new Answers(io);
  try {
    return await scaffold(o, io, answers);
  } finally {
    answers.close();
  }
}

async function scaffold(o: ContractNewOptions, io: CliIO, answers: Answers): Promise<number> {
  const paths = rulePaths(o);
  const problems: string[] = [];
  const clients = (() => {
    try {
      return readClientRoles(paths.clients);
    } catch {
      return new Map<string, { administration: string; roles: readonly string[] }>();
    }
  })();
  const purposes = readIds(path.join(paths.policies, 'purposes.yaml'), 'purposes');
  const administrations = readIds(path.join(paths.policies, 'administrations.yaml'), 'administrations');

  const id = o.id ?? (await answers.ask('Contract id (<area>.<name>.v1, e.g. social.housing-status.v1)'));
  const providerId =
    o.provider ??
    (await answers.ask(
      `Providing system (${[...clients.entries()]
        .filter(([, c]) => c.roles.includes('provider'))
        .map(([k]) => k)
        .join(', ')})`,
    ));
  const title = o.title ?? (await answers.ask('Title (one line)'));
  const description = o.description ?? (await answers.ask('Description (what is exchanged and why)', title));
  let fieldSpecs = o.field ?? [];
  if (fieldSpecs.length === 0 && answers.interactive) {
    io.stderr.write(
      `Fields, one per line as name:category[:type[:Danish label[:English label]]]; categories: ${DATA_CATEGORIES.join(', ')}; types: ${FIELD_TYPES.join(', ')}, enum=a|b|c. Empty line to finish.\n`,
    );
    for (;;) {
      const f = await answers.ask('Field');
      if (f === undefined || f === '') break;
      fieldSpecs = [...fieldSpecs, f];
    }
  }
  const requesters = o.requester ?? list((await answers.ask(`Requesting administration(s) (${administrations.join(', ')})`)) ?? '');
  const roles =
    o.role ?? list((await answers.ask(`Role(s) of the asking system (${ROLES.join(', ')})`, 'caseworker-system')) ?? 'caseworker-system');
  const purpose = o.purpose ?? (await answers.ask(`Purpose (${purposes.join(', ')})`));

  if (!id || !new RegExp(CONTRACT_ID).test(id))
    problems.push(
      `--id: a contract id is dotted lower-case words ending in the version, e.g. social.housing-status.v1${id ? ` (got "${id}")` : ''}`,
    );
  const provider = providerId ? clients.get(providerId) : undefined;
  if (!providerId) problems.push('--provider: name the system that provides the data (a client in clients.yaml)');
  else if (!provider)
    problems.push(
      `--provider: "${providerId}" is not registered in ${path.relative(process.cwd(), paths.clients) || paths.clients}; register it first (id, administration, roles [provider], certificate, signing key, endpoint)`,
    );
  if (!title) problems.push('--title: give the contract a one-line title');
  const fields: FieldSpec[] = [];
  for (const spec of fieldSpecs) {
    const f = parseField(spec);
    if (typeof f === 'string') problems.push(`--field ${f}`);
    else if (fields.some((x) => x.name === f.name)) problems.push(`--field "${f.name}" is given twice`);
    else fields.push(f);
  }
  if (fieldSpecs.length === 0)
    problems.push('--field: name at least one response field, e.g. --field housingSupport:social:boolean:Bostøtte:Housing support');
  if (requesters.length === 0) problems.push('--requester: name the administration(s) that may ask, e.g. --requester BIF');
  for (const a of requesters)
    if (administrations.length > 0 && !administrations.includes(a))
      problems.push(`--requester: "${a}" is not in administrations.yaml (${administrations.join(', ')})`);
  for (const r of roles) if (!(ROLES as readonly string[]).includes(r)) problems.push(`--role: "${r}" is not a role (${ROLES.join(', ')})`);
  if (!purpose) problems.push(`--purpose: name the purpose (${purposes.join(', ')})`);
  else if (purposes.length > 0 && !purposes.includes(purpose))
    problems.push(
      `--purpose: "${purpose}" is not in purposes.yaml (${purposes.join(', ')}); add it there first, with its legal bases and retention`,
    );

  const special = fields.filter((f) => SPECIAL_CATEGORIES.includes(f.category));
  const art9 =
    o.art9 ??
    (special.length > 0
      ? await answers.ask(`Art. 9(2) basis for ${special.map((f) => f.name).join(', ')} (e.g. Art. 9(2)(a) = explicit consent)`)
      : undefined);
  if (special.length > 0 && !art9) {
    problems.push(
      `--art9: ${special.map((f) => `${f.name} (${f.category})`).join(', ')} ${special.length === 1 ? 'is' : 'are'} a special category (GDPR Art. 9); give the Art. 9(2) basis, e.g. --art9 "Art. 9(2)(a)" (explicit consent), or drop the field`,
    );
  }
  if (art9 !== undefined && !/^Art\. 9\(2\)\([a-j]\)/.test(art9)) problems.push(`--art9: write it as "Art. 9(2)(x)" (got "${art9}")`);
  const gdpr = o.gdpr ?? 'Art. 6(1)(e)';
  if (!/^Art\. 6\(1\)\([a-f]\)/.test(gdpr)) problems.push(`--gdpr: write it as "Art. 6(1)(x)" (got "${gdpr}")`);
  const from = o.from ?? copenhagenDate(new Date());

  if (problems.length > 0) {
    for (const p of problems) io.stderr.write(`✘ ${p}\n`);
    io.stderr.write('nothing was written. Run "npx snitflade contract new --help" for the flags.\n');
    return 2;
  }

  const contractId = id!;
  const name = contractId.split('.').slice(1, -1).join('-');
  const policyId = o.policyId ?? `${requesters[0]!.toLowerCase()}-reads-${name}`;
  if (!new RegExp(POLICY_ID).test(policyId)) {
    io.stderr.write(`✘ --policy-id: "${policyId}" is not a policy id (lower-case words joined by "-")\n`);
    return 2;
  }
  const files = {
    contract: path.join(paths.schemas, `${contractId}.json`),
    policy: path.join(paths.policies, `${policyId}.policy.yaml`),
    cases: path.join(paths.policies, `${policyId}.test.yaml`),
  };
  const existing = Object.values(files).filter((f) => existsSync(f));
  if (existing.length > 0) {
    io.stderr.write(
      `✘ ${existing.join(', ')} already exist${existing.length === 1 ? 's' : ''}; nothing was written (a new version of a contract is a new id, e.g. .v2)\n`,
    );
    return 2;
  }

  const names = fields.map((f) => f.name);
  // Whom the data is about: a child's data is a contract about children; anything else is about adults.
  const aboutChildren = fields.some((f) => f.category === CHILD_CATEGORY);
  const subject: ContractSubject = { age: aboutChildren ? { max: ADULT_AGE - 1 } : { min: ADULT_AGE } };
  const caseAge = aboutChildren ? { subjectAge: 12 } : {};
  const contract = {
    id: contractId,
    title,
    description,
    kind: 'query',
    provider: { administration: provider!.administration, system: providerId },
    subject,
    request: {
      type: 'object',
      additionalProperties: false,
      required: ['cpr', 'fields'],
      properties: {
        cpr: { type: 'string', format: 'cpr' },
        fields: { type: 'array', minItems: 1, maxItems: names.length, uniqueItems: true, items: { type: 'string', enum: names } },
      },
    },
    response: { type: 'object', additionalProperties: false, properties: Object.fromEntries(fields.map((f) => [f.name, f.schema])) },
    fields: Object.fromEntries(fields.map((f) => [f.name, { category: f.category, label: { da: f.da, en: f.en } }])),
  };
  const consentCategories = o.consent || art9?.startsWith('Art. 9(2)(a)') ? [...new Set(fields.map((f) => f.category))] : undefined;
  const owner = o.owner ?? `${requesters[0]} legal office (policy owner role), with the DPO`;
  writeFileSync(files.contract, `${JSON.stringify(contract, null, 2)}\n`);
  writeFileSync(
    files.policy,
    policyYaml({
      id: policyId,
      title: `${requesters.join(' and ')} may read ${title!.charAt(0).toLowerCase()}${title!.slice(1)} for ${purpose}`,
      contract: contractId,
      requesters,
      roles,
      purpose: purpose!,
      gdpr,
      ...(art9 ? { art9 } : {}),
      national: o.national ?? "(the national provision, to be written by the municipality's lawyers)",
      description: `Example for legal review, not legal advice. ${description}`,
      consent: consentCategories,
      strictEvidence: special.length > 0 || aboutChildren,
      subject,
      fields: names,
      from,
      owner,
    }),
  );
  const other =
    administrations.find((a) => !requesters.includes(a) && a !== provider!.administration) ??
    administrations.find((a) => !requesters.includes(a));
  const cases: CaseSpec[] = [
    {
      name: `${requesters[0]} may read the ${name.replaceAll('-', ' ')} for ${purpose}`,
      administration: requesters[0]!,
      roles,
      purpose: purpose!,
      fields: names,
      at: from,
      ...(consentCategories ? { consent: 'active' } : {}),
      ...caseAge,
      expect: `{ decision: permit, policy: ${policyId}, fields: [${names.join(', ')}] }`,
    },
  ];
  if (consentCategories) {
    cases.push({
      name: 'without a recorded consent nothing is released',
      administration: requesters[0]!,
      roles,
      purpose: purpose!,
      fields: names,
      at: from,
      consent: 'missing',
      ...caseAge,
      expect: '{ decision: deny, reasons: [CONSENT_MISSING] }',
    });
  }
  if (other) {
    cases.push({
      name: `${other} may not read it`,
      administration: other,
      roles,
      purpose: purpose!,
      fields: [names[0]!],
      at: from,
      ...(consentCategories ? { consent: 'active' } : {}),
      ...caseAge,
      expect: '{ decision: deny, reasons: [NO_POLICY] }',
    });
  }
  writeFileSync(files.cases, casesYaml(policyId, contractId, cases));

  for (const f of Object.values(files)) io.stdout.write(`wrote ${path.relative(process.cwd(), f) || f}\n`);
  const report = await checkRules(paths, { runCases: true });
  for (const e of report.errors) io.stderr.write(`✘ ${e.message}\n`);
  if (report.errors.length > 0) {
    io.stderr.write('the check fails: fix the files above (they were kept so you can).\n');
    return 1;
  }
  io.stdout.write(
    [
      "check passed (the new policy's test cases included). Next:",
      `  1. labels: check the Danish and English labels in ${path.basename(files.contract)}; tighten the schemas (enums, lengths)`,
      `  2. the provider ${providerId} must answer POST /snitflade/v1/queries/${contractId} (the demo's systems are code in src/simulators/: stop and start npm start again, a reload does not change them)`,
      `  3. the lawyers and the DPO review ${path.basename(files.policy)} (legal basis, fields) and add cases to ${path.basename(files.cases)}`,
      '  4. the DPO runs "npx snitflade impact" and "npx snitflade records" on the change; then reload (SIGHUP or POST /v1/admin/reload)',
      '',
    ].join('\n'),
  );
  return 0;
}

export function registerContractNew(program: Command, io: CliIO = processIO): void {
  const contract = program.command('contract').description('contract tools');
  withDirOptions(
    contract
      .command('new')
      .description('scaffold a query contract, its schemas, an example policy and its test cases; asks for what is missing on a terminal')
      .option('--id <id>', 'the contract id, e.g. social.housing-status.v1')
      .option('--title <text>', 'a one-line title')
      .option('--description <text>', 'what is exchanged and why')
      .option('--provider <system>', 'the providing system (a client in clients.yaml)')
      .option(
        '--field <spec>',
        'a response field: name:category[:type[:Danish label[:English label]]] (repeat for more)',
        (v: string, prev: string[] = []) => [...prev, v],
      )
      .option('--requester <admins>', 'the requesting administration(s), comma-separated', list)
      .option('--role <roles>', "the asking system's role(s), comma-separated (default caseworker-system)", list)
      .option('--purpose <id>', 'the purpose from purposes.yaml')
      .option('--gdpr <text>', 'the GDPR Art. 6(1) basis', 'Art. 6(1)(e)')
      .option('--art9 <text>', 'the Art. 9(2) basis, needed for health fields, e.g. "Art. 9(2)(a)"')
      .option('--national <text>', 'the national provision, as text')
      .option('--consent', "the policy requires the citizen's consent")
      .option('--owner <text>', 'the policy owner (a role, not a person)')
      .option('--policy-id <id>', 'the policy id (default <requester>-reads-<name>)')
      .option('--from <date>', 'the policy is valid from (YYYY-MM-DD; default today)'),
  ).action(async (o: ContractNewOptions) => {
    process.exitCode = await runContractNew(o, io);
  });
}

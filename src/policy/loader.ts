import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { ValidateFunction } from 'ajv';
import { contractAjv } from '../contracts/ajv.js';
import { displayPath } from '../contracts/registry.js';
import { byFileAndLine, parseYamlSource, schemaErrors, type SourceFile } from '../contracts/source.js';
import {
  ADULT_AGE,
  CHILD_CATEGORY,
  SPECIAL_CATEGORIES,
  type Administration,
  type Contract,
  type ContractRegistry,
} from '../contracts/types.js';
import { ageRangeText } from './evaluate.js';
import { deepFreeze } from '../lib/deep-freeze.js';
import { DEFAULT_EVIDENCE } from './evidence.js';
import { canonicalJson, sha256hex } from '../lib/digest.js';
import { LoadError, LoadErrors } from '../lib/load-error.js';
import { localText, type LocalText } from '../lib/local-text.js';
import { FrozenMap } from '../lib/frozen-map.js';
import { administrationsSchema, policySchema, purposesSchema } from './schemas.js';
import { dependentContentDigest, policyContentDigest } from './approvals/digest.js';
import { RESERVED_POLICY_IDS } from './approvals/registries.js';
import type { AdministrationInfo, LoadedPolicySet, Policy, PolicyApprovals, Purpose, RelationRequirement } from './types.js';

export interface PolicySetOptions {
  /** The policies folder: administrations.yaml, purposes.yaml and *.policy.yaml. */
  readonly dir: string;
  /** The loaded contracts, to check each policy's contract and fields against. */
  readonly contracts: ContractRegistry;
}

export const ADMINISTRATIONS_FILE = 'administrations.yaml';
export const PURPOSES_FILE = 'purposes.yaml';
export const POLICY_SUFFIX = '.policy.yaml';

const ajv = contractAjv({ allErrors: true });
const validateAdministrations = ajv.compile(administrationsSchema);
const validatePurposes = ajv.compile(purposesSchema);
const validatePolicy = ajv.compile(policySchema);

/** Where a policy came from, so a cross-check can name the file and line. */
interface PolicyEntry {
  readonly policy: Policy;
  error(pointer: string, problem: string): LoadError;
}

/**
 * Loads the purpose registry, the administrations and every policy in `dir`, checks each file
 * against its schema and every cross-reference (contract, fields, Art. 9 basis for special
 * categories, a child's data only under a policy about children, the contract's subject age
 * range, purpose, administrations, consent scope, ambiguous overlaps), and returns a frozen
 * policy set. Throws LoadErrors naming every problem with file, line and JSON path.
 *
 * @example
 *   const contracts = loadContracts('schemas');
 *   const policies = loadPolicySet({ dir: 'policies', contracts });
 *   policies.candidates('employment.citizen-status.v1', 'SOF');
 */
export function loadPolicySet(options: PolicySetOptions): LoadedPolicySet {
  const { dir, contracts } = options;
  const errors: LoadError[] = [];
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch (err) {
    throw new LoadErrors([new LoadError(displayPath(dir), '', `cannot read the policies folder: ${(err as Error).message}`)]);
  }

  const administrations = readRegistry(
    dir,
    ADMINISTRATIONS_FILE,
    validateAdministrations,
    errors,
    (doc) => (doc as { administrations: AdministrationInfo[] }).administrations,
  );
  const purposes = readRegistry(dir, PURPOSES_FILE, validatePurposes, errors, (doc) =>
    (doc as { purposes: PurposeFile[] }).purposes.map((p) => ({ ...p, description: localText(p.description) })),
  );

  // Each purpose entry as written: part of what the approvers of a policy serving it sign.
  const purposeDigests = new Map(
    purposes.items === undefined
      ? []
      : (purposes.src!.value as { purposes: { id: string }[] }).purposes.map((p) => [p.id, policyContentDigest(p)] as const),
  );

  const entries: PolicyEntry[] = [];
  for (const name of names.filter((n) => n.endsWith(POLICY_SUFFIX))) {
    const src = readSource(path.join(dir, name), errors);
    if (!src) continue;
    if (!validatePolicy(src.value)) {
      errors.push(...schemaErrors(src, validatePolicy.errors ?? [], validatePolicy.schema));
      continue;
    }
    const { relation: rawRelation, ...raw } = src.value as unknown as PolicyFile;
    if (RESERVED_POLICY_IDS.includes(raw.id)) {
      errors.push(
        src.error(
          '/id',
          `"${raw.id}" is the name of a registry in the policies folder (its approvals are ${raw.id}.approvals.yaml); give the policy another id`,
        ),
      );
    }
    if (name !== `${raw.id}${POLICY_SUFFIX}`) {
      errors.push(
        src.error('/id', `the id "${raw.id}" does not match the file name; name the file "${raw.id}${POLICY_SUFFIX}" (or fix the id)`),
      );
    }
    if (raw.requester === undefined && raw.recipient === undefined) {
      errors.push(
        src.error('', 'a policy names who receives the fields: "requester" (a query policy) or "recipient" (a notification policy)'),
      );
      continue;
    }
    const relation = rawRelation === undefined ? undefined : relationClause(rawRelation, raw.recipient !== undefined, src, errors);
    // A notification policy names its recipients; the evaluator matches them as the receiving party.
    const policy: Policy = {
      ...raw,
      title: localText(raw.title),
      legalBasis: { ...raw.legalBasis, description: localText(raw.legalBasis.description) },
      owner: localText(raw.owner),
      consent: { ...raw.consent, evidence: raw.consent.evidence ?? (raw.consent.required ? DEFAULT_EVIDENCE : []) },
      ...(raw.recipient !== undefined && raw.requester === undefined ? { requester: raw.recipient } : {}),
      ...(relation !== undefined ? { relation } : {}),
      file: src.file,
      // Of the documents as parsed, before anything is filled in: what the approvers read and sign.
      ...approvedContent(policyContentDigest(src.value), contracts.get(raw.contract), purposeDigests.get(raw.purpose)),
    };
    entries.push({ policy, error: src.error });
  }

  const set = assemble(administrations, purposes, entries, contracts, errors);
  if (!set || errors.length > 0) throw new LoadErrors(byFileAndLine(errors));
  return set;
}

/**
 * A policy's content digest and its components: the policy file, the contract it names and its
 * purpose entry (approvals/digest.ts). Nothing when the contract or the purpose is unknown (the
 * set is refused for that) or the contract was built in memory.
 */
function approvedContent(
  policy: string,
  contract: Contract | undefined,
  purpose: string | undefined,
): Pick<Policy, 'contentDigest' | 'components'> {
  if (contract?.contentDigest === undefined || purpose === undefined) return {};
  const components = { policy, contract: contract.contentDigest, purpose };
  return { contentDigest: dependentContentDigest(components), components };
}

/** A purpose as purposes.yaml writes it: the description may be one string for both languages. */
type PurposeFile = Omit<Purpose, 'description'> & { readonly description: string | LocalText };

/** A policy as its file writes it: texts may be one string for both languages; `relation:` in the words of its kind. */
type PolicyFile = Omit<Policy, 'file' | 'relation' | 'title' | 'legalBasis' | 'owner'> & {
  readonly title: string | LocalText;
  readonly legalBasis: Omit<Policy['legalBasis'], 'description'> & { readonly description: string | LocalText };
  readonly owner: string | LocalText;
  readonly relation?: RelationClauseFile;
};

/** The `relation:` clause as written: requester/provider in a query policy, recipient/sender in a notification policy. */
interface RelationClauseFile {
  readonly requester?: readonly string[];
  readonly recipient?: readonly string[];
  readonly provider?: readonly string[] | 'any';
  readonly sender?: readonly string[] | 'any';
  readonly sameCaseworker?: boolean;
}

/**
 * Reads a policy's `relation:` clause in the words of its kind (a notification policy names the
 * recipient and the sender, a query policy the requester and the provider), or pushes the
 * errors and returns undefined. Whether the capacities exist and belong to the administrations
 * is checked against the capacities registry with the rest of the rule set (rules/check.ts).
 */
function relationClause(
  clause: RelationClauseFile,
  notification: boolean,
  src: SourceFile,
  errors: LoadError[],
): RelationRequirement | undefined {
  const [mine, other] = notification ? (['recipient', 'sender'] as const) : (['requester', 'provider'] as const);
  const [wrongMine, wrongOther] = notification ? (['requester', 'provider'] as const) : (['recipient', 'sender'] as const);
  const kind = notification ? 'a notification policy' : 'a query policy';
  const before = errors.length;
  for (const [wrong, right] of [
    [wrongMine, mine],
    [wrongOther, other],
  ] as const) {
    if (clause[wrong] !== undefined)
      errors.push(src.error(`/relation/${wrong}`, `${kind} names "${right}" in its relation clause, not "${wrong}"`));
  }
  const requester = clause[mine];
  if (requester === undefined)
    errors.push(src.error('/relation', `the relation clause names the capacities the ${mine} must hold the citizen in, under "${mine}"`));
  if (notification && clause.sameCaseworker !== undefined)
    errors.push(
      src.error(
        '/relation/sameCaseworker',
        "sameCaseworker applies to query policies only (a notification's token names the sender's caseworker)",
      ),
    );
  if (errors.length > before || requester === undefined) return undefined;
  const provider = clause[other];
  return { requester, ...(provider !== undefined ? { provider } : {}), sameCaseworker: clause.sameCaseworker === true };
}

/**
 * A policy set from values already in memory (tests, benchmarks, tools), with the same
 * cross-checks as `loadPolicySet` (errors name `policy.file`, without lines).
 */
export function policySetFrom(input: {
  readonly administrations: readonly AdministrationInfo[];
  readonly purposes: readonly Purpose[];
  readonly policies: readonly Policy[];
  readonly contracts: ContractRegistry;
}): LoadedPolicySet {
  const errors: LoadError[] = [];
  const entries = input.policies.map((policy) => ({
    policy,
    error: (pointer: string, problem: string) => new LoadError(policy.file, pointer, problem),
  }));
  const set = assemble(
    { items: input.administrations, src: undefined },
    { items: input.purposes, src: undefined },
    entries,
    input.contracts,
    errors,
  );
  if (!set || errors.length > 0) throw new LoadErrors(errors);
  return set;
}

function readSource(file: string, errors: LoadError[]): SourceFile | undefined {
  const shown = displayPath(file);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    errors.push(new LoadError(shown, '', `cannot read the file: ${(err as Error).message}`));
    return undefined;
  }
  const src = parseYamlSource(shown, text);
  if (Array.isArray(src)) {
    errors.push(...src);
    return undefined;
  }
  return src;
}

interface Registry<T> {
  /** undefined when the file is missing or broken (its errors are already reported). */
  readonly items: readonly T[] | undefined;
  readonly src: SourceFile | undefined;
}

function readRegistry<T extends { id: string }>(
  dir: string,
  name: string,
  validate: ValidateFunction,
  errors: LoadError[],
  pick: (doc: unknown) => T[],
): Registry<T> {
  const src = readSource(path.join(dir, name), errors);
  if (!src) return { items: undefined, src };
  if (!validate(src.value)) {
    errors.push(...schemaErrors(src, validate.errors ?? [], validate.schema));
    return { items: undefined, src };
  }
  const items = pick(src.value);
  const key = name === ADMINISTRATIONS_FILE ? 'administrations' : 'purposes';
  const seen = new Set<string>();
  items.forEach((item, i) => {
    if (seen.has(item.id)) errors.push(src.error(`/${key}/${i}/id`, `"${item.id}" is listed twice`));
    seen.add(item.id);
  });
  return { items, src };
}

/** Cross-checks the policies; builds the indexed, frozen set when nothing is wrong anywhere. */
function assemble(
  administrations: Registry<AdministrationInfo>,
  purposes: Registry<Purpose>,
  entries: readonly PolicyEntry[],
  contracts: ContractRegistry,
  errors: LoadError[],
): LoadedPolicySet | undefined {
  const adminIds = administrations.items ? new Set(administrations.items.map((a) => a.id)) : undefined;
  const purposeIds = purposes.items ? new Set(purposes.items.map((p) => p.id)) : undefined;
  const ids = new Map<string, Policy>();
  for (const entry of entries) {
    const p = entry.policy;
    const other = ids.get(p.id);
    if (other) errors.push(entry.error('/id', `policy id "${p.id}" is also used by ${other.file}`));
    ids.set(p.id, p);
    errors.push(...crossCheck(entry, contracts, adminIds, purposeIds));
  }
  errors.push(...overlaps(entries));
  if (errors.length > 0 || !administrations.items || !purposes.items) return undefined;

  const adminList = administrations.items;
  const purposeList = purposes.items;
  const policies = [...entries.map((e) => e.policy)].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const digest = sha256hex(
    canonicalJson({
      administrations: adminList,
      purposes: purposeList,
      policies: policies.map(
        ({ file: _file, contentDigest: _digest, components: _components, approvals: _approvals, ...content }) => content,
      ),
    }),
  );
  const administrationsDigest = administrations.src === undefined ? undefined : policyContentDigest(administrations.src.value);
  return buildSet(digest, adminList, purposeList, policies, administrationsDigest);
}

/** The rules between one policy and the contracts, purposes and administrations. */
function crossCheck(
  entry: PolicyEntry,
  contracts: ContractRegistry,
  adminIds: ReadonlySet<string> | undefined,
  purposeIds: ReadonlySet<string> | undefined,
): LoadError[] {
  const p = entry.policy;
  const errors: LoadError[] = [];
  const contract = contracts.get(p.contract);
  const party = p.recipient !== undefined ? 'recipient' : 'requester';
  const age = p.subject?.age;
  if (age?.min !== undefined && age.max !== undefined && age.min > age.max)
    errors.push(entry.error('/subject/age', `the age range ends (max ${age.max}) before it starts (min ${age.min})`));
  if (p.recipient !== undefined && p.recipient !== p.requester) {
    errors.push(
      entry.error(
        '/recipient',
        'name the receiving party once: "requester" for a query policy or "recipient" for a notification policy, not both',
      ),
    );
  }
  if (contract && contract.kind === 'notification' && party !== 'recipient') {
    errors.push(
      entry.error(
        '/requester',
        `${contract.id} is a notification contract: its policy names the recipient administrations and roles under "recipient", not "requester"`,
      ),
    );
  } else if (contract && contract.kind === 'query' && party !== 'requester') {
    errors.push(
      entry.error(
        '/recipient',
        `${contract.id} is a query contract: its policy names the requesting administrations and roles under "requester", not "recipient"`,
      ),
    );
  }
  if (!contract) {
    const known = contracts.list().map((c) => c.id);
    errors.push(
      entry.error('/contract', `unknown contract "${p.contract}"; the contracts in schemas/ are: ${known.join(', ') || '(none)'}`),
    );
  } else {
    const special = p.legalBasis.gdprSpecial?.startsWith('Art. 9') === true;
    p.fields.forEach((field, i) => {
      const info = contract.fields[field];
      if (!info) {
        errors.push(
          entry.error(`/fields/${i}`, `"${field}" is not a field of ${contract.id}; its fields are: ${contract.fieldNames.join(', ')}`),
        );
      } else if (SPECIAL_CATEGORIES.includes(info.category) && !special) {
        errors.push(
          entry.error(
            `/fields/${i}`,
            `"${field}" is ${info.category} data, a special category (GDPR Art. 9); a policy that permits it needs legalBasis.gdprSpecial citing an Art. 9(2) basis, or must not permit it`,
          ),
        );
      } else if (info.category === CHILD_CATEGORY && (age?.max === undefined || age.max >= ADULT_AGE)) {
        errors.push(
          entry.error(
            `/fields/${i}`,
            `"${field}" is child data (specially protected; not GDPR Art. 9): a policy that permits it is about children only, ` +
              `with subject: { age: { max: ${ADULT_AGE - 1} } } and the national provision on children's data in legalBasis.national; or it must not permit it`,
          ),
        );
      }
    });
    errors.push(...withinContractSubject(entry, contract));
    if (p.consent.required && p.consent.categories) {
      const missing = [
        ...new Set(p.fields.map((f) => contract.fields[f]?.category).filter((c) => c !== undefined && !p.consent.categories!.includes(c))),
      ];
      if (missing.length > 0) {
        errors.push(
          entry.error(
            '/consent/categories',
            `the consent must cover every category this policy releases; add ${missing.join(', ')} (or remove the fields)`,
          ),
        );
      }
    }
  }
  if (!p.consent.required && p.consent.categories) {
    errors.push(
      entry.error(
        '/consent/categories',
        'consent categories apply only when consent is required; set consent.required: true or remove the categories',
      ),
    );
  }
  if (!p.consent.required && p.consent.evidence.length > 0) {
    errors.push(
      entry.error(
        '/consent/evidence',
        'consent evidence applies only when consent is required; set consent.required: true or remove evidence',
      ),
    );
  }
  // A recipient can make up its own record of a paper form: for special categories and a child's
  // data a policy must not accept that, only the citizen's signed consent or a record made by
  // another administration.
  const protectedCategory = p.fields
    .map((f) => contract?.fields[f]?.category)
    .find((c) => c !== undefined && (SPECIAL_CATEGORIES.includes(c) || c === CHILD_CATEGORY));
  if (p.consent.required && protectedCategory !== undefined && p.consent.evidence.includes('recorded-by-caseworker')) {
    errors.push(
      entry.error(
        '/consent/evidence',
        `this policy releases ${protectedCategory === CHILD_CATEGORY ? "a child's data" : 'special-category (Art. 9) data'} on consent, so it must not accept "recorded-by-caseworker" (the recipient could record a consent itself); ` +
          'accept citizen-signed and/or recorded-by-other-administration',
      ),
    );
  }
  if (p.legalBasis.gdprSpecial?.startsWith('Art. 9(2)(a)') && !p.consent.required) {
    errors.push(
      entry.error(
        '/consent/required',
        "the Art. 9 basis is the citizen's explicit consent (Art. 9(2)(a)), so consent.required must be true",
      ),
    );
  }
  if (purposeIds && !purposeIds.has(p.purpose)) {
    errors.push(
      entry.error('/purpose', `unknown purpose "${p.purpose}"; the purposes in purposes.yaml are: ${[...purposeIds].join(', ')}`),
    );
  }
  if (adminIds) {
    p.requester.administrations.forEach((a, i) => {
      if (!adminIds.has(a))
        errors.push(
          entry.error(
            `/${party}/administrations/${i}`,
            `unknown administration "${a}"; administrations.yaml lists: ${[...adminIds].join(', ')}`,
          ),
        );
    });
  }
  if (p.validity.to !== undefined && p.validity.to < p.validity.from) {
    errors.push(entry.error('/validity/to', `the validity ends (${p.validity.to}) before it starts (${p.validity.from})`));
  }
  if (p.example && !(/example|eksempel/i.test(p.legalBasis.description.en) && /example|eksempel/i.test(p.legalBasis.description.da))) {
    errors.push(
      entry.error(
        '/legalBasis/description',
        'an example policy must say so in its legal-basis description, in both languages ("Example for legal review: ...", "Eksempel til juridisk gennemgang: ...")',
      ),
    );
  }
  return errors;
}

/**
 * A contract that says whom it is about (its `subject`, e.g. adults: min 18) binds its policies:
 * each must keep its own `subject:` clause within that range, so the evaluator refuses a citizen
 * outside it (SUBJECT_OUT_OF_SCOPE) whatever the policy's author forgot.
 */
function withinContractSubject(entry: PolicyEntry, contract: Contract): LoadError[] {
  const bounds = contract.subject?.age;
  if (bounds === undefined) return [];
  const age = entry.policy.subject?.age;
  const tooYoung = bounds.min !== undefined && (age?.min === undefined || age.min < bounds.min);
  const tooOld = bounds.max !== undefined && (age?.max === undefined || age.max > bounds.max);
  if (!tooYoung && !tooOld) return [];
  const side = tooYoung ? 'min' : 'max';
  const at = age === undefined ? '/subject' : age[side] === undefined ? '/subject/age' : `/subject/age/${side}`;
  const range = [bounds.min !== undefined ? `min: ${bounds.min}` : '', bounds.max !== undefined ? `max: ${bounds.max}` : '']
    .filter((x) => x !== '')
    .join(', ');
  const whom = [
    tooYoung ? (bounds.min >= ADULT_AGE ? 'a child' : 'a younger citizen') : '',
    tooOld ? (bounds.max < ADULT_AGE ? 'an adult' : 'an older citizen') : '',
  ]
    .filter((x) => x !== '')
    .join(' or ');
  return [
    entry.error(
      at,
      `${contract.id} is about citizens ${ageRangeText(bounds)}; a policy on it must say so (subject: { age: { ${range} } }, or a narrower range), so that it is never used about ${whom}`,
    ),
  ];
}

const OPEN_END = '9999-12-31';

/**
 * Two policies overlap ambiguously when one request could match both: same contract and
 * purpose, an administration and a role in common, and validity periods that share a day.
 * Grouped by (contract, purpose, administration, role) and swept by start date, so the check
 * stays near-linear with many policies.
 */
function overlaps(entries: readonly PolicyEntry[]): LoadError[] {
  const groups = new Map<string, PolicyEntry[]>();
  for (const e of entries) {
    const p = e.policy;
    for (const admin of p.requester.administrations) {
      for (const role of p.requester.roles) {
        const key = `${p.contract}\0${p.purpose}\0${admin}\0${role}`;
        const g = groups.get(key);
        if (g) g.push(e);
        else groups.set(key, [e]);
      }
    }
  }
  const reported = new Set<string>();
  const errors: LoadError[] = [];
  for (const [key, group] of groups) {
    if (group.length < 2) continue;
    const [, , admin, role] = key.split('\0');
    group.sort((a, b) => (a.policy.validity.from < b.policy.validity.from ? -1 : a.policy.validity.from > b.policy.validity.from ? 1 : 0));
    let latest = group[0]!;
    for (const e of group.slice(1)) {
      const end = latest.policy.validity.to ?? OPEN_END;
      if (e.policy.validity.from <= end) {
        const pair = [latest.policy.id, e.policy.id].sort().join('\0');
        if (!reported.has(pair)) {
          reported.add(pair);
          const a = latest.policy;
          const b = e.policy;
          const period = (p: Policy) => `${p.validity.from} to ${p.validity.to ?? 'open end'}`;
          errors.push(
            e.error(
              '/validity',
              `policy "${b.id}" overlaps policy "${a.id}" (${a.file}): both apply to ${b.contract} for administration ${admin}, role ${role} and purpose ${b.purpose} ` +
                `in overlapping periods (${b.id}: ${period(b)}; ${a.id}: ${period(a)}), so a request could match either. ` +
                'Make them disjoint: narrow the roles or administrations, or end one policy (validity.to) before the other starts.',
            ),
          );
        }
      }
      if ((e.policy.validity.to ?? OPEN_END) > (latest.policy.validity.to ?? OPEN_END)) latest = e;
    }
  }
  return errors;
}

/**
 * The same policy set with each policy's approvals (checked by src/policy/approvals/check.ts)
 * attached, so that a decision carries them to its audit record. The set's digest stays: it is
 * the digest of the policies' content.
 */
export function withApprovals(set: LoadedPolicySet, approvals: ReadonlyMap<string, PolicyApprovals>): LoadedPolicySet {
  if (approvals.size === 0) return set;
  const policies = set.policies.map((p) => {
    const found = approvals.get(p.id);
    return found === undefined ? p : { ...p, approvals: found };
  });
  return buildSet(set.digest, [...set.administrations.values()], [...set.purposes.values()], policies, set.administrationsDigest);
}

const NO_POLICIES: readonly Policy[] = Object.freeze([]);

function buildSet(
  digest: string,
  administrations: readonly AdministrationInfo[],
  purposes: readonly Purpose[],
  policies: readonly Policy[],
  administrationsDigest?: string,
): LoadedPolicySet {
  const frozen = policies.map((p) => deepFreeze({ ...p }));
  // contract -> administration -> policies, sorted by id: two Map look-ups per request.
  const index = new Map<string, Map<Administration, Policy[]>>();
  for (const p of frozen) {
    let byAdmin = index.get(p.contract);
    if (!byAdmin) index.set(p.contract, (byAdmin = new Map<string, Policy[]>()));
    for (const a of p.requester.administrations) {
      const list = byAdmin.get(a);
      if (list) list.push(p);
      else byAdmin.set(a, [p]);
    }
  }
  for (const byAdmin of index.values()) for (const list of byAdmin.values()) Object.freeze(list);
  const set: LoadedPolicySet = {
    digest,
    purposes: new FrozenMap(purposes.map((p) => [p.id, deepFreeze(structuredClone(p))] as const)),
    administrations: new FrozenMap(administrations.map((a) => [a.id, deepFreeze(structuredClone(a))] as const)),
    policies: Object.freeze(frozen),
    ...(administrationsDigest !== undefined ? { administrationsDigest } : {}),
    candidates: (contract, administration) => index.get(contract)?.get(administration) ?? NO_POLICIES,
  };
  return Object.freeze(set);
}

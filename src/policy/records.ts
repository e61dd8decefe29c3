import { SPECIAL_CATEGORIES, type ContractRegistry, type DataCategory } from '../contracts/types.js';
import type { ApprovalsReport } from './approvals/check.js';
import type { LoadedPolicySet, Policy, Purpose } from './types.js';
import { localText, type LocalText } from '../lib/local-text.js';

/**
 * `snitflade records`: the record of processing activities (GDPR Art. 30(1)) for the exchanges
 * through the gateway, generated from the files that decide them, so it cannot drift from what
 * is enforced: one activity per purpose in the purpose registry, with its legal bases, the
 * categories of data subjects and of personal data, the recipients, the retention, and every
 * policy behind it. The gateway's own audit trail is listed as an activity of its own.
 *
 * It is a draft for the DPO: the controller's details, the security measures and anything the
 * files cannot know are filled in by the municipality.
 */

export interface RecordOptions {
  /** The controller (Art. 30(1)(a)); default a placeholder the DPO replaces. */
  readonly controller?: string;
  /** The generation time; default now. */
  readonly now?: Date;
  /** The policies' approvals (policy/approvals/check.ts); absent: not checked, and the record says so. */
  readonly approvals?: ApprovalsReport;
  /** The approvers configured (policies.approvers), as the record lists them. */
  readonly approvers?: readonly { readonly id: string; readonly title: string }[];
}

/** Who approved a policy and when (signed policies, docs/POLICY-APPROVALS.md). */
export interface PolicyApprovalEntry {
  /** The approvals were checked (approvers configured, their keys readable). */
  readonly checked: boolean;
  /** Every approver the policy requires approved it as it is, and nothing in its approvals file is wrong. */
  readonly complete: boolean;
  /** The valid approvals, in approver order. */
  readonly approvedBy: readonly { readonly approver: string; readonly title: string; readonly signedAt: string }[];
  /** Required approvers without a valid approval: missing, stale (changed after signing), invalid. */
  readonly outstanding: readonly { readonly approver: string; readonly status: string }[];
}

export interface Administration {
  readonly id: string;
  readonly name: string;
}

export interface DataCategoryEntry {
  readonly category: DataCategory;
  /** A special category (GDPR Art. 9). */
  readonly special: boolean;
  readonly fields: readonly { readonly contract: string; readonly name: string; readonly label: string }[];
}

export interface ExchangeEntry {
  readonly policy: {
    readonly id: string;
    readonly version: number;
    readonly title: LocalText;
    readonly file: string;
    readonly example: boolean;
    readonly owner: LocalText;
    readonly approval: PolicyApprovalEntry;
  };
  readonly contract: { readonly id: string; readonly title: LocalText; readonly kind: 'query' | 'notification' };
  /** Who discloses: the administration providing the data. */
  readonly provider: Administration;
  /** Who receives. */
  readonly recipients: readonly Administration[];
  readonly roles: readonly string[];
  readonly fields: readonly { readonly name: string; readonly category: DataCategory; readonly special: boolean; readonly label: string }[];
  readonly legalBasis: { readonly gdpr: string; readonly gdprSpecial?: string; readonly national: string };
  readonly consent: { readonly required: boolean; readonly categories?: readonly DataCategory[] };
  readonly validity: { readonly from: string; readonly to?: string };
}

export interface ProcessingActivity {
  readonly purpose: { readonly id: string; readonly title: LocalText; readonly description: LocalText };
  /** Art. 6 (and Art. 9) bases as the purpose registry and the policies state them. */
  readonly legalBases: readonly string[];
  readonly dataSubjects: readonly string[];
  readonly dataCategories: readonly DataCategoryEntry[];
  readonly specialCategories: boolean;
  readonly recipients: readonly Administration[];
  readonly providers: readonly Administration[];
  readonly retention: { readonly duration: string; readonly text: string };
  readonly transfersToThirdCountries: string;
  readonly exchanges: readonly ExchangeEntry[];
  /** A purpose no policy uses yet: nothing flows for it. */
  readonly inUse: boolean;
}

export interface ProcessingRecord {
  readonly title: string;
  readonly controller: string;
  readonly generatedAt: string;
  readonly policySet: string;
  readonly examplePolicies: number;
  /**
   * Signed policies: whether the approvals were checked and enforced, the approvers configured,
   * and how many policies carry every approval they require.
   */
  readonly approvals: {
    readonly checked: boolean;
    readonly enforced: boolean;
    readonly approvers: readonly { readonly id: string; readonly title: string }[];
    readonly approved: number;
  };
  readonly activities: readonly ProcessingActivity[];
  readonly auditTrail: {
    readonly purpose: string;
    readonly legalBasis: string;
    readonly dataSubjects: readonly string[];
    readonly data: readonly string[];
    readonly recipients: readonly string[];
    readonly retention: string;
  };
  readonly securityMeasures: readonly string[];
}

const UNITS: Readonly<Record<string, [string, string]>> = {
  Y: ['year', 'years'],
  M: ['month', 'months'],
  W: ['week', 'weeks'],
  D: ['day', 'days'],
};

/** "P5Y" -> "5 years", "P1Y6M" -> "1 year and 6 months". */
export function durationText(iso: string): string {
  const parts = [...iso.matchAll(/([0-9]+)([YMWD])/g)].map(([, n, u]) => `${n} ${UNITS[u!]![Number(n) === 1 ? 0 : 1]}`);
  return parts.length === 0 ? iso : parts.length === 1 ? parts[0]! : `${parts.slice(0, -1).join(', ')} and ${parts[parts.length - 1]}`;
}

function admin(set: LoadedPolicySet, id: string): Administration {
  return { id, name: set.administrations.get(id)?.name.en ?? id };
}

function uniqueById(list: readonly Administration[]): Administration[] {
  const seen = new Map<string, Administration>();
  for (const a of list) if (!seen.has(a.id)) seen.set(a.id, a);
  return [...seen.values()].sort((a, b) => a.id.localeCompare(b.id));
}

const NOT_CHECKED: PolicyApprovalEntry = Object.freeze({ checked: false, complete: false, approvedBy: [], outstanding: [] });

function approvalOf(p: Policy, report: ApprovalsReport | undefined): PolicyApprovalEntry {
  const r = report?.policies.get(p.id);
  if (r === undefined) return NOT_CHECKED;
  return {
    checked: true,
    complete: r.complete,
    approvedBy: r.approvals?.approvals ?? [],
    outstanding: r.results.filter((x) => x.required && x.status !== 'valid').map((x) => ({ approver: x.approver, status: x.status })),
  };
}

function exchange(set: LoadedPolicySet, contracts: ContractRegistry, p: Policy, report: ApprovalsReport | undefined): ExchangeEntry {
  const contract = contracts.get(p.contract);
  const fields = p.fields.map((name) => {
    const info = contract?.fields[name];
    const category: DataCategory = info?.category ?? 'identifier';
    return { name, category, special: SPECIAL_CATEGORIES.includes(category), label: info?.label.en ?? name };
  });
  return {
    policy: {
      id: p.id,
      version: p.version,
      title: p.title,
      file: p.file,
      example: p.example,
      owner: p.owner,
      approval: approvalOf(p, report),
    },
    contract: { id: p.contract, title: contract?.title ?? localText(p.contract), kind: contract?.kind ?? 'query' },
    provider: admin(set, contract?.provider.administration ?? '?'),
    recipients: p.requester.administrations.map((a) => admin(set, a)),
    roles: p.requester.roles,
    fields,
    legalBasis: {
      gdpr: p.legalBasis.gdpr,
      ...(p.legalBasis.gdprSpecial ? { gdprSpecial: p.legalBasis.gdprSpecial } : {}),
      national: p.legalBasis.national,
    },
    consent: { required: p.consent.required, ...(p.consent.categories ? { categories: p.consent.categories } : {}) },
    validity: { from: p.validity.from, ...(p.validity.to ? { to: p.validity.to } : {}) },
  };
}

function activity(
  set: LoadedPolicySet,
  contracts: ContractRegistry,
  purpose: Purpose,
  report: ApprovalsReport | undefined,
): ProcessingActivity {
  const policies = set.policies.filter((p) => p.purpose === purpose.id);
  const exchanges = policies.map((p) => exchange(set, contracts, p, report));
  const categories = new Map<DataCategory, { contract: string; name: string; label: string }[]>();
  for (const e of exchanges) {
    for (const f of e.fields) {
      const list = categories.get(f.category) ?? [];
      if (!list.some((x) => x.contract === e.contract.id && x.name === f.name))
        list.push({ contract: e.contract.id, name: f.name, label: f.label });
      categories.set(f.category, list);
    }
  }
  const providers = uniqueById(exchanges.map((e) => e.provider));
  const recipients = uniqueById(exchanges.flatMap((e) => e.recipients));
  // The purpose's bases, then each distinct basis the policies state, with the policies stating it.
  const byBasis = new Map<string, string[]>();
  for (const e of exchanges) {
    const text = `${e.legalBasis.gdpr}${e.legalBasis.gdprSpecial ? ` and ${e.legalBasis.gdprSpecial}` : ''}; ${e.legalBasis.national}`;
    byBasis.set(text, [...(byBasis.get(text) ?? []), e.policy.id]);
  }
  const bases = [
    ...purpose.legalBases,
    ...[...byBasis].map(([text, ids]) => `${text} (${ids.length === 1 ? 'policy' : 'policies'} ${ids.join(', ')})`),
  ];
  const dataCategories = [...categories.entries()]
    .map(([category, fields]) => ({ category, special: SPECIAL_CATEGORIES.includes(category), fields }))
    .sort((a, b) => Number(b.special) - Number(a.special) || a.category.localeCompare(b.category));
  return {
    purpose: { id: purpose.id, title: purpose.title, description: purpose.description },
    legalBases: bases,
    dataSubjects: providers.map(
      (p) =>
        `Citizens with a case at ${p.name} (${p.id}) who are also known to ${
          recipients
            .filter((r) => r.id !== p.id)
            .map((r) => r.id)
            .join(', ') || 'another administration'
        }`,
    ),
    dataCategories,
    specialCategories: dataCategories.some((c) => c.special),
    recipients,
    providers,
    retention: {
      duration: purpose.retention,
      text: `Disclosure records are kept ${durationText(purpose.retention)} in the audit trail; the data released is kept by the recipient under its own records.`,
    },
    transfersToThirdCountries: 'None: all processing is within the municipality.',
    exchanges,
    inUse: exchanges.length > 0,
  };
}

/**
 * Builds the record of processing from the policy set in force and its contracts.
 *
 * @example
 *   const record = processingRecord(policies, contracts, { controller: 'Københavns Kommune' });
 *   process.stdout.write(processingRecordMarkdown(record));
 */
export function processingRecord(set: LoadedPolicySet, contracts: ContractRegistry, options: RecordOptions = {}): ProcessingRecord {
  const purposes = [...set.purposes.values()];
  const report = options.approvals;
  const activities = purposes.map((p) => activity(set, contracts, p, report));
  const longest = purposes.reduce<string | undefined>(
    (max, p) => (max === undefined || years(p.retention) > years(max) ? p.retention : max),
    undefined,
  );
  return {
    title: 'Record of processing activities (GDPR Art. 30): exchanges through the Snitflade gateway',
    controller: options.controller ?? "The municipality (fill in the controller's name and contact details, and those of the DPO)",
    generatedAt: (options.now ?? new Date()).toISOString(),
    policySet: set.digest,
    examplePolicies: set.policies.filter((p) => p.example).length,
    approvals: {
      checked: report?.checked === true,
      enforced: report?.enforced ?? true,
      approvers: options.approvers ?? [],
      approved: report?.checked === true ? [...report.policies.values()].filter((r) => r.complete).length : 0,
    },
    activities,
    auditTrail: {
      purpose:
        "Accountability and security of the disclosures (GDPR Art. 5(2), Art. 24 and Art. 32); the citizen's right of access (Art. 15)",
      legalBasis: "GDPR Art. 6(1)(c) and (e): the controller's duty to document and secure its processing",
      dataSubjects: [
        'Citizens about whom data was asked for or disclosed (as a keyed pseudonym of the CPR number, never the number itself)',
        'Caseworkers who asked (their user id in the calling system)',
      ],
      data: [
        'keyed pseudonym of the CPR number',
        'caller system, caseworker id and case reference',
        'purpose, policy, legal basis and decision with its reasons',
        'names of the fields asked for, released and withheld (never their values)',
        'digests of the token and the response, times and statuses',
      ],
      recipients: ['The DPO (search, verification, access reports)', 'The citizen (access report, Art. 15)'],
      retention: longest ? `Per purpose, as above (the longest is ${durationText(longest)})` : 'Per purpose',
    },
    securityMeasures: [
      "Mutual TLS between every system and the gateway; requests signed by the calling system's key, bound to the request, used once",
      'Default deny: data flows only under a declared, tested policy; minimisation to the fields in the contract, the policy and the request',
      'Hash-chained, signed audit trail written before any release; no data values and no CPR numbers in it',
      'Special categories (GDPR Art. 9) only under a policy with an Art. 9 basis; consent checked at every request, withdrawal effective at once',
    ],
  };
}

function years(iso: string): number {
  let y = 0;
  for (const [, n, u] of iso.matchAll(/([0-9]+)([YMWD])/g))
    y += Number(n) * (u === 'Y' ? 1 : u === 'M' ? 1 / 12 : u === 'W' ? 7 / 365 : 1 / 365);
  return y;
}

/** "BIF legal office 2026-05-01, DPO 2026-05-03", with what is outstanding; or that it was not checked. */
function approvedByText(a: PolicyApprovalEntry): string {
  if (!a.checked) return 'not checked';
  const by = a.approvedBy.map((x) => `${x.title} (${x.approver}) ${x.signedAt.slice(0, 10)}`).join(', ');
  const outstanding = a.outstanding.map((x) => `${x.approver} ${x.status}`).join(', ');
  return [by || 'nobody', ...(outstanding ? [`outstanding: ${outstanding}`] : [])].join('; ');
}

const md = (s: string): string => s.replaceAll('|', '\\|').replaceAll('\n', ' ');

/** The record as Markdown, for the DPO's documentation. */
export function processingRecordMarkdown(r: ProcessingRecord): string {
  const out: string[] = [`# ${r.title}`, ''];
  out.push(`- **Controller:** ${r.controller}`);
  out.push(`- **Generated:** ${r.generatedAt} from policy set \`${r.policySet.slice(0, 16)}\``);
  const a = r.approvals;
  const total = r.activities.reduce((n, x) => n + x.exchanges.length, 0);
  out.push(
    a.checked
      ? `- **Approvals:** ${a.approved} of ${total} policies are approved by every approver they require (${a.approvers.map((x) => `${x.title} (\`${x.id}\`)`).join(', ')})${a.enforced ? '' : '; approvals are not enforced (`policies.requireApprovals` is false)'}.`
      : `- **Approvals:** not checked${a.approvers.length === 0 ? ': no approver is configured (`policies.approvers`)' : ''}; ${a.enforced ? 'the gateway refuses to start with a policy that lacks an approval it requires' : 'approvals are not enforced (`policies.requireApprovals` is false): the policies are in force unsigned'}.`,
  );
  if (r.examplePolicies > 0) {
    out.push(
      `- **Status:** ${r.examplePolicies} of the policies are examples awaiting legal review (\`example: true\`); their legal bases are to be confirmed by the municipality's lawyers and DPO.`,
    );
  }
  out.push('');
  out.push('## Overview', '', '| purpose | recipients | providers | special categories | retention |', '|---|---|---|---|---|');
  for (const a of r.activities) {
    out.push(
      `| ${md(a.purpose.title.en)} (\`${a.purpose.id}\`) | ${a.recipients.map((x) => x.id).join(', ') || '—'} | ${a.providers.map((x) => x.id).join(', ') || '—'} | ${a.specialCategories ? 'yes (Art. 9)' : 'no'} | ${durationText(a.retention.duration)} |`,
    );
  }
  for (const a of r.activities) {
    out.push(
      '',
      `## ${a.purpose.title.en} (\`${a.purpose.id}\`)`,
      '',
      `*${a.purpose.title.da}*`,
      '',
      a.purpose.description.en,
      '',
      `*${a.purpose.description.da}*`,
      '',
    );
    if (!a.inUse) {
      out.push('No policy uses this purpose yet: nothing is disclosed for it.');
      continue;
    }
    out.push('**Legal bases**', '', ...a.legalBases.map((b) => `- ${b}`), '');
    out.push('**Categories of data subjects**', '', ...a.dataSubjects.map((s) => `- ${s}`), '');
    out.push('**Categories of personal data**', '');
    for (const c of a.dataCategories) {
      out.push(
        `- ${c.category}${c.special ? ' (special category, GDPR Art. 9)' : ''}: ${c.fields.map((f) => `${f.label} (\`${f.contract}\` ${f.name})`).join('; ')}`,
      );
    }
    out.push('', `**Recipients:** ${a.recipients.map((x) => `${x.name} (${x.id})`).join('; ')}`, '');
    out.push(`**Disclosed by:** ${a.providers.map((x) => `${x.name} (${x.id})`).join('; ')}`, '');
    out.push(`**Retention:** ${a.retention.text}`, '', `**Transfers to third countries:** ${a.transfersToThirdCountries}`, '');
    out.push(
      '**Exchanges (policies)**',
      '',
      '| policy | contract | recipients (roles) | fields | legal basis | consent | valid | approved by |',
      '|---|---|---|---|---|---|---|---|',
    );
    for (const e of a.exchanges) {
      const basis = `${e.legalBasis.gdpr}${e.legalBasis.gdprSpecial ? `, ${e.legalBasis.gdprSpecial}` : ''}; ${e.legalBasis.national}`;
      const consent = e.consent.required ? `required${e.consent.categories ? ` (${e.consent.categories.join(', ')})` : ''}` : 'no';
      out.push(
        `| \`${e.policy.id}\` v${e.policy.version}${e.policy.example ? ' (example)' : ''} | \`${e.contract.id}\` (${e.contract.kind}) | ${e.recipients.map((x) => x.id).join(', ')} (${e.roles.join(', ')}) | ${e.fields.map((f) => `${f.name}${f.special ? '*' : ''}`).join(', ')} | ${md(basis)} | ${consent} | ${e.validity.from} – ${e.validity.to ?? 'open'} | ${md(approvedByText(e.policy.approval))} |`,
      );
    }
    if (a.specialCategories) out.push('', 'Fields marked * are special categories (GDPR Art. 9).');
  }
  const t = r.auditTrail;
  out.push('', "## The gateway's audit trail", '', `- **Purpose:** ${t.purpose}`, `- **Legal basis:** ${t.legalBasis}`);
  out.push(
    `- **Data subjects:** ${t.dataSubjects.join('; ')}`,
    `- **Data:** ${t.data.join('; ')}`,
    `- **Recipients:** ${t.recipients.join('; ')}`,
    `- **Retention:** ${t.retention}`,
  );
  out.push(
    '',
    '## Technical and organisational security measures (Art. 32), in outline',
    '',
    ...r.securityMeasures.map((m) => `- ${m}`),
    '',
  );
  return out.join('\n');
}

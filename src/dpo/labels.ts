import { NOTIFICATION_AUDIT } from '../audit/reasons.js';
import type { AuditRecord } from '../audit/types.js';
import { ERRORS } from '../errors.js';
import type { LoadedPolicySet } from '../policy/types.js';
import type { Rules } from '../rules/types.js';
import type { Lang } from './html.js';
import { texts } from './texts/index.js';

/** A reason code in words: the policy's deny reasons, the error registry's codes, delivery states. */
export function reasonText(code: string, lang: Lang): string {
  const reasons: Readonly<Record<string, string>> = texts(lang).reasons;
  if (Object.hasOwn(reasons, code)) return reasons[code] as string;
  const spec = (ERRORS as Record<string, { title: string } | undefined>)[code];
  return spec?.title ?? code;
}

export function purposeTitle(rules: Rules, id: string | null, lang: Lang): string {
  if (id === null || id === '') return texts(lang).common.noPurpose;
  return rules.policies.purposes.get(id)?.title[lang] ?? id;
}

export function contractTitle(rules: Rules, id: string | null, lang: Lang): string {
  if (id === null || id === '') return texts(lang).common.noContract;
  return rules.contracts.get(id)?.title[lang] ?? id;
}

export function fieldLabel(rules: Rules, contract: string | null, field: string, lang: Lang): string {
  const info = contract === null ? undefined : rules.contracts.get(contract)?.fields[field];
  return info?.label[lang] ?? field;
}

/** An administration's name with its id, "Socialforvaltningen (SOF)"; the id alone if the rules do not name it. */
export function administrationTitle(rules: Rules, id: string, lang: Lang): string {
  const name = (rules.policies as Partial<LoadedPolicySet>).administrations?.get(id)?.name[lang];
  return name !== undefined ? `${name} (${id})` : id;
}

/** A capacity of the relations register in words (policies/capacities.yaml). */
export function capacityTitle(rules: Rules, id: string, lang: Lang): string {
  return rules.capacities.capacities.get(id)?.title[lang] ?? id;
}

export function systemTitle(rules: Rules, id: string | null, lang: Lang): string {
  if (id === null || id === '') return texts(lang).common.unknownSystem;
  const client = rules.clients.byId(id);
  return client !== undefined ? `${client.title[lang]} (${id})` : id;
}

/** What a verification problem means, in words (the verifier's own message gives the details). */
export function problemText(kind: string, lang: Lang): string {
  const problems: Readonly<Record<string, string>> = texts(lang).problems;
  return Object.hasOwn(problems, kind) ? (problems[kind] as string) : kind;
}

export function kindLabel(kind: string, lang: Lang): string {
  const kinds: Readonly<Record<string, string>> = texts(lang).kinds;
  return Object.hasOwn(kinds, kind) ? (kinds[kind] as string) : kind;
}

/**
 * Whether a record's `fields.released` went out: a release, or a delivered notice. On a decision or
 * a queued notice they are only what the policy permits: nothing has been released yet.
 */
export function fieldsWentOut(r: Pick<AuditRecord, 'kind' | 'reasons'>): boolean {
  return r.kind === 'release' || (r.kind === 'notification' && r.reasons.includes(NOTIFICATION_AUDIT.delivered));
}

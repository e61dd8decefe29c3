import type { LocalText } from '../lib/local-text.js';
import { CONSENT_GIVER_TEXT, CONSENT_LEVEL_TEXT, RELATION_END_TEXT, RELATION_STATE_TEXT, REPORT_TEXT } from './report-text.js';
import { createHash } from 'node:crypto';
import type { ClientRegistry } from '../auth/clients.js';
import { evidenceLevel, type ConsentGiver, type ConsentRecord } from '../consent/types.js';
import { SPECIAL_CATEGORIES, type ContractRegistry, type DataCategory } from '../contracts/types.js';
import { copenhagenDate } from '../policy/dates.js';
import { basisForReader } from '../policy/legal-basis.js';
import type { EvidenceLevel, LoadedPolicySet, PolicySet } from '../policy/types.js';
import type { CapacityRegistry } from '../relations/capacities.js';
import { relationState, type RelationState } from '../relations/register.js';
import type { RelationEndReason, StoredRelation } from '../relations/types.js';
import type { Store } from '../store/types.js';
import type { Pseudonymizer } from './pseudonym.js';
import { NOTIFICATION_AUDIT } from './reasons.js';
import type { AuditRecord } from './types.js';

/**
 * The citizen's access report (GDPR Art. 15): every disclosure of data about one citizen, and
 * every look-up that was refused or found nothing, in a period. When, which administration and
 * system received it (or asked), from whom, which data (field names with their data category,
 * in plain language), for which purpose, under which legal basis, on which consent. And which
 * administrations have registered in the relations register that they serve the citizen, in
 * which capacity, for which period, as the register stands on the day of the report (every
 * administration's: the DPO sees all), without case references.
 *
 * Following the Danish Data Protection Agency's practice (2024), the report shows the searches,
 * their dates and purposes, but not the individual employee unless the municipality configures
 * it to (`includeEmployee`, config audit.reportIncludesEmployee). It holds no CPR number: the
 * DPO sends it to the citizen with a covering letter.
 */

export type Lang = 'da' | 'en';
type Text = LocalText;

export type ReportOutcome =
  /** Data about the citizen was released to the recipient. */
  | 'disclosed'
  /** The gateway refused the look-up (no policy, no consent, bad request): nothing was released. */
  | 'refused'
  /** Permitted, but nothing was released (the provider had no case, was down, or a delivery is pending or failed). */
  | 'not-disclosed';

export interface ReportField {
  readonly name: string;
  readonly category: DataCategory | 'unknown';
  readonly categoryLabel: Text;
  readonly label: Text;
  /** True for special categories (GDPR Art. 9: health data). */
  readonly special: boolean;
}

export interface ReportParty {
  readonly administration: string;
  readonly administrationName: Text | null;
  readonly system: string | null;
  readonly systemName: Text | null;
}

export interface CitizenReportEntry {
  /** When the exchange ended (ISO 8601 UTC). */
  readonly time: string;
  readonly auditId: string;
  readonly kind: 'query' | 'notification';
  readonly outcome: ReportOutcome;
  /** Who received the data (or asked for it). */
  readonly recipient: ReportParty;
  /** Whose data it was: the providing administration. */
  readonly source: ReportParty | null;
  readonly contract: { readonly id: string; readonly title: Text } | null;
  /** The fields released (empty unless disclosed). */
  readonly fields: readonly ReportField[];
  /** The fields asked for. */
  readonly requested: readonly ReportField[];
  readonly purpose: { readonly id: string; readonly title: Text } | null;
  /** The legal basis the decision recorded, as a reader cites it in each language (policy/legal-basis.ts). */
  readonly legalBasis: Text | null;
  /** Digest of the signed consent receipt the release relied on. */
  readonly consent: string | null;
  /**
   * Who gave that consent and on which evidence, as the consent registry holds it; null when the
   * exchange relied on no consent, or on one the registry does not hold (an artefact found at the
   * consent service and never recorded).
   */
  readonly consentGiven: ReportConsent | null;
  readonly reasons: readonly { readonly code: string; readonly label: Text }[];
  /** Only when the report is configured to name employees. */
  readonly caseworker?: string | null;
}

/** Who gave a consent and on which evidence, in words. */
export interface ReportConsent {
  readonly givenBy: { readonly role: ConsentGiver['role']; readonly label: Text };
  readonly level: { readonly id: EvidenceLevel; readonly label: Text };
}

/** An administration's registration that it serves the citizen (a relation of the relations register), in words. */
export interface ReportRelation {
  readonly administration: string;
  readonly administrationName: Text | null;
  readonly capacity: { readonly id: string; readonly title: Text };
  /** Copenhagen days, YYYY-MM-DD, both inclusive; `to` null: until further notice. */
  readonly from: string;
  readonly to: string | null;
  /** On the day the report was made. */
  readonly state: RelationState;
  readonly endReason: { readonly code: RelationEndReason; readonly label: Text } | null;
  /** The responsible caseworker, only when the report is configured to name employees. */
  readonly caseworker?: string | null;
}

export interface CitizenReport {
  readonly generatedAt: string;
  readonly period: { readonly from: string | null; readonly to: string | null };
  readonly includesEmployee: boolean;
  /** Oldest first. */
  readonly entries: readonly CitizenReportEntry[];
  /** Every relation the register holds for the citizen, whatever the period: earliest start first. */
  readonly relations: readonly ReportRelation[];
  readonly summary: { readonly disclosed: number; readonly refused: number; readonly notDisclosed: number };
  /** True when the citizen has more records than one report holds: narrow the period. */
  readonly truncated: boolean;
}

/** Most audit records read for one report. */
export const MAX_REPORT_RECORDS = 20_000;

const CATEGORY_LABELS: Record<DataCategory | 'unknown', Text> = {
  identifier: { da: 'Identifikation', en: 'Identification' },
  contact: { da: 'Kontaktoplysninger', en: 'Contact details' },
  employment: { da: 'Beskæftigelse og ydelser', en: 'Employment and benefits' },
  social: { da: 'Sociale forhold og indsatser', en: 'Social circumstances and support' },
  plan: { da: 'Planer og aftaler', en: 'Plans and agreements' },
  health: { da: 'Helbredsoplysninger (følsomme oplysninger)', en: 'Health (special category data)' },
  child: { da: 'Oplysninger om et barn (særligt beskyttede)', en: 'About a child (specially protected)' },
  unknown: { da: 'Ukendt kategori', en: 'Unknown category' },
};

const REASON_LABELS: Record<string, Text> = {
  NO_POLICY: { da: 'Ingen regel tillader, at oplysningerne gives videre', en: 'No rule allows the data to be passed on' },
  PURPOSE_NOT_ALLOWED: { da: 'Formålet giver ikke adgang til oplysningerne', en: 'The purpose does not give access to the data' },
  ROLE_NOT_ALLOWED: { da: 'Det spørgende system må ikke få oplysningerne', en: 'The asking system may not receive the data' },
  POLICY_NOT_IN_FORCE: { da: 'Reglen gjaldt ikke på det tidspunkt', en: 'The rule was not in force at the time' },
  NO_FIELDS_PERMITTED: { da: 'Ingen af de ønskede oplysninger måtte gives videre', en: 'None of the data asked for could be passed on' },
  CONSENT_MISSING: { da: 'Dit samtykke krævedes, men forelå ikke', en: 'Your consent was required but had not been given' },
  CONSENT_WITHDRAWN: { da: 'Du havde trukket dit samtykke tilbage', en: 'You had withdrawn your consent' },
  CONSENT_EXPIRED: { da: 'Dit samtykke var udløbet', en: 'Your consent had expired' },
  CONSENT_SCOPE: { da: 'Dit samtykke dækkede ikke oplysningerne', en: 'Your consent did not cover the data' },
  CONSENT_EVIDENCE_NOT_ACCEPTED: {
    da: 'Dit samtykke var ikke dokumenteret på en måde, reglen godtager',
    en: 'Your consent was not evidenced in a way the rule accepts',
  },
  CONSENT_NOT_IN_FORCE: { da: 'Der forelå ikke et gældende samtykke fra dig', en: 'No consent of yours was in force' },
  CONSENT_SOURCE_UNAVAILABLE: {
    da: 'Samtykket kunne ikke kontrolleres, så intet blev givet videre',
    en: 'Consent could not be checked, so nothing was passed on',
  },
  SUBJECT_NOT_FOUND: { da: 'Forvaltningen havde ingen sag om dig', en: 'The administration had no case about you' },
  PROVIDER_UNAVAILABLE: { da: 'Systemet med oplysningerne kunne ikke nås', en: 'The system holding the data could not be reached' },
  PROVIDER_TIMEOUT: { da: 'Systemet med oplysningerne svarede ikke i tide', en: 'The system holding the data did not answer in time' },
  PROVIDER_BUSY: {
    da: 'Systemet med oplysningerne var optaget, så intet blev hentet',
    en: 'The system holding the data was busy, so nothing was fetched',
  },
  PROVIDER_CONTRACT_UNKNOWN: {
    da: 'Systemet med oplysningerne tilbød endnu ikke denne udveksling, så intet blev hentet',
    en: 'The system holding the data did not offer this exchange yet, so nothing was fetched',
  },
  PROVIDER_RESPONSE_INVALID: { da: 'Svaret blev afvist og ikke givet videre', en: 'The answer was rejected and not passed on' },
  RELATION_MISSING: {
    da: 'Forvaltningen havde ikke registreret, at den betjener dig',
    en: 'The administration had not registered that it serves you',
  },
  SUBJECT_OUT_OF_SCOPE: {
    da: 'Reglen gælder ikke borgere på din alder, så intet blev givet videre',
    en: 'The rule does not cover citizens of your age, so nothing was passed on',
  },
  PURPOSE_UNKNOWN: { da: 'Forespørgslen angav et ukendt formål', en: 'The request named an unknown purpose' },
  REQUEST_INVALID: { da: 'Forespørgslen var ikke gyldig', en: 'The request was not valid' },
  QUEUED: { da: 'Underretningen venter på at blive leveret', en: 'The notice is waiting to be delivered' },
  DELIVERED: { da: 'Underretningen blev leveret', en: 'The notice was delivered' },
  DEAD_LETTER: { da: 'Underretningen kunne ikke leveres', en: 'The notice could not be delivered' },
  DELIVERY_CANCELLED: { da: 'Leveringen blev annulleret', en: 'The delivery was cancelled' },
  ALREADY_ACCEPTED: {
    da: 'Underretningen blev sendt igen og kun leveret én gang',
    en: 'The notice was sent again and delivered only once',
  },
};

/** A reason code in the report's words for the citizen: the code itself when it has none. */
export function reasonLabel(code: string): Text {
  return (
    REASON_LABELS[code] ??
    (code.startsWith('TOKEN_') || code.startsWith('CERTIFICATE_') || code.startsWith('BODY_')
      ? { da: 'Forespørgslen blev afvist af sikkerhedshensyn', en: 'The request was refused for security reasons' }
      : { da: code, en: code })
  );
}

/** What the report reads of the rules in force (the gateway's rules are one): contract, purpose, administration and system names. */
export interface ReportRules {
  readonly contracts: Pick<ContractRegistry, 'get'>;
  readonly policies: PolicySet;
  readonly clients: Pick<ClientRegistry, 'byId'>;
  /** The capacities' titles (the relations register); ids are shown without it. */
  readonly capacities?: Pick<CapacityRegistry, 'capacities'>;
}

/** Kinds that record an exchange about the citizen (consent events, admin and DPO access are not). */
const EXCHANGE_KINDS = new Set(['decision', 'release', 'refusal', 'notification']);

/**
 * Builds the report from the audit trail: the citizen's records under every pseudonym key still
 * held, grouped into one entry per exchange (and per recipient of a notification).
 *
 * @example
 * const report = await buildCitizenReport({ store, pseudonyms, rules: gateway.rules(), includeEmployee: false }, { cpr, from: '2026-01-01T00:00:00Z' });
 */
export async function buildCitizenReport(
  deps: { store: Store; pseudonyms: Pseudonymizer; rules: ReportRules; includeEmployee: boolean },
  opts: { cpr: string; from?: string; to?: string },
): Promise<CitizenReport> {
  const subject = deps.pseudonyms.all(opts.cpr);
  const records: AuditRecord[] = [];
  let after: string | undefined;
  let truncated = false;
  for (;;) {
    const page = await deps.store.audit.search({
      subject,
      ...(opts.from !== undefined ? { from: opts.from } : {}),
      ...(opts.to !== undefined ? { to: opts.to } : {}),
      ...(after !== undefined ? { after } : {}),
      limit: 500,
    });
    records.push(...page.records.filter((r) => EXCHANGE_KINDS.has(r.kind) && !isResend(r)));
    if (page.next === undefined) break;
    if (records.length >= MAX_REPORT_RECORDS) {
      truncated = true;
      break;
    }
    after = page.next;
  }

  // The consents the exchanges relied on, by the digest the records cite: one read of the registry.
  const consents = records.some((r) => r.consent !== null) ? consentsByDigest(await deps.store.consents.bySubject(subject)) : new Map();

  // One exchange: an audit id (and, for notifications, one recipient).
  const groups = new Map<string, AuditRecord[]>();
  for (const r of records) {
    const key = `${r.auditId}\n${recipientOf(r)?.system ?? ''}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  const now = new Date();
  const relations = (await deps.store.relations.search({ subjects: subject }))
    .map((s) => relationOf(s, deps.rules, copenhagenDate(now), deps.includeEmployee))
    .sort((a, b) => compare(a.from, b.from) || compare(a.administration, b.administration) || compare(a.capacity.id, b.capacity.id));
  const entries = [...groups.values()]
    .map((group) => entryOf(group.sort(byTime), deps.rules, deps.includeEmployee, consents))
    .sort(
      (a, b) => compare(a.time, b.time) || compare(a.auditId, b.auditId) || compare(a.recipient.system ?? '', b.recipient.system ?? ''),
    );
  return {
    generatedAt: now.toISOString(),
    period: { from: opts.from ?? null, to: opts.to ?? null },
    includesEmployee: deps.includeEmployee,
    entries,
    relations,
    summary: {
      disclosed: entries.filter((e) => e.outcome === 'disclosed').length,
      refused: entries.filter((e) => e.outcome === 'refused').length,
      notDisclosed: entries.filter((e) => e.outcome === 'not-disclosed').length,
    },
    truncated,
  };
}

/**
 * A notification sent again under the same Idempotency-Key, answered as the first time: nothing was
 * queued or disclosed again, and the first notification's records already tell its course.
 */
const isResend = (r: AuditRecord): boolean => r.kind === 'notification' && r.reasons.includes(NOTIFICATION_AUDIT.alreadyAccepted);

/** A reason of the form `name=value`: it names a thing (a relation, a digest), it is not a reason code. */
const NAMED = /^[a-z][a-z0-9-]*=/;

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const byTime = (a: AuditRecord, b: AuditRecord): number => (a.time < b.time ? -1 : a.time > b.time ? 1 : a.seq - b.seq);

function recipientOf(r: AuditRecord): { system: string; administration: string } | undefined {
  return r.recipient ?? undefined;
}

/** The citizen's consents by the digests a record may cite: the receipt's, and for a citizen-signed one its artefact's. */
function consentsByDigest(stored: readonly { readonly consent: ConsentRecord }[]): ReadonlyMap<string, ReportConsent> {
  const out = new Map<string, ReportConsent>();
  for (const { consent: c } of stored) {
    const role = c.givenBy?.role ?? 'citizen';
    const level = evidenceLevel(c.evidence);
    const words: ReportConsent = {
      givenBy: { role, label: CONSENT_GIVER_TEXT[role] },
      level: { id: level, label: CONSENT_LEVEL_TEXT[level] },
    };
    out.set(c.receiptDigest, words);
    if (c.evidence.artefact !== undefined) out.set(c.evidence.artefact.digest, words);
  }
  return out;
}

function entryOf(
  group: readonly AuditRecord[],
  rules: ReportRules,
  includeEmployee: boolean,
  consents: ReadonlyMap<string, ReportConsent>,
): CitizenReportEntry {
  const last = group[group.length - 1] as AuditRecord;
  const first = group[0] as AuditRecord;
  const isNotification = group.some((r) => r.kind === 'notification');
  const contract = last.contract ?? first.contract;
  const info = contract !== null ? rules.contracts.get(contract) : undefined;
  const fieldOf = (name: string): ReportField => {
    const f = info?.fields[name];
    const category = f?.category ?? 'unknown';
    return {
      name,
      category,
      categoryLabel: CATEGORY_LABELS[category],
      label: f?.label ?? { da: name, en: name },
      special: category !== 'unknown' && SPECIAL_CATEGORIES.includes(category),
    };
  };

  let outcome: ReportOutcome;
  if (group.some((r) => r.decision === 'deny' || r.kind === 'refusal')) outcome = 'refused';
  else if (isNotification)
    outcome = group.some((r) => r.decision === 'permit' && r.reasons.includes(NOTIFICATION_AUDIT.delivered) && r.fields.released.length > 0)
      ? 'disclosed'
      : 'not-disclosed';
  else
    outcome = group.some((r) => r.kind === 'release' && r.status === 200 && r.fields.released.length > 0) ? 'disclosed' : 'not-disclosed';

  const releasedBy = isNotification
    ? group.find((r) => r.reasons.includes(NOTIFICATION_AUDIT.delivered))
    : group.find((r) => r.kind === 'release' && r.status === 200);
  const caller = last.caller ?? first.caller;
  const recipient = isNotification ? (recipientOf(last) ?? recipientOf(first)) : (caller ?? undefined);
  const source = isNotification
    ? caller
    : info !== undefined
      ? { administration: info.provider.administration, system: info.provider.system }
      : null;
  // A notice's fields withheld from a permitted recipient were never going to it: not listed for it.
  const withheld = new Set(isNotification ? group.filter((r) => r.decision === 'permit').flatMap((r) => r.fields.withheld) : []);
  const requested = [...new Set(group.flatMap((r) => r.fields.requested))].filter((f) => !withheld.has(f));
  const codes = [...new Set(group.flatMap((r) => r.reasons))];
  // Codes only: a reason that names something (`relation=<id>`, `relations-sha256=<digest>`) is not a reason in words.
  const words = codes.filter((c) => !NAMED.test(c));
  const reasons = outcome === 'disclosed' ? [] : words.length > 1 ? words.filter((c) => c !== NOTIFICATION_AUDIT.queued) : words;
  const consent = group.map((r) => r.consent).find((c) => c !== null) ?? null;
  const purposeId = last.purpose ?? first.purpose;
  const purpose = purposeId !== null ? rules.policies.purposes.get(purposeId) : undefined;

  return {
    time: (releasedBy ?? last).time,
    auditId: last.auditId,
    kind: isNotification ? 'notification' : 'query',
    outcome,
    recipient: recipient !== undefined ? party(rules, recipient.administration, recipient.system) : NO_RECIPIENT,
    source: source === null || source === undefined ? null : party(rules, source.administration, source.system),
    contract: contract !== null ? { id: contract, title: info?.title ?? { da: contract, en: contract } } : null,
    fields: outcome === 'disclosed' && releasedBy !== undefined ? releasedBy.fields.released.map(fieldOf) : [],
    requested: requested.map(fieldOf),
    purpose: purposeId !== null ? { id: purposeId, title: purpose?.title ?? { da: purposeId, en: purposeId } } : null,
    legalBasis: readerBasis(group.map((r) => r.legalBasis).find((b) => b !== null) ?? null),
    consent,
    consentGiven: consent !== null ? (consents.get(consent) ?? null) : null,
    reasons: reasons.map((code) => ({ code, label: reasonLabel(code) })),
    ...(includeEmployee ? { caseworker: last.caseworker ?? first.caseworker } : {}),
  };
}

function readerBasis(recorded: string | null): Text | null {
  return recorded === null ? null : { da: basisForReader(recorded, 'da'), en: basisForReader(recorded, 'en') };
}

function relationOf(stored: StoredRelation, rules: ReportRules, day: string, includeEmployee: boolean): ReportRelation {
  const r = stored.relation;
  const admins = (rules.policies as Partial<LoadedPolicySet>).administrations;
  return {
    administration: r.administration,
    administrationName: admins?.get(r.administration)?.name ?? null,
    capacity: { id: r.capacity, title: rules.capacities?.capacities.get(r.capacity)?.title ?? { da: r.capacity, en: r.capacity } },
    from: r.from,
    to: r.to,
    state: relationState(r, day),
    endReason: r.endReason !== null ? { code: r.endReason, label: RELATION_END_TEXT[r.endReason] } : null,
    ...(includeEmployee ? { caseworker: r.caseworker } : {}),
  };
}

/** The recipient of a notice nobody could receive: no administration, said in words. */
const NO_RECIPIENT: ReportParty = { administration: '', administrationName: REPORT_TEXT.noRecipient, system: null, systemName: null };

function party(rules: ReportRules, administration: string, system: string | null): ReportParty {
  const admins = (rules.policies as Partial<LoadedPolicySet>).administrations;
  const name = admins?.get(administration)?.name ?? null;
  return {
    administration,
    administrationName: name,
    system,
    systemName: system !== null ? (rules.clients.byId(system)?.title ?? null) : null,
  };
}

// ---------------------------------------------------------------------------------------------
// CSV and HTML

const OUTCOME_LABELS: Record<ReportOutcome, Text> = {
  disclosed: { da: 'Videregivet', en: 'Disclosed' },
  refused: { da: 'Afvist', en: 'Refused' },
  'not-disclosed': { da: 'Intet videregivet', en: 'Nothing disclosed' },
};

const COLUMNS: readonly { key: string; label: Text; value: (e: CitizenReportEntry, lang: Lang) => string; employee?: true }[] = [
  { key: 'time', label: { da: 'Tidspunkt', en: 'Time' }, value: (e) => localTime(e.time) },
  { key: 'outcome', label: { da: 'Udfald', en: 'Outcome' }, value: (e, l) => OUTCOME_LABELS[e.outcome][l] },
  {
    key: 'recipient',
    label: { da: 'Modtager (forvaltning)', en: 'Recipient (administration)' },
    value: (e, l) => e.recipient.administrationName?.[l] ?? e.recipient.administration,
  },
  {
    key: 'system',
    label: { da: 'Modtagende system', en: 'Receiving system' },
    value: (e, l) => e.recipient.systemName?.[l] ?? e.recipient.system ?? '',
  },
  {
    key: 'source',
    label: { da: 'Oplysningerne kom fra', en: 'Data came from' },
    value: (e, l) => (e.source === null ? '' : (e.source.administrationName?.[l] ?? e.source.administration)),
  },
  {
    key: 'fields',
    label: { da: 'Oplysninger', en: 'Data' },
    value: (e, l) => (e.outcome === 'disclosed' ? e.fields : e.requested).map((f) => `${f.label[l]} (${f.categoryLabel[l]})`).join('; '),
  },
  { key: 'purpose', label: { da: 'Formål', en: 'Purpose' }, value: (e, l) => e.purpose?.title[l] ?? '' },
  { key: 'legalBasis', label: { da: 'Hjemmel', en: 'Legal basis' }, value: (e, l) => e.legalBasis?.[l] ?? '' },
  { key: 'consent', label: { da: 'Samtykke (kvittering)', en: 'Consent (receipt)' }, value: (e) => e.consent ?? '' },
  { key: 'consentGivenBy', label: REPORT_TEXT.consentGivenBy, value: (e, l) => e.consentGiven?.givenBy.label[l] ?? '' },
  { key: 'consentEvidence', label: REPORT_TEXT.consentEvidence, value: (e, l) => e.consentGiven?.level.label[l] ?? '' },
  { key: 'reasons', label: { da: 'Begrundelse', en: 'Reason' }, value: (e, l) => e.reasons.map((r) => r.label[l]).join('; ') },
  { key: 'caseworker', label: { da: 'Medarbejder', en: 'Employee' }, value: (e) => e.caseworker ?? '', employee: true },
];

function columns(report: CitizenReport): typeof COLUMNS {
  return COLUMNS.filter((c) => c.employee !== true || report.includesEmployee);
}

const RELATION_COLUMNS: readonly { label: Text; value: (r: ReportRelation, lang: Lang) => string; employee?: true }[] = [
  { label: REPORT_TEXT.administration, value: (r, l) => r.administrationName?.[l] ?? r.administration },
  { label: REPORT_TEXT.capacity, value: (r, l) => r.capacity.title[l] },
  { label: REPORT_TEXT.relationFrom, value: (r) => r.from },
  { label: REPORT_TEXT.relationTo, value: (r, l) => r.to ?? REPORT_TEXT.openEnded[l] },
  { label: REPORT_TEXT.relationState, value: (r, l) => RELATION_STATE_TEXT[r.state][l] },
  { label: REPORT_TEXT.relationEnd, value: (r, l) => r.endReason?.label[l] ?? '' },
  { label: { da: 'Medarbejder', en: 'Employee' }, value: (r) => r.caseworker ?? '', employee: true },
];

function relationColumns(report: CitizenReport): typeof RELATION_COLUMNS {
  return RELATION_COLUMNS.filter((c) => c.employee !== true || report.includesEmployee);
}

const CLOCK = new Intl.DateTimeFormat('sv-SE', {
  timeZone: 'Europe/Copenhagen',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
});

/** Copenhagen local time, "2026-01-05 14:03". */
function localTime(iso: string): string {
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? iso : CLOCK.format(new Date(ms));
}

/** A CSV cell: quoted when needed, and never a formula when opened in a spreadsheet. */
function csvCell(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n;]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

/**
 * The report as CSV (RFC 4180, CRLF, UTF-8 with a byte-order mark so spreadsheets read the
 * Danish letters), one row per entry, headings in the chosen language; then, after an empty
 * line, the relations: a row with their heading, a row of column headings, one row per relation.
 */
export function citizenReportCsv(report: CitizenReport, lang: Lang): string {
  const cols = columns(report);
  const relCols = relationColumns(report);
  const rows = [
    cols.map((c) => csvCell(c.label[lang])).join(','),
    ...report.entries.map((e) => cols.map((c) => csvCell(c.value(e, lang))).join(',')),
    '',
    csvCell(REPORT_TEXT.relations[lang]),
    relCols.map((c) => csvCell(c.label[lang])).join(','),
    ...report.relations.map((r) => relCols.map((c) => csvCell(c.value(r, lang))).join(',')),
  ];
  return `\uFEFF${rows.join('\r\n')}\r\n`;
}

const STYLE = [
  'body{font-family:Georgia,"Times New Roman",serif;margin:2rem;color:#111;line-height:1.4}',
  'h1{font-size:1.5rem;margin:0 0 .5rem}h2{font-size:1.1rem;margin:1.5rem 0 .5rem}',
  'table{border-collapse:collapse;width:100%;font-size:.85rem}',
  'th,td{border:1px solid #999;padding:.3rem .4rem;text-align:left;vertical-align:top}',
  'th{background:#eee}.refused td{background:#fbf3f3}.special{font-weight:bold}',
  'p.note{font-size:.85rem;color:#333}dl{display:grid;grid-template-columns:max-content auto;gap:.2rem 1rem}dt{font-weight:bold}',
  '@media print{body{margin:1cm}th{background:none}tr{page-break-inside:avoid}}',
].join('');

/** The Content-Security-Policy to serve the HTML report with: nothing but its own style block. */
export const CITIZEN_REPORT_CSP = `default-src 'none'; style-src 'sha256-${createHash('sha256').update(STYLE).digest('base64')}'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`;

const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * The report as a printable HTML page: one self-contained document, no script, no external
 * asset, its only style block allowed by CITIZEN_REPORT_CSP.
 */
export function citizenReportHtml(report: CitizenReport, lang: Lang): string {
  const t = (k: keyof typeof REPORT_TEXT): string => esc(REPORT_TEXT[k][lang]);
  const cols = columns(report);
  const relCols = relationColumns(report);
  const period =
    report.period.from === null && report.period.to === null
      ? t('allRecords')
      : `${esc(report.period.from !== null ? localTime(report.period.from) : '…')} – ${esc(report.period.to !== null ? localTime(report.period.to) : '…')}`;
  const cell = (e: CitizenReportEntry, c: (typeof COLUMNS)[number]): string => {
    if (c.key !== 'fields') return esc(c.value(e, lang));
    const fields = e.outcome === 'disclosed' ? e.fields : e.requested;
    return fields
      .map(
        (f) =>
          `<span${f.special ? ' class="special"' : ''}>${esc(f.label[lang])}${f.special ? ' *' : ''} (${esc(f.categoryLabel[lang])})</span>`,
      )
      .join('<br>');
  };
  const rows = report.entries
    .map((e) => `<tr${e.outcome === 'refused' ? ' class="refused"' : ''}>${cols.map((c) => `<td>${cell(e, c)}</td>`).join('')}</tr>`)
    .join('\n');
  const s = report.summary;
  return `<!DOCTYPE html>
<html lang="${lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${t('title')}</title>
<style>${STYLE}</style>
</head>
<body>
<h1>${t('title')}</h1>
<p>${t('intro')}</p>
<dl>
<dt>${t('period')}</dt><dd>${period}</dd>
<dt>${t('prepared')}</dt><dd>${esc(localTime(report.generatedAt))}</dd>
</dl>
<h2>${t('summary')}</h2>
<dl>
<dt>${esc(OUTCOME_LABELS.disclosed[lang])}</dt><dd>${s.disclosed}</dd>
<dt>${esc(OUTCOME_LABELS.refused[lang])}</dt><dd>${s.refused}</dd>
<dt>${esc(OUTCOME_LABELS['not-disclosed'][lang])}</dt><dd>${s.notDisclosed}</dd>
</dl>
<h2>${t('relations')}</h2>
<p>${t('relationsIntro')}</p>
${
  report.relations.length === 0
    ? `<p>${t('relationsNone')}</p>`
    : `<table>
<thead><tr>${relCols.map((c) => `<th scope="col">${esc(c.label[lang])}</th>`).join('')}</tr></thead>
<tbody>
${report.relations.map((r) => `<tr>${relCols.map((c) => `<td>${esc(c.value(r, lang))}</td>`).join('')}</tr>`).join('\n')}
</tbody>
</table>`
}
<h2>${t('entries')}</h2>
${
  report.entries.length === 0
    ? `<p>${t('none')}</p>`
    : `<table>
<thead><tr>${cols.map((c) => `<th scope="col">${esc(c.label[lang])}</th>`).join('')}</tr></thead>
<tbody>
${rows}
</tbody>
</table>`
}
${report.truncated ? `<p class="note">${t('truncated')}</p>` : ''}
<p class="note">${t('special')}</p>
${report.includesEmployee ? '' : `<p class="note">${t('noEmployee')}</p>`}
</body>
</html>
`;
}

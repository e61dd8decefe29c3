import { ERRORS } from '../errors.js';
import type { Rules } from '../rules/types.js';
import type { Lang } from './html.js';

/** Reason codes in words: the policy's deny reasons and the error registry's codes. */
const REASONS: Record<string, { da: string; en: string }> = {
  NO_POLICY: { da: 'Ingen politik tillader udvekslingen', en: 'No policy permits the exchange' },
  PURPOSE_NOT_ALLOWED: { da: 'Formålet er ikke tilladt for denne udveksling', en: 'The purpose is not allowed for this exchange' },
  ROLE_NOT_ALLOWED: { da: 'Systemets rolle er ikke tilladt', en: 'The system\'s role is not allowed' },
  POLICY_NOT_IN_FORCE: { da: 'Politikken gælder ikke på dette tidspunkt', en: 'The policy is not in force at this time' },
  NO_FIELDS_PERMITTED: { da: 'Ingen af de ønskede felter må udleveres', en: 'None of the fields asked for may be released' },
  CONSENT_MISSING: { da: 'Samtykke kræves, men er ikke registreret', en: 'Consent required but not recorded' },
  CONSENT_WITHDRAWN: { da: 'Samtykket er trukket tilbage', en: 'The consent was withdrawn' },
  CONSENT_EXPIRED: { da: 'Samtykket er udløbet', en: 'The consent has expired' },
  CONSENT_SCOPE: { da: 'Samtykket dækker ikke udvekslingen', en: 'The consent does not cover the exchange' },
  CONSENT_SOURCE_UNAVAILABLE: { da: 'Samtykkeregistret kunne ikke nås', en: 'The consent registry could not be reached' },
  CERTIFICATE_REQUIRED: { da: 'Klientcertifikat mangler', en: 'Client certificate missing' },
  CERTIFICATE_UNTRUSTED: { da: 'Klientcertifikatet er ikke betroet', en: 'Client certificate not trusted' },
  CLIENT_UNKNOWN: { da: 'Ukendt klientsystem', en: 'Unknown client system' },
  FORBIDDEN_ROLE: { da: 'Systemets rolle er ikke tilladt', en: 'Role not allowed' },
  TOKEN_MISSING: { da: 'Forespørgselstoken mangler', en: 'Request token missing' },
  TOKEN_EXPIRED: { da: 'Forespørgselstoken er udløbet', en: 'Request token expired' },
  TOKEN_REPLAYED: { da: 'Forespørgselstoken er allerede brugt', en: 'Request token already used' },
  TOKEN_BODY_MISMATCH: { da: 'Token passer ikke til forespørgslens indhold', en: 'Token does not match the request body' },
  TOKEN_SIGNATURE_INVALID: { da: 'Tokenets signatur er ugyldig', en: 'Token signature invalid' },
  REQUEST_INVALID: { da: 'Forespørgslen passer ikke til kontrakten', en: 'Request does not match the contract' },
  CONTRACT_UNKNOWN: { da: 'Ukendt kontrakt', en: 'Unknown contract' },
  PURPOSE_UNKNOWN: { da: 'Ukendt formål', en: 'Unknown purpose' },
  SUBJECT_NOT_FOUND: { da: 'Udbyderen har ingen sag om borgeren', en: 'The provider has no case for the citizen' },
  PROVIDER_UNAVAILABLE: { da: 'Udbydersystemet kunne ikke nås', en: 'Provider system unavailable' },
  PROVIDER_TIMEOUT: { da: 'Udbydersystemet svarede ikke i tide', en: 'Provider system timed out' },
  PROVIDER_BUSY: { da: 'Udbydersystemet havde for mange ventende forespørgsler', en: 'Provider system busy' },
  PROVIDER_RESPONSE_INVALID: { da: 'Udbyderens svar blev afvist', en: 'Provider answer rejected' },
  RATE_LIMITED: { da: 'For mange forespørgsler', en: 'Too many requests' },
  AUDIT_UNAVAILABLE: { da: 'Revisionssporet kunne ikke skrives', en: 'Audit trail unavailable' },
  NOT_FOUND: { da: 'Ukendt adresse', en: 'Unknown path' },
  AUDIT_SEARCH: { da: 'DPO søgte i revisionssporet', en: 'The DPO searched the audit trail' },
  AUDIT_VERIFY: { da: 'DPO kontrollerede revisionssporet', en: 'The DPO verified the audit trail' },
  CITIZEN_REPORT: { da: 'DPO lavede borgerens indsigtsoversigt', en: "The DPO made the citizen's access report" },
  CONSENT_RECORDED: { da: 'Samtykke registreret', en: 'Consent recorded' },
  CONSENT_WITHDRAWAL: { da: 'Samtykke trukket tilbage', en: 'Consent withdrawn' },
  CONSENT_SEARCH: { da: 'Samtykker slået op', en: 'Consents looked up' },
  QUEUED: { da: 'Sat i kø til levering', en: 'Queued for delivery' },
  DELIVERED: { da: 'Leveret', en: 'Delivered' },
  DEAD_LETTER: { da: 'Kunne ikke leveres (dødt brev)', en: 'Could not be delivered (dead letter)' },
  DELIVERY_CANCELLED: { da: 'Levering annulleret', en: 'Delivery cancelled' },
  REDRIVEN: { da: 'Sendt igen', en: 'Re-driven' },
  ALREADY_ACCEPTED: { da: 'Sendt igen af afsenderen; besvaret som første gang, intet sat i kø igen', en: 'Sent again by the sender; answered as the first time, nothing queued again' },
  IDEMPOTENCY_KEY_REUSED: { da: 'Afsenderens nøgle var brugt til en anden hændelse', en: "The sender's key was used for another event" },
  IDEMPOTENCY_KEY_INVALID: { da: 'Afsenderens nøgle var ugyldig', en: "The sender's key was invalid" },
  RECIPIENT_STATUS: { da: 'Modtageren svarede med en fejl', en: 'The recipient answered with an error' },
};

export function reasonText(code: string, lang: Lang): string {
  const known = REASONS[code];
  if (known !== undefined) return known[lang];
  const spec = (ERRORS as Record<string, { title: string } | undefined>)[code];
  return spec?.title ?? code;
}

export function purposeTitle(rules: Rules, id: string | null, lang: Lang): string {
  if (id === null || id === '') return lang === 'da' ? '(intet formål)' : '(no purpose)';
  return rules.policies.purposes.get(id)?.title[lang] ?? id;
}

export function contractTitle(rules: Rules, id: string | null, lang: Lang): string {
  if (id === null || id === '') return lang === 'da' ? '(ingen kontrakt)' : '(no contract)';
  return rules.contracts.get(id)?.title ?? id;
}

export function fieldLabel(rules: Rules, contract: string | null, field: string, lang: Lang): string {
  const info = contract === null ? undefined : rules.contracts.get(contract)?.fields[field];
  return info?.label[lang] ?? field;
}

export function systemTitle(rules: Rules, id: string | null): string {
  if (id === null || id === '') return '(unknown)';
  const client = rules.clients.byId(id);
  return client !== undefined ? `${client.title} (${id})` : id;
}

export const KIND_LABELS: Record<string, { da: string; en: string }> = {
  decision: { da: 'Afgørelse', en: 'Decision' },
  release: { da: 'Udlevering', en: 'Release' },
  refusal: { da: 'Afvisning', en: 'Refusal' },
  consent: { da: 'Samtykke', en: 'Consent' },
  notification: { da: 'Notifikation', en: 'Notification' },
  admin: { da: 'Administration', en: 'Administration' },
  'dpo-access': { da: 'DPO-adgang', en: 'DPO access' },
};

/** What a verification problem means, in words (the verifier's own message gives the details). */
export const PROBLEM_TEXT: Record<string, { da: string; en: string }> = {
  'hash-mismatch': { da: 'Posten er ændret, efter den blev skrevet', en: 'The record was changed after it was written' },
  'prev-mismatch': { da: 'Posten peger ikke på den forrige post', en: 'The record does not link to the one before it' },
  gap: { da: 'Poster mangler i kæden', en: 'Records are missing from the chain' },
  inserted: { da: 'En fremmed post er sat ind i kæden', en: 'A record was inserted into the chain' },
  reordered: { da: 'Poster er byttet om', en: 'Records were reordered' },
  'column-mismatch': { da: 'Søgekolonner er ændret bag om sporet', en: "Search columns were changed behind the trail's back" },
  malformed: { da: 'En post kan ikke læses', en: 'A record cannot be read' },
  'wrong-chain': { da: 'En post hører til en anden kæde', en: 'A record belongs to another chain' },
  truncated: { da: 'Kæden er afkortet', en: 'The chain was cut short' },
  'head-mismatch': { da: 'Kæden er omskrevet', en: 'The chain was rewritten' },
  'checkpoint-invalid': { da: 'Et signeret kontrolpunkt holder ikke', en: 'A signed checkpoint does not verify' },
  'checkpoint-mismatch': { da: 'Kæden passer ikke til et signeret kontrolpunkt', en: 'The chain does not match a signed checkpoint' },
  'root-mismatch': { da: 'Posterne giver ikke kontrolpunktets Merkle-rod', en: "The records do not give the checkpoint's Merkle root" },
  'retention-unproven': { da: 'Slettede poster er ikke dokumenteret', en: 'Deleted records are not documented' },
};

export function problemText(kind: string, lang: Lang): string {
  return PROBLEM_TEXT[kind]?.[lang] ?? kind;
}

export function kindLabel(kind: string, lang: Lang): string {
  return KIND_LABELS[kind]?.[lang] ?? kind;
}

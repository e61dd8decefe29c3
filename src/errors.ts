/**
 * The one registry of every refusal the gateway can give: a stable code, an HTTP status, a
 * title and a message a person can act on. RFC 9457 problem+json is produced here and nowhere
 * else. Messages never carry personal data: callers pass only codes and safe, fixed details.
 */

export interface ErrorSpec {
  readonly status: number;
  readonly title: string;
  /** What the caller can do about it. Never includes values from the request. */
  readonly detail: string;
}

export const ERRORS = {
  // transport and identity
  CERTIFICATE_REQUIRED: {
    status: 401,
    title: 'Client certificate required',
    detail: 'Connect with the client certificate issued to your system by the gateway operator.',
  },
  CERTIFICATE_UNTRUSTED: {
    status: 401,
    title: 'Client certificate not trusted',
    detail:
      'The client certificate is not issued by a trusted authority, has expired or is revoked. Ask the gateway operator for a valid certificate.',
  },
  CLIENT_UNKNOWN: {
    status: 401,
    title: 'Unknown client system',
    detail: 'The client certificate is valid but belongs to no registered client system. Ask the gateway operator to register your system.',
  },
  FORBIDDEN_ROLE: { status: 403, title: 'Role not allowed', detail: 'Your client system does not hold the role this operation requires.' },

  // request token
  TOKEN_MISSING: {
    status: 401,
    title: 'Request token missing',
    detail: 'Send "Authorization: Bearer <JWT>" signed with your system\'s registered signing key.',
  },
  TOKEN_MALFORMED: {
    status: 401,
    title: 'Request token malformed',
    detail: 'The bearer token is not a compact JWS (header.payload.signature).',
  },
  TOKEN_ALG_NOT_ALLOWED: { status: 401, title: 'Token algorithm not allowed', detail: 'Sign request tokens with ES256 or EdDSA.' },
  TOKEN_HEADER_NOT_ALLOWED: {
    status: 401,
    title: 'Token header not allowed',
    detail: 'Token headers may carry only alg, typ and kid; keys are never taken from the token (jku, jwk, x5u, x5c, crit are refused).',
  },
  TOKEN_KEY_UNKNOWN: {
    status: 401,
    title: 'Token key unknown',
    detail: "The token's kid names no signing key registered for your system.",
  },
  TOKEN_SIGNATURE_INVALID: {
    status: 401,
    title: 'Token signature invalid',
    detail: "The token signature does not verify with your system's registered signing key.",
  },
  TOKEN_EXPIRED: { status: 401, title: 'Token expired', detail: 'Mint a fresh token for each request.' },
  TOKEN_NOT_YET_VALID: {
    status: 401,
    title: 'Token not yet valid',
    detail: "The token's iat or nbf lies in the future; check your system clock.",
  },
  TOKEN_LIFETIME_TOO_LONG: {
    status: 401,
    title: 'Token lifetime too long',
    detail: 'A request token may live at most 5 minutes (exp - iat <= 300 seconds).',
  },
  TOKEN_LIFETIME_INVALID: {
    status: 401,
    title: 'Token lifetime invalid',
    detail: 'A request token must expire after it is issued: exp must be later than iat.',
  },
  TOKEN_AUDIENCE_INVALID: { status: 401, title: 'Token audience invalid', detail: "Set aud to this gateway's identifier." },
  TOKEN_ISSUER_MISMATCH: {
    status: 401,
    title: 'Token issuer does not match certificate',
    detail: "The token's iss must be the client id of the TLS client certificate it is sent with.",
  },
  TOKEN_CLAIM_MISSING: {
    status: 401,
    title: 'Token claim missing or invalid',
    detail:
      'Request tokens need iss, aud, iat, exp, jti, sub (caseworker), purpose, case, htm, htu and body_sha256, as printable text of at most 200 characters; sub, case and purpose must not contain a CPR number in any written form.',
  },
  TOKEN_REPLAYED: { status: 401, title: 'Token already used', detail: 'Each token may be used once; mint a new token with a new jti.' },
  TOKEN_BODY_MISMATCH: {
    status: 401,
    title: 'Token does not match request body',
    detail: 'body_sha256 must be the base64url SHA-256 digest of the exact request body bytes.',
  },
  TOKEN_REQUEST_MISMATCH: {
    status: 401,
    title: 'Token does not match request',
    detail: "htm and htu must name this request's method and path.",
  },

  // request shape
  UNSUPPORTED_MEDIA_TYPE: { status: 415, title: 'Unsupported media type', detail: 'Send the request body as application/json.' },
  BODY_TOO_LARGE: { status: 413, title: 'Request body too large', detail: "The request body exceeds the gateway's size limit." },
  BODY_MALFORMED: {
    status: 400,
    title: 'Request body is not valid JSON',
    detail: 'Send one JSON object, UTF-8 encoded, without duplicate keys or __proto__/constructor/prototype keys.',
  },
  CONTRACT_UNKNOWN: {
    status: 404,
    title: 'Unknown contract',
    detail: 'No contract with this id is registered; GET /v1/contracts lists the registered contracts.',
  },
  CONTRACT_KIND_MISMATCH: {
    status: 404,
    title: 'Contract is of another kind',
    detail: 'This contract is not offered on this path; query contracts go to /v1/queries, notification contracts to /v1/notifications.',
  },
  REQUEST_INVALID: {
    status: 400,
    title: 'Request does not match the contract',
    detail: "The request body does not validate against the contract's request schema; see errors.",
  },
  PURPOSE_UNKNOWN: { status: 400, title: 'Unknown purpose', detail: "The token's purpose is not in the purpose registry." },
  NOT_FOUND: { status: 404, title: 'Not found', detail: 'There is nothing at this path.' },
  METHOD_NOT_ALLOWED: { status: 405, title: 'Method not allowed', detail: 'This path does not accept this method.' },
  HTTP_MALFORMED: {
    status: 400,
    title: 'Malformed HTTP request',
    detail:
      'The request is not valid HTTP/1.1 (request line, headers, path encoding, Content-Length or Transfer-Encoding). Send one well-formed request per message.',
  },
  HEADERS_TOO_LARGE: {
    status: 431,
    title: 'Request headers too large',
    detail:
      "The request line and headers together exceed the gateway's limit (16 KiB). Send the request token in Authorization and nothing else that is large.",
  },
  REQUEST_TIMEOUT: {
    status: 408,
    title: 'Request timed out',
    detail: 'The request (headers and body) did not arrive in time. Send the whole request at once.',
  },
  QUERY_STRING_NOT_ALLOWED: {
    status: 400,
    title: 'Query string not allowed',
    detail:
      'This path takes no query string (only the DPO pages read one): send the request to the path alone, with nothing after it (not even a bare "?"), and put what you meant to send in the JSON body; mint the token for that path. Personal data such as a CPR number must never travel in a URL.',
  },

  // policy (403): the reasons are in `reasons`
  POLICY_DENIED: {
    status: 403,
    title: 'Exchange not permitted',
    detail:
      'Default deny: the policies do not permit this exchange for your administration, role, purpose and the fields asked for, or a condition of the permitting policy is not met (such as a relation with the citizen). See reasons for which.',
  },
  CONSENT_REQUIRED: {
    status: 403,
    title: "The citizen's consent is required",
    detail:
      "A policy permits this exchange only with the citizen's consent, and no consent in force covers it on evidence the policy accepts (CONSENT_NOT_IN_FORCE), or the consent could not be checked (CONSENT_SOURCE_UNAVAILABLE); nothing was released. Consents that would not count are not described. The citizen gives consent at the consent service, or a caseworker records it through POST /v1/consents where the policy accepts that; see docs/consent-and-notifications.md.",
  },
  SUBJECT_NOT_FOUND: { status: 404, title: 'No record of this citizen', detail: 'The providing system holds no case for this citizen.' },

  // upstream
  PROVIDER_UNAVAILABLE: {
    status: 502,
    title: 'Provider system unavailable',
    detail: 'The providing system could not be reached or answered with an error; try again later.',
  },
  PROVIDER_TIMEOUT: {
    status: 504,
    title: 'Provider system timed out',
    detail: 'The providing system did not answer in time; try again later.',
  },
  PROVIDER_BUSY: {
    status: 503,
    title: 'Provider system busy',
    detail:
      "Too many requests are waiting for the providing system's answer at once; nothing was sent to it. Try again after the time given in Retry-After.",
  },
  PROVIDER_CONTRACT_UNKNOWN: {
    status: 502,
    title: 'Provider does not offer this contract',
    detail:
      "The providing system answered that it does not offer this contract (yet), so nothing was fetched; this says nothing about the citizen. Ask the providing system's operators to deploy the contract on their side; the gateway's rules alone do not make a provider offer it.",
  },
  PROVIDER_RESPONSE_INVALID: {
    status: 502,
    title: 'Provider answer rejected',
    detail: "The providing system's answer does not match the contract and was not forwarded.",
  },

  // consent registry
  CONSENT_NOT_FOUND: {
    status: 404,
    title: 'No such consent',
    detail: "No consent with this id is recorded for this citizen. Search the citizen's consents with POST /v1/consents/search.",
  },
  CONSENT_ALREADY_WITHDRAWN: {
    status: 409,
    title: 'Consent already withdrawn',
    detail: 'This consent was withdrawn before; nothing changed. Its history is in POST /v1/consents/search.',
  },
  CONSENT_ARTEFACT_INVALID: {
    status: 400,
    title: 'Consent artefact refused',
    detail:
      'The consent artefact is not one the gateway can rely on: malformed, not signed by a consent service the municipality trusts, signed in the future, for a period that has ended, or about another citizen (see reasons). Nothing was recorded. Fetch the artefact again from the consent service; do not edit it.',
  },
  CONSENT_NOT_A_PARTY: {
    status: 403,
    title: 'Not a party to this consent',
    detail:
      'Only an administration the consent names as a recipient or a source may record it; nothing was recorded. A citizen-signed consent is found at the consent service by the gateway itself when it decides.',
  },
  CONSENT_ARTEFACT_ALREADY_RECORDED: {
    status: 409,
    title: 'Consent artefact already recorded',
    detail:
      'This consent artefact is already recorded in the registry (an artefact is recorded once); nothing was recorded. Search the consents you may see with POST /v1/consents/search; the decision also finds it at the consent service.',
  },
  CONSENT_PERIOD_NOT_ALLOWED: {
    status: 422,
    title: 'Consent period not allowed',
    detail:
      "The consent's period is outside its bounds (see errors): it may start no earlier than today less the configured grace for back-dated paper forms, and end no later than its purposes' maximum consent duration (consentMaxDuration in purposes.yaml). Nothing was recorded.",
  },
  CONSENT_RELATION_INVALID: {
    status: 422,
    title: 'Consent relation not usable',
    detail:
      'The case relation the consent is to be tied to is not in force for this citizen, or belongs to neither your administration nor a recipient of the consent. Nothing was recorded. Check the relation with POST /v1/relations/search.',
  },
  CONSENT_REGISTRY_UNAVAILABLE: {
    status: 503,
    title: 'Consent registry unavailable',
    detail: 'The gateway cannot read or write its consent registry right now; nothing was changed. Try again later.',
  },

  // relations register (who serves which citizen); refusals never say whether another administration serves the citizen
  RELATION_CAPACITY_UNKNOWN: {
    status: 400,
    title: 'Unknown capacity',
    detail:
      'The capacity is not in the capacities registry (policies/capacities.yaml). Use one of its ids; the DPO or the gateway operator can add one.',
  },
  RELATION_CAPACITY_NOT_YOURS: {
    status: 403,
    title: 'Capacity not open to your system',
    detail:
      "The capacities registry does not give this capacity to your administration, or it requires a role your system does not hold (e.g. coordinating-caseworker). Register your administration's relation in a capacity open to it, or ask the gateway operator about the role.",
  },
  RELATION_ADMINISTRATION_FORBIDDEN: {
    status: 403,
    title: 'Not your administration',
    detail: 'A case system registers relations for its own administration only. Leave out "administration" or name your system\'s own.',
  },
  RELATION_PERIOD_INVALID: {
    status: 400,
    title: 'The period ends before it starts',
    detail:
      'The end date is before the start date. Register with an end date on or after the start date; an end (POST /v1/relations/{id}/end) may be at the earliest the day before the start (never in force). Dates are YYYY-MM-DD, Copenhagen days, both inclusive.',
  },
  RELATION_DATE_OUT_OF_RANGE: {
    status: 400,
    title: 'Date out of range',
    detail:
      'A relation may start at the earliest the configured number of days before today (relations.backdateDays, default 365) and at the latest one year after today, and end at the latest ten years after today; nothing changed. Give dates within those bounds.',
  },
  RELATION_CASE_REF_SPELLING: {
    status: 409,
    title: 'Case reference registered with other letter case',
    detail:
      'Your administration registered this case reference with other upper and lower case letters; case references are compared without regard to case, and nothing changed. Send the reference exactly as registered, or use another reference.',
  },
  RELATION_CASE_REF_OTHER_CITIZEN: {
    status: 409,
    title: 'Case reference registered for another citizen',
    detail:
      'Your administration registered this case reference for another citizen; nothing changed. Check the CPR number and the case reference; a relation registered in error is voided through POST /v1/relations/{id}/end with reason "recorded-in-error".',
  },
  RELATION_NOT_FOUND: {
    status: 404,
    title: 'No such relation',
    detail: "Your administration has no relation with this id. Find your administration's relations with POST /v1/relations/search.",
  },
  RELATION_ENDED: {
    status: 409,
    title: 'Relation ended',
    detail:
      'This relation was ended or voided through POST /v1/relations/{id}/end; registering its case reference again neither changes nor revives it, and nothing changed. If your administration serves the citizen again, register a new case reference.',
  },
  RELATION_END_LATER: {
    status: 409,
    title: 'An end may only shorten the period',
    detail:
      "The end date given is after the relation's current end date; nothing changed. Give a date on or before the current end date (search the relation to see it).",
  },
  RELATION_ALREADY_ENDED: {
    status: 409,
    title: 'Relation already ended',
    detail:
      'An end with another date or reason was recorded for this relation before; nothing changed. An ended relation can still be voided (reason "recorded-in-error"); a voided one cannot change.',
  },
  RELATION_CHANGED_MEANWHILE: {
    status: 409,
    title: 'Relation changed meanwhile',
    detail:
      'Another request changed this relation (or registered this case reference) while yours was handled; nothing of yours was stored. Search the relation and send your request again.',
  },
  RELATION_REGISTER_UNAVAILABLE: {
    status: 503,
    title: 'Relations register unavailable',
    detail: 'The gateway cannot read or write its relations register right now; nothing was changed or released. Try again later.',
  },

  // relations import and reconciliation (`snitflade relations import|reconcile`, src/relations/import.ts): the
  // operator's tool, never an HTTP answer (status 422 keeps them out of the API's problem list). A row's
  // refusal changes nothing for that row, and the run goes on; the others stop the run.
  RELATION_IMPORT_ROW_MALFORMED: {
    status: 422,
    title: 'Row not readable',
    detail:
      'The row is not a record of the import format (see the message: quoting, the number of fields, not UTF-8, too long); nothing changed for it and the import went on. Correct the row in the file and import it again.',
  },
  RELATION_IMPORT_OTHER_ADMINISTRATION: {
    status: 422,
    title: 'Row of another administration',
    detail:
      "The row names another administration than the one the import was started for (--administration); nothing changed for it. Import each administration's file with its own --administration.",
  },
  RELATION_IMPORT_CAPACITY_API_ONLY: {
    status: 422,
    title: 'Capacity registered through the API only',
    detail:
      'The capacity requires a role of the registering system (roles: in policies/capacities.yaml), which the import tool does not hold; nothing changed for the row. Register it through POST /v1/relations from a system holding that role.',
  },
  RELATION_IMPORT_DUPLICATE: {
    status: 422,
    title: 'Case reference on an earlier row',
    detail:
      'The case reference is on an earlier row of the file (compared without regard to upper and lower case); only the first row of a case reference is imported, so that importing the file again changes nothing. Keep one row per case reference.',
  },
  RELATION_IMPORT_HEADER_INVALID: {
    status: 422,
    title: 'Header not the import format',
    detail:
      'The first row must name the columns: administration, cpr, capacity, caseRef, from, and optionally caseworker and to, each once, in any order, and nothing else. Nothing was imported.',
  },
  RELATION_IMPORT_FILE_UNREADABLE: {
    status: 422,
    title: 'File not readable',
    detail: 'The file could not be opened or read; nothing was imported from it. Check the path and its permissions.',
  },
  RELATION_IMPORT_IN_PROGRESS: {
    status: 422,
    title: 'Another import is running',
    detail:
      'Another relations import or reconciliation is running against this store (it holds the audit chain relations-import); nothing was imported. Wait for it to finish and start again.',
  },
  RELATION_RECONCILE_LIMIT: {
    status: 422,
    title: 'Reconciliation would end too many relations',
    detail:
      "The file leaves out more of the administration's relations in force or planned than --max-end allows (a truncated or wrong file?), so none was ended; its rows were imported. Check the file; if the ends are right, run again with a higher --max-end or with --force.",
  },
  RELATION_RECONCILE_INCOMPLETE: {
    status: 422,
    title: 'Reconciliation from a file not read whole',
    detail:
      'Some rows could not be read, so their case references are unknown and the relations they list might be ended in error; none was ended. Correct the rows named and run again, or run with --force to end the relations the readable rows leave out.',
  },
  RELATION_IMPORT_STOPPED: {
    status: 422,
    title: 'Import stopped',
    detail:
      'The store or the audit trail could not be read or written, so the import stopped; the rows before were imported (each with its audit record) and nothing after. Import the file again once the store is back: rows already imported are unchanged.',
  },

  // notifications
  NOTIFICATION_SENDER_INVALID: {
    status: 403,
    title: 'Not the provider of this notification',
    detail: 'Only the provider system the contract names may send this notification, with the provider role.',
  },
  IDEMPOTENCY_KEY_INVALID: {
    status: 400,
    title: 'Idempotency-Key invalid',
    detail: 'An Idempotency-Key is 1 to 100 characters: letters, digits, ".", "_", ":" or "-", and holds no CPR number.',
  },
  IDEMPOTENCY_KEY_REUSED: {
    status: 409,
    title: 'Idempotency-Key used for another event',
    detail:
      'This key was used before for a notification with another body. Send a new event with a new key; send an event again with the key it was first sent with.',
  },
  OUTBOX_UNAVAILABLE: {
    status: 503,
    title: 'Outbox unavailable',
    detail: 'The gateway could not store the notification for delivery, so nothing will be sent. Send it again later.',
  },
  DEAD_LETTER_NOT_FOUND: {
    status: 404,
    title: 'No such dead letter',
    detail: 'No delivery with this id is in the dead-letter state. List them with POST /v1/notifications/dead-letters/search.',
  },
  DEAD_LETTER_EXPIRED: {
    status: 410,
    title: 'Dead letter expired',
    detail:
      'The payload of this delivery was erased when its dead-letter retention ended; ask the provider system to send the event again.',
  },

  // operations
  RULES_INVALID: {
    status: 422,
    title: 'New rules refused',
    detail:
      'The contracts, policies, policy tests or clients on disk do not all load and check, so the rules in force stay. errors lists the files and lines; run "npx snitflade check" where the files are for the details.',
  },

  // DPO review pages (src/dpo/): shown as HTML pages with the code, not as problem+json
  DPO_FORM_EXPIRED: {
    status: 403,
    title: 'Form expired or sent from another site',
    detail:
      'Reload the page and send the form again: the forms of the DPO pages are valid only in your session and from the pages themselves.',
  },
  DPO_SEARCH_EXPIRED: {
    status: 404,
    title: 'Search no longer available',
    detail: 'A search is kept only for the session that ran it. Search again.',
  },
  DPO_INPUT_INVALID: { status: 400, title: 'Form input not valid', detail: 'Correct the marked field and send the form again.' },

  // gateway
  AUDIT_QUERY_INVALID: {
    status: 400,
    title: 'Audit query invalid',
    detail:
      "The body does not match this audit API's schema; see errors. A CPR number is ten digits (or DDMMYY-SSSS), times are ISO 8601 with a time zone, and a cursor is one this gateway handed out.",
  },
  AUDIT_UNAVAILABLE: {
    status: 503,
    title: 'Audit trail unavailable',
    detail: 'The gateway cannot write its audit trail, so it releases nothing. Try again later.',
  },
  RATE_LIMITED: {
    status: 429,
    title: 'Too many requests',
    detail: 'Your system exceeded its request rate; retry after the time given in Retry-After.',
  },
  INTERNAL: {
    status: 500,
    title: 'Internal error',
    detail: 'The gateway failed to handle the request. The operator has the details under the request id.',
  },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERRORS;

export interface ProblemExtras {
  /** Machine-readable reasons (policy reason codes, schema error paths). Never data values. */
  readonly reasons?: readonly string[];
  readonly errors?: readonly { readonly path: string; readonly message: string }[];
  readonly retryAfterSeconds?: number;
}

/** A refusal caused by the request or a peer. Everything in it may be shown to the caller. */
export class GatewayError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly extras: ProblemExtras;
  /** Set once the refusal is in the audit trail. */
  auditId: string | undefined;

  constructor(code: ErrorCode, extras: ProblemExtras = {}, options?: { cause?: unknown }) {
    super(ERRORS[code].title, options);
    this.name = 'GatewayError';
    this.code = code;
    this.status = ERRORS[code].status;
    this.extras = extras;
  }
}

export function isGatewayError(err: unknown): err is GatewayError {
  return err instanceof GatewayError;
}

/**
 * The base of the errors a module raises inside the gateway (a store, the audit trail), as
 * opposed to a refusal given to a caller (GatewayError): a stable `ERR_...` code to switch on, and
 * the class's own name as `name`. Never shown to a caller; an unhandled one becomes INTERNAL.
 *
 * @example
 *   export class InvalidCursorError extends CodedError {
 *     readonly code = 'ERR_AUDIT_CURSOR_INVALID';
 *   }
 */
export abstract class CodedError extends Error {
  abstract readonly code: string;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
  instance?: string;
  requestId?: string;
  auditId?: string;
  reasons?: readonly string[];
  errors?: readonly { readonly path: string; readonly message: string }[];
}

/**
 * The RFC 9457 body for any error. Anything that is not a GatewayError becomes INTERNAL: its
 * message and stack belong in the operator's log, never in a response.
 */
export function toProblem(err: unknown, requestId?: string): Problem {
  const known = isGatewayError(err) ? err : new GatewayError('INTERNAL');
  const spec = ERRORS[known.code];
  const problem: Problem = {
    type: `urn:snitflade:problem:${known.code.toLowerCase().replaceAll('_', '-')}`,
    title: spec.title,
    status: spec.status,
    detail: spec.detail,
    code: known.code,
  };
  if (requestId !== undefined) problem.requestId = requestId;
  if (known.auditId !== undefined) problem.auditId = known.auditId;
  if (known.extras.reasons !== undefined) problem.reasons = known.extras.reasons;
  if (known.extras.errors !== undefined) problem.errors = known.extras.errors;
  return problem;
}

/** Words in the DPO pages' two languages: Danish (their default) and English. */
interface DpoWords<T> {
  readonly da: T;
  readonly en: T;
}

/** A refusal as a DPO page words it: the code it is given (and so its status) and a page's title and message. */
export interface DpoRefusalSpec extends DpoWords<{ readonly title: string; readonly message: string }> {
  readonly code: ErrorCode;
}

/**
 * The DPO review pages' refusals (src/dpo/). The pages answer a person in a browser, in Danish
 * or English, with an HTML page that shows the code; the status is the code's above.
 */
export const DPO_REFUSALS = {
  signInFormExpired: {
    code: 'DPO_FORM_EXPIRED',
    da: { title: 'Formularen er udløbet', message: 'Åbn log ind-siden igen og log ind derfra.' },
    en: { title: 'The form has expired', message: 'Open the sign-in page again and sign in from there.' },
  },
  sessionExpired: {
    code: 'DPO_FORM_EXPIRED',
    da: { title: 'Du er ikke logget ind', message: 'Din session er udløbet. Log ind igen på /dpo/sign-in.' },
    en: { title: 'You are not signed in', message: 'Your session has expired. Sign in again at /dpo/sign-in.' },
  },
  formRefused: {
    code: 'DPO_FORM_EXPIRED',
    da: { title: 'Formularen blev afvist', message: 'Formularen er udløbet eller kom fra et andet websted. Genindlæs siden og prøv igen.' },
    en: { title: 'The form was refused', message: 'The form has expired or came from another site. Reload the page and try again.' },
  },
  searchExpired: {
    code: 'DPO_SEARCH_EXPIRED',
    da: { title: 'Søgningen findes ikke længere', message: 'En søgning gemmes kun i den session, der lavede den. Søg igen.' },
    en: { title: 'The search is no longer available', message: 'A search is kept only for the session that ran it. Search again.' },
  },
  cursorInvalid: {
    code: 'DPO_INPUT_INVALID',
    da: { title: 'Ugyldig side', message: 'Sidemarkøren er ikke gyldig. Start fra første side.' },
    en: { title: 'Invalid page', message: 'The page cursor is not valid. Start from the first page.' },
  },
  recordNotFound: {
    code: 'NOT_FOUND',
    da: { title: 'Posten findes ikke', message: 'Der er ingen post med dette id i revisionssporet.' },
    en: { title: 'No such record', message: 'There is no record with this id in the audit trail.' },
  },
  pageNotFound: {
    code: 'NOT_FOUND',
    da: { title: 'Siden findes ikke', message: 'Der er ingen side på denne adresse.' },
    en: { title: 'Page not found', message: 'There is no page at this address.' },
  },
  auditUnavailable: {
    code: 'AUDIT_UNAVAILABLE',
    da: { title: 'Noget gik galt', message: 'Revisionssporet kan ikke skrives lige nu, så intet vises. Prøv igen senere.' },
    en: { title: 'Something went wrong', message: 'The audit trail cannot be written right now, so nothing is shown. Try again later.' },
  },
  /** Any other failure; a GatewayError's own message stands in for this one. */
  internal: {
    code: 'INTERNAL',
    da: { title: 'Noget gik galt', message: 'Siden kunne ikke vises. Driften har detaljerne under forespørgslens id.' },
    en: { title: 'Something went wrong', message: 'The page could not be shown. The operator has the details under the request id.' },
  },
} as const satisfies Record<string, DpoRefusalSpec>;

/** DPO_INPUT_INVALID as the DPO pages' forms word it, above the form. Never echoes a value. */
export const DPO_INPUT_ERRORS = {
  cprInvalid: {
    da: 'CPR-nummeret er ikke gyldigt: ti cifre (DDMMÅÅXXXX) med en rigtig dato.',
    en: 'The CPR number is not valid: ten digits (DDMMYYXXXX) with a real date.',
  },
  callerUnknown: { da: 'Ukendt kaldende system.', en: 'Unknown calling system.' },
  contractUnknown: { da: 'Ukendt kontrakt.', en: 'Unknown contract.' },
  purposeUnknown: { da: 'Ukendt formål.', en: 'Unknown purpose.' },
  decisionUnknown: { da: 'Ukendt afgørelse.', en: 'Unknown decision.' },
  kindUnknown: { da: 'Ukendt posttype.', en: 'Unknown record kind.' },
  caseworkerInvalid: {
    da: 'Sagsbehandler-id er ikke gyldigt (og må ikke indeholde et CPR-nummer).',
    en: 'The caseworker id is not valid (and must not hold a CPR number).',
  },
  dateInvalid: { da: 'Datoer skrives ÅÅÅÅ-MM-DD.', en: 'Dates are written YYYY-MM-DD.' },
  periodReversed: { da: 'Perioden slutter, før den begynder.', en: 'The period ends before it starts.' },
} as const satisfies Record<string, DpoWords<string>>;

import type { Texts } from './da.js';

/** The DPO pages' words in English, under the same names as the Danish ones in da.ts. */
export const en: Texts = {
  nav: {
    overview: 'Overview',
    search: 'Search the trail',
    anomalies: 'Anomalies',
    report: 'Citizen access report',
    consents: 'Consents',
    relations: 'Relations',
    notifications: 'Notifications',
    integrity: 'Integrity',
  },
  layout: {
    brand: 'Data protection officer',
    mainMenu: 'Main menu',
    signedInAs: 'Signed in as',
    signOut: 'Sign out',
    otherLanguage: 'Dansk',
  },
  common: {
    code: 'Code',
    from: 'From',
    toInclusive: 'To (inclusive)',
    intact: 'Intact',
    failed: 'Failed',
    beingChecked: 'Being checked',
    permitted: 'Permitted',
    refused: 'Refused',
    chain: 'Chain',
    recordLower: 'record',
    reason: 'Reason',
    cprNumber: "Citizen's CPR number",
    callingSystem: 'Calling system',
    caseworker: 'Caseworker',
    contract: 'Contract',
    purpose: 'Purpose',
    decision: 'Decision',
    recordKind: 'Record kind',
    time: 'Time',
    record: 'Record',
    firstPage: 'First page',
    nextPage: 'Next page',
    auditId: 'Audit id',
    noPurpose: '(no purpose)',
    noContract: '(no contract)',
    unknownSystem: '(unknown)',
  },
  signIn: {
    title: 'Sign in',
    heading: 'Sign in to the DPO pages',
    expired: 'Your session has expired. Sign in again.',
    signedOut: 'You are signed out.',
    presented: 'Your browser presented this client certificate:',
    system: 'System',
    role: 'Role',
    sessionRules: 'The session lasts at most 8 hours and ends after 15 minutes without activity. It is valid only with this certificate.',
  },
  refused: {
    title: 'Access refused',
    dpoOnly: "These pages are for the municipality's data protection officer (DPO) only.",
    presented: 'Your browser presented the certificate of',
    notDpo: ', which does not hold the DPO role. Use the DPO client certificate, or ask the gateway operator for access.',
    certificateRequired: 'Client certificate required',
    needsDpoCertificate: 'The DPO pages require the DPO client certificate in the browser.',
  },
  message: {
    toOverview: 'To the overview',
  },
  overview: {
    showPeriod: 'Show period',
    lead: 'Requests and refusals in the period, and the integrity of the audit trail.',
    trailAltered: 'The audit trail has been altered.',
    seeIntegrity: 'See integrity',
    requests: 'Requests',
    integrity: "The trail's integrity",
    verifiedThrough: 'verified through',
    integrityDetails: 'Details and full verification',
    lastCheckpoint: 'Last signed checkpoint',
    noCheckpoints: 'The gateway signs no checkpoints',
    noCheckpointYet: 'None yet',
    signatureValid: 'signature valid',
    signatureInvalid: 'signature invalid',
    perDay: 'Requests per day',
    perDayChart: 'Requests per day, permitted and refused',
    perPurpose: 'Per purpose',
    perPurposeChart: 'Requests per purpose',
    perContract: 'Per contract',
    perContractChart: 'Requests per contract',
    perCaller: 'Per calling system',
    perCallerChart: 'Requests per calling system',
    reasons: 'Reasons for refusal',
    reasonsChart: 'Refusals per reason',
    count: 'Count',
    unknownCaller: '(unknown)',
    behind: (records: string) => `The statistics do not yet include ${records} records; they are being counted in the background.`,
  },
  charts: {
    daysSummary: (days: number, requests: string) => `${days} days, ${requests} requests in all`,
    noRequests: 'No requests in the period',
    noRefusals: 'No refusals in the period',
    inBrackets: 'in brackets',
  },
  search: {
    any: 'Any',
    denied: 'Denied',
    submit: 'Search',
    privacy:
      "The CPR number is sent only in the form and not kept: the trail is searched by the citizen's pseudonym, and the results page's address holds only a random search id. The search is recorded in the audit trail.",
    heading: 'Search the audit trail',
    fieldsReasons: 'Fields / reasons',
    released: 'Released',
    permitted: 'Permitted',
    withheld: 'Withheld',
    citizen: 'Citizen',
    citizenSearched: 'the citizen searched for (pseudonym)',
    results: 'Search results',
    filters: 'Filters',
    noFilters: 'none (the whole trail)',
    newSearch: 'New search',
    none: 'No records match the search.',
    pages: 'Pages',
    noMore: 'No more records',
  },
  record: {
    noFields: 'none',
    unknown: 'unknown',
    failedBadge: 'FAILED',
    lead: 'Everything the record holds. It holds no data values and no CPR number: field names and a pseudonym only.',
    verificationHeading: "The record's verification",
    altered: 'Altered',
    pending: 'pending',
    sealPending: "Written after the chain's latest signed checkpoint; the next checkpoint seals it.",
    sealFailed: 'The record cannot be proven included in a signed checkpoint',
    chainNotVerified: 'The chain has not been verified yet.',
    chainProblem: "The chain's verification found a problem",
    chainNotThisFar: 'The chain has not been verified this far yet.',
    factsHeading: 'Who, what and why',
    reasons: 'Reasons',
    caseRef: 'Case reference',
    subject: 'Citizen (pseudonym)',
    fieldsRequested: 'Fields asked for',
    fieldsReleased: 'Fields released',
    fieldsPermitted: 'Fields permitted',
    fieldsWithheld: 'Fields withheld',
    fieldsDropped: 'Fields dropped from the provider',
    consent: 'Consent (receipt digest)',
    status: 'Status answered',
    upstream: 'Provider',
    latency: 'Latency',
    policyHeading: 'Policy and legal basis',
    noPolicy: 'No policy was applied (refused before a decision, or no policy matched).',
    policy: 'Policy',
    examplePolicy: 'Example policy for legal review.',
    legalBasisRecorded: 'Legal basis (as recorded)',
    gdpr: 'GDPR',
    nationalProvision: 'National provision',
    description: 'Description',
    consentRequired: 'Consent required',
    yes: 'yes',
    no: 'no',
    owner: 'Owner',
    purposeHeading: 'The purpose',
    evidenceHeading: 'Chain position and evidence',
    recordId: 'Record id',
    requestId: 'Request id',
    chainAndSeq: 'Chain and number',
    timeUtc: 'Time (UTC)',
    prevHash: 'Previous hash',
    policySet: 'Policy set (digest)',
    approvals: 'Approvals (digest)',
    noApprovals: 'None: the policy was in force without approvals (policies.requireApprovals was false).',
    approvalsChanged: "The policy's approvals have changed since; the digest identifies the approvals file of that time.",
    tokenDigest: "The token's digest",
    responseDigest: "The response's digest",
    related: 'Other records of the same exchange',
    sealVerified: (seq: string, time: string) =>
      `The record is included in the signed checkpoint through record ${seq} (${time}); its inclusion proof checks out.`,
    erasedBadge: 'Content erased',
    erasedLead:
      "The record's content was erased once its purpose's retention had passed and an export held it. Only its place in the chain, its ids, time, kind and purpose are left.",
    sealErased: (seq: string, time: string) =>
      `The erasure is documented and was due, and the record's hash is included in the signed checkpoint through record ${seq} (${time}).`,
    chainVerified: (chain: string, through: string) => `Chain ${chain} was verified intact through record ${through}.`,
    versionNow: (version: number) => `The version in force is now ${version}; the text below is that version's.`,
    checks: {
      hash: {
        good: "The content matches the record's hash.",
        bad: "The content does not match the record's hash: the record was changed after it was written.",
      },
      erased: {
        good: "The content was erased under its purpose's retention; the erasure is documented and what is left is unchanged.",
        bad: 'The content was erased without a documented erasure that was due, or what is left was changed.',
      },
      previous: {
        good: 'The record links to the record before it.',
        bad: 'The record does not link to the record before it: that one was changed or replaced.',
        unknown: 'The record before it is no longer stored (deleted under the retention rule, or removed).',
      },
      next: {
        good: 'The next record links to this one.',
        bad: 'The next record does not link to this one: this record was changed or replaced.',
        unknown: "This is the chain's latest record.",
      },
      columns: { good: 'The search columns agree with the record.', bad: "The search columns were changed behind the trail's back." },
      place: { good: 'The record is at its place in the chain.', bad: 'The record is not at its place in the chain.' },
    },
  },
  anomalies: {
    lead: 'Unusual patterns in the audit trail. They are leads for a human to look into, not verdicts.',
    behind: 'The statistics are still being counted; the list may be incomplete.',
    consentsNotChecked: 'The consent registry is not available; disclosures on withdrawn consents were not checked.',
    none: 'No anomalies in the period.',
    showRecords: 'Show the records',
    rules: 'The rules',
    ruleOffHours:
      'Off hours: look-ups on Saturday, Sunday or outside 07:00-18:00 on weekdays, Copenhagen time. Public holidays are not modelled.',
    ruleWithdrawnConsent: 'Withdrawn consent: disclosures that relied on a consent that has since been withdrawn.',
    ruleSelfRecordedConsent: (minutes: number) =>
      `Consent recorded by the recipient itself: a consent recorded by a caseworker (not signed by the citizen at the consent service) that the caseworker's own administration received data on within ${minutes} minutes of its recording.`,
    ruleBackdatedConsents: (min: number) =>
      `Back-dated consents: at least ${min} ${min === 1 ? 'consent' : 'consents'} in the period, recorded by one caseworker, whose period starts before the day it was recorded (CONSENT_BACKDATED).`,
    kinds: {
      'many-citizens': 'Many distinct citizens',
      'system-many-citizens': 'Many distinct citizens from one system',
      'off-hours': 'Look-ups outside office hours',
      'repeated-refusals': 'Repeated refusals',
      'withheld-fields': 'Asks for fields that are not released',
      'withdrawn-consent': 'Disclosure on a withdrawn consent',
      'relation-missing': 'Refused: no relation to the citizen',
      'short-lived-relation': 'Relation only around a look-up',
      'self-recorded-consent': 'Consent recorded by the recipient itself and relied on at once',
      'backdated-consent': 'Back-dated consents',
    },
    moreHidden: (n: number, kind: string) =>
      `${n} more of the kind "${kind}" are not shown; choose a shorter period or search by calling system.`,
    ruleManyCitizens: (r: { min: number; factor: number; peers: number }) =>
      `Many citizens: at least ${r.min} distinct citizens and more than ${r.factor} times the median of the other caseworkers of the same calling system (at least ${r.peers} others).`,
    ruleSystemManyCitizens: (r: { min: number; factor: number; days: number; normDays: number; max: number }) =>
      `Many citizens from one system: on one day at least ${r.min} distinct citizens looked up by a calling system, whatever caseworkers it named, and more than ${r.factor} times its own median of its other days (at least ${r.days} days, counting the ${r.normDays} days before the period)${r.max > 0 ? `, or more than ${r.max} on one day` : ''}.`,
    ruleRefusals: (min: number) => `Repeated refusals: at least ${min} refused requests from one caseworker in the period.`,
    ruleWithheld: (min: number, percent: number) =>
      `Withheld fields: at least ${min} permitted requests and ${percent} % of the system's permitted requests asked for fields the policy does not release.`,
    ruleRelationMissing: (min: number) =>
      `No relation: at least ${min} requests from one caseworker refused in the period because the administration had not registered that it serves the citizen (RELATION_MISSING).`,
    ruleShortLivedRelation: (hours: number) =>
      `Relation only around a look-up: a relation a permitted request relied on, registered and ended (or voided) within ${hours} hours of the request.`,
  },
  explanations: {
    system: (system: string) => `calling system ${system}`,
    caseworker: (caseworker: string, system: string) => `caseworker ${caseworker} (${system})`,
    unknownSystem: '(unknown)',
    manyCitizens: (e: { who: string; citizens: number; peers: number; median: string; times: string; min: number; factor: number }) =>
      `${e.who} looked up ${e.citizens} distinct citizens in the period. The ${e.peers} other caseworkers of the same system typically (median) looked up ${e.median}: ${e.times} times as many. The rule: at least ${e.min} citizens and more than ${e.factor} times the median.`,
    systemManyCitizens: (e: {
      who: string;
      day: string;
      citizens: number;
      caseworkers: number;
      days?: number;
      median?: string;
      times?: string;
      min: number;
      factor: number;
      max: number;
    }) =>
      `${e.who} looked up ${e.citizens} distinct citizens on ${e.day}, under ${e.caseworkers} caseworker ${e.caseworkers === 1 ? 'id' : 'ids'}. ` +
      (e.median !== undefined
        ? `On its ${e.days} other days it typically (median) looked up ${e.median}: ${e.times} times as many. `
        : 'It has too few other days for a norm. ') +
      `The rule: at least ${e.min} citizens and more than ${e.factor} times the system's own median${e.max > 0 ? `, or more than ${e.max} on one day` : ''}. Caseworker ids are named by the client, so a look-up spread over many ids shows only here.`,
    offHours: (e: { who: string; n: number; fromHour: number; toHour: number }) =>
      `${e.who} looked up citizens ${e.n} ${e.n === 1 ? 'time' : 'times'} outside office hours (Monday to Friday ${e.fromHour}:00-${e.toHour}:00, Copenhagen time). The look-ups are listed below.`,
    repeatedRefusals: (e: { who: string; refused: number; requests: number; share: string; min: number; reasons: string }) =>
      `${e.who} had ${e.refused} of ${e.requests} requests refused in the period (${e.share}). The rule: at least ${e.min} refusals. The system's most common reasons: ${e.reasons}.`,
    withheldFields: (e: { system: string; withheld: number; asked: number; share: string; fields: string }) =>
      `Calling system ${e.system} asked in ${e.withheld} of ${e.asked} permitted requests (${e.share}) for fields the policies do not release. The fields: ${e.fields}. The system should ask only for what it may receive (data minimisation).`,
    withdrawnConsent: (e: { n: number; systems: string; consent: string; day: string }) =>
      `${e.n} ${e.n === 1 ? 'disclosure' : 'disclosures'} to ${e.systems} relied on consent ${e.consent}, which the citizen later withdrew (${e.day}). They were lawful when made; consider whether the recipients should be told of the withdrawal.`,
    atLeast: (n: number) => `at least ${n}`,
    selfRecordedConsent: (e: {
      who: string;
      consent: string;
      recordedAt: string;
      form: 'paper' | 'verbal' | null;
      reference: string | null;
      administration: string;
      systems: string;
      n: number;
      firstAfter: number;
      window: number;
    }) =>
      `${e.who} recorded consent ${e.consent} (${e.form ?? 'paper or verbal'}${e.reference !== null ? `, form ${e.reference}` : ''}) at ${e.recordedAt}, and the caseworker's own administration ${e.administration} received data on it ${e.n} ${e.n === 1 ? 'time' : 'times'} (${e.systems}), the first ${e.firstAfter} ${e.firstAfter === 1 ? 'minute' : 'minutes'} after the recording. A consent the recipient records itself rests on its own word: ask ${e.administration} for the form the citizen signed. The rule: relied on by the recording administration within ${e.window} minutes.`,
    backdatedConsents: (e: {
      who: string;
      n: number;
      consents: readonly {
        consent: string;
        validFrom: string | null;
        recordedOn: string;
        days: number | null;
        reference: string | null;
        representative: boolean;
      }[];
      min: number;
    }) =>
      `${e.who} recorded ${e.n} back-dated ${e.n === 1 ? 'consent' : 'consents'} in the period: ` +
      e.consents
        .map(
          (c) =>
            `${c.consent}${c.validFrom !== null ? ` from ${c.validFrom}` : ''}, recorded ${c.recordedOn}${c.days !== null ? ` (${c.days} ${c.days === 1 ? 'day' : 'days'} back)` : ''}${c.reference !== null ? `, form ${c.reference}` : ''}${c.representative ? ', given by a representative' : ''}`,
        )
        .join('; ') +
      `${e.n > e.consents.length ? '; …' : ''}. A back-dated consent covers exchanges before the day it was recorded: check that the form was signed by the day the period starts. The rule: at least ${e.min}.`,
    relationMissing: (e: { who: string; refused: string; min: number }) =>
      `${e.who} had ${e.refused} requests refused in the period because the administration had registered no relation in force to the citizen. They may be look-ups of citizens the administration does not serve. The rule: at least ${e.min}.`,
    shortLivedRelation: (e: {
      relation: string;
      capacity: string;
      administration: string;
      registeredAt: string;
      registeredBy: string;
      endedAt: string;
      endedBy: string;
      reason: string;
      hours: string;
      who: string;
      n: number;
      window: number;
    }) =>
      `Relation ${e.relation} (${e.capacity}, ${e.administration}) was registered ${e.registeredAt} by ${e.registeredBy} and ended ${e.endedAt} by ${e.endedBy} (${e.reason}), ${e.hours} hours later. In between, ${e.who} looked the citizen up ${e.n} ${e.n === 1 ? 'time' : 'times'} relying on it, within ${e.window} hours of both the registration and the end. A relation that exists only around a look-up may have been made to get access.`,
  },
  integrity: {
    heading: "The audit trail's integrity",
    lead: 'Every record is hash-chained to the one before it. Each page view checks the new records; a full verification recomputes the whole chain and also finds changes to old records.',
    status: 'Status',
    verifiedThrough: 'Verified through',
    latestRecord: 'Latest record',
    finding: 'Finding',
    full: 'Full verification',
    lastFull: 'Last full verification',
    recordsFoundGood: 'records found good',
    fullCouldNotComplete: 'could not complete',
    fullNoProblem: 'no problem found',
    fullProblem: 'problem found',
    noFullYet: 'No full verification has run since the gateway started.',
    verifyNow: 'Verify the whole trail now',
    checkpoints: 'Signed checkpoints',
    noCheckpoints: 'The gateway signs no checkpoints.',
    noCheckpointYet: 'No checkpoint has been signed yet.',
    throughRecord: 'Through record',
    signed: 'Signed',
    signature: 'Signature',
    signatureValid: 'valid',
    signatureInvalid: 'invalid',
    running: (checked: string) => `Running: ${checked} records checked. This page updates itself.`,
  },
  report: {
    heading: 'Citizen access report (Art. 15)',
    lead: 'From a CPR number to an overview a citizen can read: who saw what, when, why and on which basis.',
    fromOptional: 'From (optional)',
    toOptional: 'To, inclusive (optional)',
    language: 'Language',
    submit: 'Make the overview',
    audited: "Making the overview is recorded in the audit trail as the DPO's access to the citizen's data.",
    print: 'Print',
    downloadCsv: 'Download CSV',
    downloadPdf: 'Download PDF',
    newReport: 'New overview',
  },
  consents: {
    active: 'Active',
    withdrawn: 'Withdrawn',
    expired: 'Expired',
    given: 'Given',
    heading: "A citizen's consents",
    lookUp: 'Look up',
    audited: 'The look-up is recorded in the audit trail (CONSENT_SEARCH).',
    none: 'The citizen has no recorded consents.',
    consent: 'Consent',
    recipients: 'Recipients',
    purposes: 'Purposes',
    contracts: 'Contracts',
    categories: 'Data categories',
    period: 'Period',
    evidence: 'Evidence',
    level: 'Evidence level',
    levels: {
      'citizen-signed': 'Signed by the citizen at the consent service',
      'recorded-by-caseworker': 'Recorded by a caseworker (paper/verbal)',
    },
    forms: { paper: 'paper', verbal: 'verbal' },
    formReference: 'Form',
    artefact: 'Artefact',
    consentText: 'Consent text shown',
    givenAt: 'Given',
    givenBy: 'Given by',
    givers: {
      citizen: 'The citizen',
      guardian: 'Guardian',
      'power-of-attorney': 'Holder of a power of attorney',
      'custody-holder': 'Parent with custody',
    },
    giverEvidence: 'evidence',
    backdated: 'Back-dated',
    backdatedYes: 'Yes: the period starts before the day the consent was recorded',
    backdatedNo: 'No',
    sources: 'Data may come from',
    anySource: 'Any administration (recorded before sources were named)',
    relation: 'Tied to the case relation',
    noRelation: 'None',
    recordedBy: 'Recorded by',
    receiptDigest: "Receipt's digest",
    history: 'History',
    event: 'Event',
    by: 'By',
  },
  relations: {
    heading: "A citizen's relations",
    lead: 'Which administrations have registered that they serve the citizen, in which capacity and period, and who registered, changed and ended it when.',
    lookUp: 'Look up',
    audited: "The look-up is recorded in the audit trail as the DPO's access to the citizen's data (RELATION_HISTORY).",
    none: 'No administration has registered a relation to the citizen.',
    relation: 'Relation',
    administration: 'Administration',
    capacity: 'Capacity',
    caseRef: 'Case reference',
    caseworker: 'Responsible caseworker',
    period: 'Period',
    openEnded: 'until further notice',
    endReason: 'End reason',
    registeredAt: 'Registered',
    updatedAt: 'Last changed',
    history: 'History',
    event: 'Event',
    by: 'By (system, administration)',
    changed: 'Changed',
    states: { planned: 'Not started', active: 'In force', ended: 'Ended', voided: 'Void' },
    events: { registered: 'Registered', changed: 'Changed', ended: 'Ended' },
    fields: { capacity: 'capacity', caseworker: 'caseworker', from: 'from', to: 'to' },
    endReasons: {
      'case-closed': 'Case closed',
      transferred: 'Transferred',
      'deceased-or-moved': 'Deceased or moved away',
      'recorded-in-error': 'Registered in error (void)',
      other: 'Other reason',
    },
    shared: 'Shared citizens today',
    sharedLead: (day: string) => `Citizens with relations in force on ${day}, by the administrations that hold them.`,
    combination: 'Administrations',
    citizens: 'Citizens',
    fewerThan: (n: number) => `fewer than ${n}`,
    noneInForce: 'No relations in force today.',
    sharedNote: (n: number) =>
      `Counts under ${n} are not shown. Citizens are counted per pseudonym: a citizen whose relations sit under two pseudonym keys (registered before a key rotation and not changed since) may count twice.`,
  },
  notifications: {
    heading: 'Notifications that could not be delivered',
    lead: 'Dead letters: deliveries that gave up after every attempt. A re-drive is recorded in the audit trail.',
    redriven: 'The delivery is queued again.',
    none: 'No dead letters.',
    created: 'Created',
    recipient: 'Recipient',
    attempts: 'Attempts',
    lastError: 'Last error',
    confirmRedrive: 'Send the notification again?',
    redrive: 'Re-drive',
    payloadErased: 'payload erased',
  },
  reasons: {
    NO_POLICY: 'No policy permits the exchange',
    PURPOSE_NOT_ALLOWED: 'The purpose is not allowed for this exchange',
    ROLE_NOT_ALLOWED: "The system's role is not allowed",
    POLICY_NOT_IN_FORCE: 'The policy is not in force at this time',
    NO_FIELDS_PERMITTED: 'None of the fields asked for may be released',
    CONSENT_MISSING: 'Consent required but not recorded',
    CONSENT_WITHDRAWN: 'The consent was withdrawn',
    CONSENT_EXPIRED: 'The consent has expired',
    CONSENT_SCOPE: 'The consent does not cover the exchange',
    CONSENT_SOURCE_UNAVAILABLE: 'The consent registry could not be reached',
    CONSENT_EVIDENCE_NOT_ACCEPTED:
      "A consent covers the exchange, but on evidence the policy does not accept (e.g. the recipient's own record)",
    CONSENT_NOT_IN_FORCE: 'No consent in force covers the exchange (as the caller was told)',
    CERTIFICATE_REQUIRED: 'Client certificate missing',
    CERTIFICATE_UNTRUSTED: 'Client certificate not trusted',
    CLIENT_UNKNOWN: 'Unknown client system',
    FORBIDDEN_ROLE: 'Role not allowed',
    TOKEN_MISSING: 'Request token missing',
    TOKEN_EXPIRED: 'Request token expired',
    TOKEN_REPLAYED: 'Request token already used',
    TOKEN_BODY_MISMATCH: 'Token does not match the request body',
    TOKEN_SIGNATURE_INVALID: 'Token signature invalid',
    REQUEST_INVALID: 'Request does not match the contract',
    CONTRACT_UNKNOWN: 'Unknown contract',
    PURPOSE_UNKNOWN: 'Unknown purpose',
    SUBJECT_NOT_FOUND: 'The provider has no case for the citizen',
    PROVIDER_UNAVAILABLE: 'Provider system unavailable',
    PROVIDER_TIMEOUT: 'Provider system timed out',
    PROVIDER_BUSY: 'Provider system busy',
    PROVIDER_CONTRACT_UNKNOWN: 'The provider does not offer this contract (yet)',
    PROVIDER_RESPONSE_INVALID: 'Provider answer rejected',
    RATE_LIMITED: 'Too many requests',
    AUDIT_UNAVAILABLE: 'Audit trail unavailable',
    NOT_FOUND: 'Unknown path',
    AUDIT_SEARCH: 'The DPO searched the audit trail',
    AUDIT_VERIFY: 'The DPO verified the audit trail',
    CITIZEN_REPORT: "The DPO made the citizen's access report",
    CONSENT_RECORDED: 'Consent recorded',
    CONSENT_WITHDRAWAL: 'Consent withdrawn',
    CONSENT_SEARCH: 'Consents looked up',
    CONSENT_BACKDATED: 'Consent back-dated: its period starts before the day it was recorded',
    CONSENT_BY_REPRESENTATIVE: 'Consent given by a representative (guardian, power of attorney or parent with custody)',
    RELATION_REGISTERED: 'Relation registered: the administration serves the citizen',
    RELATION_CHANGED: 'Relation changed',
    RELATION_ENDED: 'Relation ended',
    RELATION_UNCHANGED: 'Relation sent again, unchanged',
    RELATION_BACKDATED: 'Relation backdated: starts before the day it was registered',
    RELATION_SEARCH: 'Relations looked up',
    RELATION_MISSING: 'The administration has not registered that it serves the citizen',
    SUBJECT_OUT_OF_SCOPE: "The citizen is outside the rule's age range (or the age could not be determined from the CPR number)",
    RELATION_HISTORY: "The DPO looked up the citizen's relations and their history",
    RECIPIENT_SKIPPED: 'Recipient skipped: it has not registered that it serves the citizen (the sender is not told)',
    RELATION_REGISTER_UNAVAILABLE: 'The relations register could not be read',
    RELATION_IMPORT: "Relations imported from a case system's file (snitflade relations import)",
    RELATION_RECONCILE: "Relations reconciled with a case system's file (snitflade relations reconcile)",
    RELATION_NOT_LISTED: 'Ended: the case system no longer lists the relation',
    QUEUED: 'Queued for delivery',
    DELIVERED: 'Delivered',
    DEAD_LETTER: 'Could not be delivered (dead letter)',
    DELIVERY_CANCELLED: 'Delivery cancelled',
    REDRIVEN: 'Re-driven',
    ALREADY_ACCEPTED: 'Sent again by the sender; answered as the first time, nothing queued again',
    IDEMPOTENCY_KEY_REUSED: "The sender's key was used for another event",
    IDEMPOTENCY_KEY_INVALID: "The sender's key was invalid",
    RECIPIENT_STATUS: 'The recipient answered with an error',
  },
  kinds: {
    decision: 'Decision',
    release: 'Release',
    refusal: 'Refusal',
    consent: 'Consent',
    relation: 'Relation',
    notification: 'Notification',
    admin: 'Administration',
    'dpo-access': 'DPO access',
  },
  problems: {
    'hash-mismatch': 'The record was changed after it was written',
    'prev-mismatch': 'The record does not link to the one before it',
    gap: 'Records are missing from the chain',
    inserted: 'A record was inserted into the chain',
    reordered: 'Records were reordered',
    'column-mismatch': "Search columns were changed behind the trail's back",
    malformed: 'A record cannot be read',
    'wrong-chain': 'A record belongs to another chain',
    truncated: 'The chain was cut short',
    'head-mismatch': 'The chain was rewritten',
    'checkpoint-invalid': 'A signed checkpoint does not verify',
    'checkpoint-mismatch': 'The chain does not match a signed checkpoint',
    'root-mismatch': "The records do not give the checkpoint's Merkle root",
    'retention-unproven': 'Deleted records are not documented',
    'erasure-unproven': 'Erased content is not documented',
  },
};

/**
 * The DPO pages' words in Danish, their default language: every text a page shows, by page. The
 * English words are in en.ts, under the same names (the type Texts makes both hold every one).
 * Refusals are not here: their words are in the error registry (src/errors.ts, DPO_REFUSALS and
 * DPO_INPUT_ERRORS). The citizen's access report has its own words (src/audit/report-text.ts).
 */
export const da = {
  /** The main menu, and the pages' titles. */
  nav: {
    overview: 'Overblik',
    search: 'Søg i sporet',
    anomalies: 'Anomalier',
    report: 'Borgerens indsigt',
    consents: 'Samtykker',
    relations: 'Relationer',
    notifications: 'Notifikationer',
    integrity: 'Integritet',
  },
  /** The frame of every page. */
  layout: {
    brand: 'Databeskyttelsesrådgiver',
    mainMenu: 'Hovedmenu',
    signedInAs: 'Logget ind som',
    signOut: 'Log ud',
    otherLanguage: 'English',
  },
  /** Words more than one page uses. */
  common: {
    code: 'Kode',
    from: 'Fra',
    toInclusive: 'Til og med',
    intact: 'Intakt',
    failed: 'Fejlet',
    beingChecked: 'Kontrolleres',
    permitted: 'Tilladt',
    refused: 'Afvist',
    chain: 'Kæde',
    recordLower: 'post',
    reason: 'Grund',
    cprNumber: 'Borgerens CPR-nummer',
    callingSystem: 'Kaldende system',
    caseworker: 'Sagsbehandler',
    contract: 'Kontrakt',
    purpose: 'Formål',
    decision: 'Afgørelse',
    recordKind: 'Posttype',
    time: 'Tid',
    record: 'Post',
    firstPage: 'Første side',
    nextPage: 'Næste side',
    auditId: 'Revisions-id',
    noPurpose: '(intet formål)',
    noContract: '(ingen kontrakt)',
    unknownSystem: '(ukendt)',
  },
  /** The sign-in page. */
  signIn: {
    title: 'Log ind',
    heading: 'Log ind på DPO-siderne',
    expired: 'Din session er udløbet. Log ind igen.',
    signedOut: 'Du er logget ud.',
    presented: 'Din browser har vist dette klientcertifikat:',
    system: 'System',
    role: 'Rolle',
    sessionRules: 'Sessionen varer højst 8 timer og udløber efter 15 minutter uden aktivitet. Den gælder kun sammen med dette certifikat.',
  },
  /** The page for a browser without the DPO certificate. */
  refused: {
    title: 'Ingen adgang',
    dpoOnly: 'Disse sider er kun for kommunens databeskyttelsesrådgiver (DPO).',
    presented: 'Din browser viste certifikatet for',
    notDpo: ', som ikke har DPO-rollen. Brug DPO-klientcertifikatet, eller bed gatewayens driftsansvarlige om adgang.',
    certificateRequired: 'Klientcertifikat kræves',
    needsDpoCertificate: 'DPO-siderne kræver DPO-klientcertifikatet i browseren.',
  },
  /** The message pages (not found, refused forms, errors). */
  message: {
    toOverview: 'Til overblikket',
  },
  /** The overview: requests and refusals in a period, and the trail's integrity. */
  overview: {
    showPeriod: 'Vis periode',
    lead: 'Forespørgsler og afvisninger i perioden, og revisionssporets integritet.',
    trailAltered: 'Revisionssporet er ændret.',
    seeIntegrity: 'Se integritet',
    requests: 'Forespørgsler',
    integrity: 'Sporets integritet',
    verifiedThrough: 'kontrolleret til',
    integrityDetails: 'Detaljer og fuld kontrol',
    lastCheckpoint: 'Seneste signerede kontrolpunkt',
    noCheckpoints: 'Gatewayen signerer ikke kontrolpunkter',
    noCheckpointYet: 'Intet endnu',
    signatureValid: 'signatur gyldig',
    signatureInvalid: 'signatur ugyldig',
    perDay: 'Forespørgsler pr. dag',
    perDayChart: 'Forespørgsler pr. dag, tilladt og afvist',
    perPurpose: 'Pr. formål',
    perPurposeChart: 'Forespørgsler pr. formål',
    perContract: 'Pr. kontrakt',
    perContractChart: 'Forespørgsler pr. kontrakt',
    perCaller: 'Pr. kaldende system',
    perCallerChart: 'Forespørgsler pr. kaldende system',
    reasons: 'Grunde til afvisning',
    reasonsChart: 'Afvisninger pr. grund',
    count: 'Antal',
    unknownCaller: '(ukendt)',
    behind: (records: string) => `Statistikken mangler endnu ${records} poster; de tælles nu i baggrunden.`,
  },
  /** The charts' descriptions. */
  charts: {
    daysSummary: (days: number, requests: string) => `${days} dage, ${requests} forespørgsler i alt`,
    noRequests: 'Ingen forespørgsler i perioden',
    noRefusals: 'Ingen afvisninger i perioden',
    inBrackets: 'i parentes',
  },
  /** Searching the trail, and the results. */
  search: {
    any: 'Alle',
    denied: 'Afvist',
    submit: 'Søg',
    privacy:
      'CPR-nummeret sendes kun i formularen og gemmes ikke: sporet søges på borgerens pseudonym, og adressen på resultatsiden indeholder kun et tilfældigt søge-id. Søgningen registreres i revisionssporet.',
    heading: 'Søg i revisionssporet',
    fieldsReasons: 'Felter / grunde',
    released: 'Udleveret',
    permitted: 'Tilladt',
    withheld: 'Tilbageholdt',
    citizen: 'Borger',
    citizenSearched: 'den borger, der blev søgt på (pseudonym)',
    results: 'Søgeresultat',
    filters: 'Filtre',
    noFilters: 'ingen (hele sporet)',
    newSearch: 'Ny søgning',
    none: 'Ingen poster matcher søgningen.',
    pages: 'Sider',
    noMore: 'Ikke flere poster',
  },
  /** One record, with its verification. */
  record: {
    noFields: 'ingen',
    unknown: 'ukendt',
    failedBadge: 'FEJL',
    lead: 'Alt hvad posten indeholder. Posten indeholder ingen dataværdier og intet CPR-nummer, kun feltnavne og et pseudonym.',
    verificationHeading: 'Kontrol af posten',
    altered: 'Ændret',
    pending: 'afventer',
    sealPending: 'Skrevet efter kædens seneste signerede kontrolpunkt; det næste kontrolpunkt forsegler den.',
    sealFailed: 'Det kan ikke bevises, at posten er med i et signeret kontrolpunkt',
    chainNotVerified: 'Kæden er ikke kontrolleret endnu.',
    chainProblem: 'Kædens kontrol fandt en fejl',
    chainNotThisFar: 'Kæden er endnu ikke kontrolleret så langt.',
    factsHeading: 'Hvem, hvad og hvorfor',
    reasons: 'Grunde',
    caseRef: 'Sagsreference',
    subject: 'Borger (pseudonym)',
    fieldsRequested: 'Ønskede felter',
    fieldsReleased: 'Udleverede felter',
    fieldsPermitted: 'Tilladte felter',
    fieldsWithheld: 'Tilbageholdte felter',
    fieldsDropped: 'Frasorterede felter fra udbyder',
    consent: 'Samtykke (kvitteringens digest)',
    status: 'Svarstatus',
    upstream: 'Udbyder',
    latency: 'Behandlingstid',
    policyHeading: 'Politik og retsgrundlag',
    noPolicy: 'Ingen politik blev brugt (afvist før en afgørelse, eller ingen politik passede).',
    policy: 'Politik',
    examplePolicy: 'Eksempelpolitik til juridisk gennemgang.',
    legalBasisRecorded: 'Retsgrundlag (registreret)',
    gdpr: 'Databeskyttelsesforordningen',
    nationalProvision: 'National hjemmel',
    description: 'Beskrivelse',
    consentRequired: 'Samtykke krævet',
    yes: 'ja',
    no: 'nej',
    owner: 'Ejer',
    purposeHeading: 'Formålet',
    evidenceHeading: 'Kædeplacering og beviser',
    recordId: 'Post-id',
    requestId: 'Forespørgsels-id',
    chainAndSeq: 'Kæde og nummer',
    timeUtc: 'Tid (UTC)',
    prevHash: 'Forrige hash',
    policySet: 'Politiksæt (digest)',
    approvals: 'Godkendelser (digest)',
    noApprovals: 'Ingen: politikken var i kraft uden godkendelser (policies.requireApprovals var false).',
    approvalsChanged: 'Politikkens godkendelser er ændret siden; digesten identificerer godkendelsesfilen fra dengang.',
    tokenDigest: 'Tokenets digest',
    responseDigest: 'Svarets digest',
    related: 'Andre poster for samme udveksling',
    sealVerified: (seq: string, time: string) =>
      `Posten er med i det signerede kontrolpunkt til og med post ${seq} (${time}); inklusionsbeviset holder.`,
    erasedBadge: 'Indhold slettet',
    erasedLead:
      "Postens indhold er slettet, da formålets opbevaringsperiode var udløbet og en eksport rummede posten. Tilbage er kun dens plads i kæden, dens id'er, tidspunkt, art og formål.",
    sealErased: (seq: string, time: string) =>
      `Sletningen er dokumenteret og var rettidig, og postens hash er med i det signerede kontrolpunkt til og med post ${seq} (${time}).`,
    chainVerified: (chain: string, through: string) => `Kæden ${chain} er kontrolleret intakt til og med post ${through}.`,
    versionNow: (version: number) => `Gældende version er nu ${version}; teksten nedenfor er den gældende versions.`,
    checks: {
      hash: {
        good: 'Indholdet passer til postens hash.',
        bad: 'Indholdet passer ikke til postens hash: posten er ændret, efter den blev skrevet.',
      },
      erased: {
        good: 'Indholdet er slettet efter formålets opbevaringsperiode; sletningen er dokumenteret, og det, der er tilbage, er uændret.',
        bad: 'Indholdet er slettet uden en dokumenteret rettidig sletning, eller det, der er tilbage, er ændret.',
      },
      previous: {
        good: 'Posten er kædet til den forrige post.',
        bad: 'Posten peger ikke på den forrige post: den forrige er ændret eller udskiftet.',
        unknown: 'Den forrige post findes ikke længere (slettet efter opbevaringsreglen eller fjernet).',
      },
      next: {
        good: 'Den næste post er kædet til denne.',
        bad: 'Den næste post peger ikke på denne: denne post er ændret eller udskiftet.',
        unknown: 'Dette er kædens seneste post.',
      },
      columns: { good: 'Søgekolonnerne passer til posten.', bad: 'Søgekolonnerne er ændret bag om revisionssporet.' },
      place: { good: 'Posten står på sin plads i kæden.', bad: 'Posten står ikke på sin plads i kæden.' },
    },
  },
  /** The anomaly page. */
  anomalies: {
    lead: 'Usædvanlige mønstre i revisionssporet. De er spor for en menneskelig vurdering, ikke afgørelser.',
    behind: 'Statistikken tælles stadig op; listen kan mangle noget.',
    consentsNotChecked: 'Samtykkeregistret er ikke tilgængeligt; udleveringer på tilbagetrukne samtykker er ikke kontrolleret.',
    none: 'Ingen anomalier i perioden.',
    showRecords: 'Vis posterne',
    rules: 'Reglerne',
    ruleOffHours: 'Uden for kontortid: opslag lørdag, søndag eller uden for 7-18 på hverdage, dansk tid. Helligdage er ikke med.',
    ruleWithdrawnConsent: 'Tilbagetrukket samtykke: udleveringer, der byggede på et samtykke, som siden er trukket tilbage.',
    ruleSelfRecordedConsent: (minutes: number) =>
      `Samtykke registreret af modtageren selv: et samtykke registreret af en sagsbehandler (ikke underskrevet af borgeren i samtykkeløsningen), som sagsbehandlerens egen forvaltning modtog oplysninger på grundlag af inden for ${minutes} minutter efter registreringen.`,
    ruleBackdatedConsents: (min: number) =>
      `Tilbagedaterede samtykker: mindst ${min} ${min === 1 ? 'samtykke' : 'samtykker'} i perioden, registreret af samme sagsbehandler, hvis periode begynder før den dag, det blev registreret (CONSENT_BACKDATED).`,
    kinds: {
      'many-citizens': 'Mange forskellige borgere',
      'system-many-citizens': 'Mange forskellige borgere fra ét system',
      'off-hours': 'Opslag uden for kontortid',
      'repeated-refusals': 'Gentagne afvisninger',
      'withheld-fields': 'Beder om felter, der ikke udleveres',
      'withdrawn-consent': 'Udlevering på tilbagetrukket samtykke',
      'relation-missing': 'Afvist: ingen relation til borgeren',
      'short-lived-relation': 'Relation kun omkring et opslag',
      'self-recorded-consent': 'Samtykke registreret af modtageren selv og brugt med det samme',
      'backdated-consent': 'Tilbagedaterede samtykker',
    },
    moreHidden: (n: number, kind: string) =>
      `${n} flere af slagsen "${kind}" vises ikke; vælg en kortere periode eller søg på det kaldende system.`,
    ruleManyCitizens: (r: { min: number; factor: number; peers: number }) =>
      `Mange borgere: mindst ${r.min} forskellige borgere og mere end ${r.factor} gange medianen for de andre sagsbehandlere i samme kaldende system (mindst ${r.peers} andre).`,
    ruleSystemManyCitizens: (r: { min: number; factor: number; days: number; normDays: number; max: number }) =>
      `Mange borgere fra ét system: på én dag mindst ${r.min} forskellige borgere slået op af et kaldende system, uanset hvilke sagsbehandlere det angav, og mere end ${r.factor} gange systemets egen median for dets andre dage (mindst ${r.days} dage, medregnet de ${r.normDays} dage før perioden)${r.max > 0 ? `, eller flere end ${r.max} på én dag` : ''}.`,
    ruleRefusals: (min: number) => `Gentagne afvisninger: mindst ${min} afviste forespørgsler fra samme sagsbehandler i perioden.`,
    ruleWithheld: (min: number, percent: number) =>
      `Tilbageholdte felter: mindst ${min} tilladte forespørgsler og ${percent} % af systemets tilladte forespørgsler bad om felter, politikken ikke udleverer.`,
    ruleRelationMissing: (min: number) =>
      `Ingen relation: mindst ${min} forespørgsler fra samme sagsbehandler afvist i perioden, fordi forvaltningen ikke havde registreret, at den betjener borgeren (RELATION_MISSING).`,
    ruleShortLivedRelation: (hours: number) =>
      `Relation kun omkring et opslag: en relation, som en tilladt forespørgsel byggede på, og som blev registreret og afsluttet (eller annulleret) inden for ${hours} timer fra forespørgslen.`,
  },
  /** What each anomaly rule found, in words (src/dpo/anomalies.ts). */
  explanations: {
    system: (system: string) => `kaldende system ${system}`,
    caseworker: (caseworker: string, system: string) => `sagsbehandler ${caseworker} (${system})`,
    unknownSystem: '(ukendt)',
    manyCitizens: (e: { who: string; citizens: number; peers: number; median: string; times: string; min: number; factor: number }) =>
      `${e.who} slog ${e.citizens} forskellige borgere op i perioden. De ${e.peers} andre sagsbehandlere i samme system slog typisk (median) ${e.median} op: ${e.times} gange så mange. Reglen: mindst ${e.min} borgere og mere end ${e.factor} gange medianen.`,
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
      `${e.who} slog ${e.citizens} forskellige borgere op den ${e.day} under ${e.caseworkers} ${e.caseworkers === 1 ? 'sagsbehandler-id' : 'forskellige sagsbehandler-id’er'}. ` +
      (e.median !== undefined
        ? `På sine ${e.days} andre dage slog systemet typisk (median) ${e.median} op: ${e.times} gange så mange. `
        : 'Systemet har for få andre dage til en norm. ') +
      `Reglen: mindst ${e.min} borgere og mere end ${e.factor} gange systemets egen median${e.max > 0 ? `, eller flere end ${e.max} på én dag` : ''}. Sagsbehandler-id’et angives af klienten, så opslag fordelt på mange id’er ses kun her.`,
    offHours: (e: { who: string; n: number; fromHour: number; toHour: number }) =>
      `${e.who} slog borgere op ${e.n} ${e.n === 1 ? 'gang' : 'gange'} uden for kontortid (mandag-fredag ${e.fromHour}-${e.toHour}, dansk tid). Opslagene er vist nedenfor.`,
    repeatedRefusals: (e: { who: string; refused: number; requests: number; share: string; min: number; reasons: string }) =>
      `${e.who} fik ${e.refused} af ${e.requests} forespørgsler afvist i perioden (${e.share}). Reglen: mindst ${e.min} afvisninger. De hyppigste grunde for systemet: ${e.reasons}.`,
    withheldFields: (e: { system: string; withheld: number; asked: number; share: string; fields: string }) =>
      `Kaldende system ${e.system} bad i ${e.withheld} af ${e.asked} tilladte forespørgsler (${e.share}) om felter, som politikkerne ikke udleverer. Felterne: ${e.fields}. Systemet bør kun bede om det, det må få (dataminimering).`,
    withdrawnConsent: (e: { n: number; systems: string; consent: string; day: string }) =>
      `${e.n} ${e.n === 1 ? 'udlevering' : 'udleveringer'} til ${e.systems} byggede på samtykke ${e.consent}, som borgeren senere trak tilbage (${e.day}). Udleveringerne var lovlige, da de skete; overvej om modtagerne skal orienteres om tilbagetrækningen.`,
    atLeast: (n: number) => `mindst ${n}`,
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
      `${e.who} registrerede samtykke ${e.consent} (${e.form === 'paper' ? 'papir' : e.form === 'verbal' ? 'mundtligt' : 'papir eller mundtligt'}${e.reference !== null ? `, blanket ${e.reference}` : ''}) den ${e.recordedAt}, og sagsbehandlerens egen forvaltning ${e.administration} modtog oplysninger på grundlag af det ${e.n} ${e.n === 1 ? 'gang' : 'gange'} (${e.systems}), første gang ${e.firstAfter} ${e.firstAfter === 1 ? 'minut' : 'minutter'} efter registreringen. Et samtykke, som modtageren selv registrerer, hviler på dens eget ord: bed ${e.administration} om den blanket, borgeren underskrev. Reglen: brugt af den registrerende forvaltning inden for ${e.window} minutter.`,
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
      `${e.who} registrerede ${e.n} ${e.n === 1 ? 'tilbagedateret samtykke' : 'tilbagedaterede samtykker'} i perioden: ` +
      e.consents
        .map(
          (c) =>
            `${c.consent}${c.validFrom !== null ? ` fra ${c.validFrom}` : ''}, registreret ${c.recordedOn}${c.days !== null ? ` (${c.days} ${c.days === 1 ? 'dag' : 'dage'} tilbage)` : ''}${c.reference !== null ? `, blanket ${c.reference}` : ''}${c.representative ? ', givet af en repræsentant' : ''}`,
        )
        .join('; ') +
      `${e.n > e.consents.length ? '; …' : ''}. Et tilbagedateret samtykke dækker udvekslinger før den dag, det blev registreret: kontrollér, at blanketten var underskrevet den dag, perioden begynder. Reglen: mindst ${e.min}.`,
    relationMissing: (e: { who: string; refused: string; min: number }) =>
      `${e.who} fik ${e.refused} forespørgsler afvist i perioden, fordi forvaltningen ikke havde registreret en gældende relation til borgeren. Det kan være opslag på borgere, forvaltningen ikke betjener. Reglen: mindst ${e.min}.`,
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
      `Relation ${e.relation} (${e.capacity}, ${e.administration}) blev registreret ${e.registeredAt} af ${e.registeredBy} og afsluttet ${e.endedAt} af ${e.endedBy} (${e.reason}), ${e.hours} timer senere. I mellemtiden slog ${e.who} borgeren op ${e.n} ${e.n === 1 ? 'gang' : 'gange'} med relationen som grundlag, inden for ${e.window} timer fra både registreringen og afslutningen. En relation, der kun findes omkring et opslag, kan være oprettet for at få adgang.`,
  },
  /** The trail's integrity. */
  integrity: {
    heading: 'Revisionssporets integritet',
    lead: 'Hver post er hash-kædet til den forrige. Ved hver sidevisning kontrolleres de nye poster; en fuld kontrol genberegner hele kæden og finder også ændringer i gamle poster.',
    status: 'Status',
    verifiedThrough: 'Kontrolleret til',
    latestRecord: 'Seneste post',
    finding: 'Fund',
    full: 'Fuld kontrol',
    lastFull: 'Seneste fulde kontrol',
    recordsFoundGood: 'poster fundet i orden',
    fullCouldNotComplete: 'kunne ikke gennemføres',
    fullNoProblem: 'ingen fejl',
    fullProblem: 'fejl fundet',
    noFullYet: 'Der er ikke kørt en fuld kontrol siden gatewayen startede.',
    verifyNow: 'Kontrollér hele sporet nu',
    checkpoints: 'Signerede kontrolpunkter',
    noCheckpoints: 'Gatewayen signerer ikke kontrolpunkter.',
    noCheckpointYet: 'Intet kontrolpunkt er signeret endnu.',
    throughRecord: 'Til og med post',
    signed: 'Signeret',
    signature: 'Signatur',
    signatureValid: 'gyldig',
    signatureInvalid: 'ugyldig',
    running: (checked: string) => `Kører: ${checked} poster kontrolleret. Siden opdaterer sig selv.`,
  },
  /** The citizen's access report (the report's own words are in src/audit/report-text.ts). */
  report: {
    heading: 'Borgerens indsigt (art. 15)',
    lead: 'Fra et CPR-nummer til en oversigt, borgeren kan læse: hvem så hvad, hvornår, hvorfor og med hvilken hjemmel.',
    fromOptional: 'Fra (valgfri)',
    toOptional: 'Til og med (valgfri)',
    language: 'Sprog',
    submit: 'Lav oversigten',
    audited: 'Oversigten registreres i revisionssporet som DPO-adgang til borgerens oplysninger.',
    print: 'Udskriv',
    downloadCsv: 'Hent CSV',
    downloadPdf: 'Hent PDF',
    newReport: 'Ny oversigt',
  },
  /** A citizen's consents. */
  consents: {
    active: 'Gældende',
    withdrawn: 'Trukket tilbage',
    expired: 'Udløbet',
    given: 'Givet',
    heading: 'Borgerens samtykker',
    lookUp: 'Slå op',
    audited: 'Opslaget registreres i revisionssporet (CONSENT_SEARCH).',
    none: 'Borgeren har ingen registrerede samtykker.',
    consent: 'Samtykke',
    recipients: 'Modtagere',
    purposes: 'Formål',
    contracts: 'Kontrakter',
    categories: 'Datakategorier',
    period: 'Periode',
    evidence: 'Dokumentation',
    level: 'Dokumentationens niveau',
    levels: {
      'citizen-signed': 'Underskrevet af borgeren i samtykkeløsningen',
      'recorded-by-caseworker': 'Registreret af sagsbehandler (papir/mundtligt)',
    },
    forms: { paper: 'papir', verbal: 'mundtligt' },
    formReference: 'Blanket',
    artefact: 'Samtykkebevis',
    consentText: 'Samtykketekst vist',
    givenAt: 'Givet',
    givenBy: 'Givet af',
    givers: {
      citizen: 'Borgeren selv',
      guardian: 'Værge',
      'power-of-attorney': 'Fuldmagtshaver',
      'custody-holder': 'Forælder med forældremyndighed',
    },
    giverEvidence: 'dokumentation',
    backdated: 'Tilbagedateret',
    backdatedYes: 'Ja: perioden begynder før den dag, samtykket blev registreret',
    backdatedNo: 'Nej',
    sources: 'Oplysningerne må komme fra',
    anySource: 'Alle forvaltninger (registreret før kilder blev angivet)',
    relation: 'Knyttet til sagsrelationen',
    noRelation: 'Ingen',
    recordedBy: 'Registreret af',
    receiptDigest: 'Kvitteringens digest',
    history: 'Historik',
    event: 'Hændelse',
    by: 'Af',
  },
  /** A citizen's relations (the relations register) with their history, and the shared citizens. */
  relations: {
    heading: 'Borgerens relationer',
    lead: 'Hvilke forvaltninger der har registreret, at de betjener borgeren, i hvilken egenskab og periode, og hvem der registrerede, ændrede og afsluttede det hvornår.',
    lookUp: 'Slå op',
    audited: 'Opslaget registreres i revisionssporet som DPO-adgang til borgerens oplysninger (RELATION_HISTORY).',
    none: 'Ingen forvaltning har registreret en relation til borgeren.',
    relation: 'Relation',
    administration: 'Forvaltning',
    capacity: 'Egenskab',
    caseRef: 'Sagsreference',
    caseworker: 'Ansvarlig sagsbehandler',
    period: 'Periode',
    openEnded: 'indtil videre',
    endReason: 'Afslutningsgrund',
    registeredAt: 'Registreret',
    updatedAt: 'Senest ændret',
    history: 'Historik',
    event: 'Hændelse',
    by: 'Af (system, forvaltning)',
    changed: 'Ændret',
    states: { planned: 'Ikke begyndt', active: 'Gældende', ended: 'Afsluttet', voided: 'Annulleret' },
    events: { registered: 'Registreret', changed: 'Ændret', ended: 'Afsluttet' },
    fields: { capacity: 'egenskab', caseworker: 'sagsbehandler', from: 'fra', to: 'til' },
    endReasons: {
      'case-closed': 'Sagen er afsluttet',
      transferred: 'Overført',
      'deceased-or-moved': 'Død eller fraflyttet',
      'recorded-in-error': 'Registreret ved en fejl (annulleret)',
      other: 'Anden grund',
    },
    shared: 'Fællesborgere i dag',
    sharedLead: (day: string) => `Borgere med gældende relationer ${day}, efter hvilke forvaltninger der har dem.`,
    combination: 'Forvaltninger',
    citizens: 'Borgere',
    fewerThan: (n: number) => `færre end ${n}`,
    noneInForce: 'Ingen gældende relationer i dag.',
    sharedNote: (n: number) =>
      `Tal under ${n} vises ikke. Der tælles pr. pseudonym: en borger, hvis relationer står under to pseudonymnøgler (registreret før et nøgleskift og ikke ændret siden), kan tælles to gange.`,
  },
  /** Notifications that could not be delivered. */
  notifications: {
    heading: 'Notifikationer, der ikke kunne leveres',
    lead: 'Døde breve: leveringer, der blev opgivet efter alle forsøg. Et nyt forsøg (re-drive) registreres i revisionssporet.',
    redriven: 'Leveringen er sat i kø igen.',
    none: 'Ingen døde breve.',
    created: 'Oprettet',
    recipient: 'Modtager',
    attempts: 'Forsøg',
    lastError: 'Sidste fejl',
    confirmRedrive: 'Send notifikationen igen?',
    redrive: 'Send igen',
    payloadErased: 'indhold slettet',
  },
  /** Reason codes in words: the policy's deny reasons, error codes, delivery states. A code not here is shown by the error registry's title, or as itself. */
  reasons: {
    NO_POLICY: 'Ingen politik tillader udvekslingen',
    PURPOSE_NOT_ALLOWED: 'Formålet er ikke tilladt for denne udveksling',
    ROLE_NOT_ALLOWED: 'Systemets rolle er ikke tilladt',
    POLICY_NOT_IN_FORCE: 'Politikken gælder ikke på dette tidspunkt',
    NO_FIELDS_PERMITTED: 'Ingen af de ønskede felter må udleveres',
    CONSENT_MISSING: 'Samtykke kræves, men er ikke registreret',
    CONSENT_WITHDRAWN: 'Samtykket er trukket tilbage',
    CONSENT_EXPIRED: 'Samtykket er udløbet',
    CONSENT_SCOPE: 'Samtykket dækker ikke udvekslingen',
    CONSENT_SOURCE_UNAVAILABLE: 'Samtykkeregistret kunne ikke nås',
    CONSENT_EVIDENCE_NOT_ACCEPTED:
      'Et samtykke dækker udvekslingen, men på en dokumentation, politikken ikke godtager (fx modtagerens egen registrering)',
    CONSENT_NOT_IN_FORCE: 'Intet gældende samtykke dækker udvekslingen (som kalderen fik at vide)',
    CERTIFICATE_REQUIRED: 'Klientcertifikat mangler',
    CERTIFICATE_UNTRUSTED: 'Klientcertifikatet er ikke betroet',
    CLIENT_UNKNOWN: 'Ukendt klientsystem',
    FORBIDDEN_ROLE: 'Systemets rolle er ikke tilladt',
    TOKEN_MISSING: 'Forespørgselstoken mangler',
    TOKEN_EXPIRED: 'Forespørgselstoken er udløbet',
    TOKEN_REPLAYED: 'Forespørgselstoken er allerede brugt',
    TOKEN_BODY_MISMATCH: 'Token passer ikke til forespørgslens indhold',
    TOKEN_SIGNATURE_INVALID: 'Tokenets signatur er ugyldig',
    REQUEST_INVALID: 'Forespørgslen passer ikke til kontrakten',
    CONTRACT_UNKNOWN: 'Ukendt kontrakt',
    PURPOSE_UNKNOWN: 'Ukendt formål',
    SUBJECT_NOT_FOUND: 'Udbyderen har ingen sag om borgeren',
    PROVIDER_UNAVAILABLE: 'Udbydersystemet kunne ikke nås',
    PROVIDER_TIMEOUT: 'Udbydersystemet svarede ikke i tide',
    PROVIDER_BUSY: 'Udbydersystemet havde for mange ventende forespørgsler',
    PROVIDER_CONTRACT_UNKNOWN: 'Udbyderen tilbyder (endnu) ikke denne kontrakt',
    PROVIDER_RESPONSE_INVALID: 'Udbyderens svar blev afvist',
    RATE_LIMITED: 'For mange forespørgsler',
    AUDIT_UNAVAILABLE: 'Revisionssporet kunne ikke skrives',
    NOT_FOUND: 'Ukendt adresse',
    AUDIT_SEARCH: 'DPO søgte i revisionssporet',
    AUDIT_VERIFY: 'DPO kontrollerede revisionssporet',
    CITIZEN_REPORT: 'DPO lavede borgerens indsigtsoversigt',
    CONSENT_RECORDED: 'Samtykke registreret',
    CONSENT_WITHDRAWAL: 'Samtykke trukket tilbage',
    CONSENT_SEARCH: 'Samtykker slået op',
    CONSENT_BACKDATED: 'Samtykke tilbagedateret: perioden begynder før den dag, det blev registreret',
    CONSENT_BY_REPRESENTATIVE: 'Samtykke givet af en repræsentant (værge, fuldmagtshaver eller forælder med forældremyndighed)',
    RELATION_REGISTERED: 'Relation registreret: forvaltningen betjener borgeren',
    RELATION_CHANGED: 'Relation ændret',
    RELATION_ENDED: 'Relation afsluttet',
    RELATION_UNCHANGED: 'Relation sendt igen uden ændringer',
    RELATION_BACKDATED: 'Relation tilbagedateret: starter før registreringsdagen',
    RELATION_SEARCH: 'Relationer slået op',
    RELATION_MISSING: 'Forvaltningen har ikke registreret, at den betjener borgeren',
    SUBJECT_OUT_OF_SCOPE: 'Borgeren er uden for reglens aldersgruppe (eller alderen kunne ikke afgøres ud fra CPR-nummeret)',
    RELATION_HISTORY: 'DPO slog borgerens relationer og deres historik op',
    RECIPIENT_SKIPPED: 'Modtager sprunget over: den har ikke registreret, at den betjener borgeren (afsenderen får det ikke at vide)',
    RELATION_REGISTER_UNAVAILABLE: 'Relationsregistret kunne ikke læses',
    RELATION_IMPORT: 'Relationer indlæst fra et fagsystems fil (snitflade relations import)',
    RELATION_RECONCILE: 'Relationer afstemt med et fagsystems fil (snitflade relations reconcile)',
    RELATION_NOT_LISTED: 'Afsluttet: fagsystemet opgiver ikke længere relationen',
    QUEUED: 'Sat i kø til levering',
    DELIVERED: 'Leveret',
    DEAD_LETTER: 'Kunne ikke leveres (dødt brev)',
    DELIVERY_CANCELLED: 'Levering annulleret',
    REDRIVEN: 'Sendt igen',
    ALREADY_ACCEPTED: 'Sendt igen af afsenderen; besvaret som første gang, intet sat i kø igen',
    IDEMPOTENCY_KEY_REUSED: 'Afsenderens nøgle var brugt til en anden hændelse',
    IDEMPOTENCY_KEY_INVALID: 'Afsenderens nøgle var ugyldig',
    RECIPIENT_STATUS: 'Modtageren svarede med en fejl',
  },
  /** Record kinds. */
  kinds: {
    decision: 'Afgørelse',
    release: 'Udlevering',
    refusal: 'Afvisning',
    consent: 'Samtykke',
    relation: 'Relation',
    notification: 'Notifikation',
    admin: 'Administration',
    'dpo-access': 'DPO-adgang',
  },
  /** What a verification problem means (the verifier's own message gives the details). */
  problems: {
    'hash-mismatch': 'Posten er ændret, efter den blev skrevet',
    'prev-mismatch': 'Posten peger ikke på den forrige post',
    gap: 'Poster mangler i kæden',
    inserted: 'En fremmed post er sat ind i kæden',
    reordered: 'Poster er byttet om',
    'column-mismatch': 'Søgekolonner er ændret bag om sporet',
    malformed: 'En post kan ikke læses',
    'wrong-chain': 'En post hører til en anden kæde',
    truncated: 'Kæden er afkortet',
    'head-mismatch': 'Kæden er omskrevet',
    'checkpoint-invalid': 'Et signeret kontrolpunkt holder ikke',
    'checkpoint-mismatch': 'Kæden passer ikke til et signeret kontrolpunkt',
    'root-mismatch': 'Posterne giver ikke kontrolpunktets Merkle-rod',
    'retention-unproven': 'Slettede poster er ikke dokumenteret',
    'erasure-unproven': 'Slettet indhold er ikke dokumenteret',
  },
};

export type Texts = typeof da;

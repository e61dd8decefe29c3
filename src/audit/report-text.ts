/**
 * The words of the citizen's access report, one text for every form of it (the report API's
 * printable HTML, the DPO page and the PDF): plain language a citizen can read, in Danish and
 * English.
 */
export const REPORT_TEXT = {
  title: { da: 'Oversigt over videregivelse af dine oplysninger', en: 'Overview of disclosures of your data' },
  intro: {
    da: 'Oversigten viser, hvornår kommunens forvaltninger har udvekslet oplysninger om dig gennem kommunens dataudvekslingsplatform (Snitflade): hvem der fik hvilke oplysninger, hvornår, til hvilket formål og med hvilken hjemmel, og hvilke opslag der blev afvist. Den indeholder ikke selve oplysningerne.',
    en: "This overview shows when the municipality's administrations exchanged data about you through the municipality's data exchange gateway (Snitflade): who received which data, when, for which purpose and under which legal basis, and which look-ups were refused. It does not contain the data itself.",
  },
  period: { da: 'Periode', en: 'Period' },
  allRecords: { da: 'alle opbevarede registreringer', en: 'all records kept' },
  prepared: { da: 'Udarbejdet', en: 'Prepared' },
  summary: { da: 'Sammenfatning', en: 'Summary' },
  entries: { da: 'Udvekslinger', en: 'Exchanges' },
  none: { da: 'Der er ingen udvekslinger om dig i perioden.', en: 'There are no exchanges about you in the period.' },
  when: { da: 'Tidspunkt', en: 'When' },
  recipient: { da: 'Modtager', en: 'Recipient' },
  noRecipient: { da: 'Ingen modtager', en: 'No recipient' },
  source: { da: 'Oplysningerne kom fra', en: 'The data came from' },
  data: { da: 'Oplysninger', en: 'Data' },
  asked: { da: 'Der blev spurgt om', en: 'Asked for' },
  notice: { da: 'Underretningen omfattede', en: 'The notice covered' },
  purpose: { da: 'Formål', en: 'Purpose' },
  basis: { da: 'Hjemmel', en: 'Legal basis' },
  consent: { da: 'Byggede på dit samtykke (kvittering)', en: 'Relied on your consent (receipt)' },
  consentGivenBy: { da: 'Samtykket blev givet af', en: 'The consent was given by' },
  consentEvidence: { da: 'Samtykket er dokumenteret ved', en: 'The consent is evidenced by' },
  reason: { da: 'Begrundelse', en: 'Reason' },
  employee: { da: 'Medarbejder', en: 'Employee' },
  special: {
    da: 'Følsomme oplysninger (databeskyttelsesforordningens art. 9) er markeret med *.',
    en: 'Special category data (GDPR Art. 9) are marked with *.',
  },
  noEmployee: {
    da: 'Efter Datatilsynets praksis viser oversigten ikke, hvilken medarbejder der foretog opslaget.',
    en: "Following the Danish Data Protection Agency's practice, the overview does not show which employee made the look-up.",
  },
  truncated: {
    da: 'Oversigten er afkortet: der er flere udvekslinger end én oversigt kan rumme. Vælg en kortere periode.',
    en: 'The overview is cut short: there are more exchanges than one overview holds. Choose a shorter period.',
  },
  relations: {
    da: 'Forvaltninger, der har registreret, at de betjener dig',
    en: 'Administrations that have registered that they serve you',
  },
  relationsIntro: {
    da: 'Kommunens forvaltninger registrerer, når de har en sag om dig, og i hvilken egenskab. En forvaltning kan kun få visse oplysninger om dig, mens den har en sådan registrering. Listen viser registreringerne, som de er på dagen for oversigten, uanset perioden ovenfor.',
    en: "The municipality's administrations register when they have a case about you, and in which capacity. An administration can receive some data about you only while it holds such a registration. The list shows the registrations as they stand on the day of the overview, whatever the period above.",
  },
  relationsNone: {
    da: 'Ingen forvaltning har registreret, at den betjener dig.',
    en: 'No administration has registered that it serves you.',
  },
  administration: { da: 'Forvaltning', en: 'Administration' },
  capacity: { da: 'Som', en: 'Capacity' },
  relationFrom: { da: 'Fra', en: 'From' },
  relationTo: { da: 'Til og med', en: 'Until (inclusive)' },
  relationState: { da: 'Status', en: 'Status' },
  relationEnd: { da: 'Afsluttet fordi', en: 'Ended because' },
  openEnded: { da: 'indtil videre', en: 'until further notice' },
  questions: {
    da: 'Har du spørgsmål til oversigten, kan du kontakte kommunens databeskyttelsesrådgiver.',
    en: "If you have questions about the overview, contact the municipality's data protection officer.",
  },
} as const;

/** A relation's state on the day of the report, in words. */
export const RELATION_STATE_TEXT = {
  planned: { da: 'Begynder senere', en: 'Starts later' },
  active: { da: 'Gældende', en: 'In force' },
  ended: { da: 'Afsluttet', en: 'Ended' },
  voided: { da: 'Annulleret: registreret ved en fejl, har aldrig gældt', en: 'Void: registered in error, never in force' },
} as const;

/** Why a relation ended, in words for the citizen. */
export const RELATION_END_TEXT = {
  'case-closed': { da: 'Sagen blev afsluttet', en: 'The case was closed' },
  transferred: { da: 'Sagen blev overført', en: 'The case was transferred' },
  'deceased-or-moved': { da: 'Fraflytning eller dødsfald', en: 'Moved away or deceased' },
  'recorded-in-error': { da: 'Registreret ved en fejl', en: 'Registered in error' },
  other: { da: 'Anden grund', en: 'Another reason' },
} as const;

/** Who gave the consent a disclosure relied on, in words for the citizen (the representative's evidence reference is not shown). */
export const CONSENT_GIVER_TEXT = {
  citizen: { da: 'Dig selv', en: 'You' },
  guardian: { da: 'Din værge', en: 'Your guardian' },
  'power-of-attorney': { da: 'En person med fuldmagt fra dig', en: 'A person holding your power of attorney' },
  'custody-holder': { da: 'En forælder med forældremyndighed over dig', en: 'A parent with custody of you' },
} as const;

/** The evidence level of the consent a disclosure relied on, in the words the DPO pages use too. */
export const CONSENT_LEVEL_TEXT = {
  'citizen-signed': { da: 'Underskrevet af borgeren i samtykkeløsningen', en: 'Signed by the citizen at the consent service' },
  'recorded-by-caseworker': { da: 'Registreret af sagsbehandler (papir/mundtligt)', en: 'Recorded by a caseworker (paper/verbal)' },
} as const;

/**
 * The records of the synthetic population (population.ts): the jobcentre's status and social
 * services' summary of each citizen, in the shape of their contracts' responses
 * (schemas/employment.citizen-status.v1, schemas/social.coordination-summary.v1) except the fields
 * the simulated systems derive from them (status.ts).
 */

/** A date as YYYY-MM-DD. */
export type IsoDate = string;

export interface Contact {
  readonly name: string;
  readonly phone: string;
  readonly email: string;
}

export const TARGET_GROUPS = ['job-ready', 'activity-ready', 'education-ready'] as const;
export type TargetGroup = (typeof TARGET_GROUPS)[number];

export const BENEFITS = [
  'cash-benefit',
  'education-benefit',
  'unemployment-insurance',
  'sickness-benefit',
  'resource-course',
  'flex-job',
  'flex-job-benefit',
] as const;
export type Benefit = (typeof BENEFITS)[number];

/**
 * Who pays the citizen's benefit, the part of the benefit that reveals no health: sickness benefit,
 * a resource course and a flex job are all municipal benefits, as cash benefit is.
 */
export const INCOME_SUPPORT = ['municipal-benefit', 'unemployment-insurance'] as const;
export type IncomeSupport = (typeof INCOME_SUPPORT)[number];

export function incomeSupportOf(benefit: Benefit): IncomeSupport {
  return benefit === 'unemployment-insurance' ? 'unemployment-insurance' : 'municipal-benefit';
}

export const MEETING_KINDS = ['follow-up', 'job-plan', 'rehabilitation-team', 'joint-meeting'] as const;
export type MeetingKind = (typeof MEETING_KINDS)[number];

export const SANCTION_TYPES = ['reduction', 'stop', 'periodic'] as const;
export type SanctionType = (typeof SANCTION_TYPES)[number];

export interface Sanction {
  readonly date: IsoDate;
  readonly type: SanctionType;
  readonly amountDkk: number;
}

/** The jobcentre's record: contract employment.citizen-status.v1 without the fields derived from it (status.ts). */
export interface EmploymentStatus {
  readonly targetGroup: TargetGroup;
  readonly benefit: Benefit;
  readonly jobcentreUnit: string;
  readonly caseworkerContact: Contact;
  readonly nextMeeting: { readonly date: IsoDate; readonly kind: MeetingKind } | null;
  /** The sanctions of the last three months, oldest first; often empty. */
  readonly sanctions: readonly Sanction[];
}

export const EFFORTS = [
  'shelter',
  'housing-support',
  'addiction-treatment',
  'mentor',
  'support-contact-person',
  'mental-health-support',
  'disability-support',
] as const;
export type Effort = (typeof EFFORTS)[number];

/** Social services' record: contract social.coordination-summary.v1 without the efforts' periods (status.ts). */
export interface SocialSummary {
  readonly openSocialCase: boolean;
  readonly supportContact: Contact | null;
  readonly actionPlan: { readonly exists: boolean; readonly created: IsoDate | null; readonly nextReview: IsoDate | null };
  readonly efforts: readonly Effort[];
}

export const EMPLOYMENT_FIELDS = [
  'targetGroup',
  'benefit',
  'jobcentreUnit',
  'caseworkerContact',
  'nextMeeting',
  'sanctions',
] as const satisfies readonly (keyof EmploymentStatus)[];
export const SOCIAL_FIELDS = [
  'openSocialCase',
  'supportContact',
  'actionPlan',
  'efforts',
] as const satisfies readonly (keyof SocialSummary)[];

/**
 * Fields a provider system holds but no contract names (internal notes, a diagnosis code, a
 * bank account), all with obviously fake values. Some records carry them on purpose, so the
 * gateway's minimisation has something to remove.
 */
export type ExtraFields = Readonly<Record<string, string | number>>;

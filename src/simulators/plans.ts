import type { SimulatedContract } from './contracts.js';
import { ageOf, dayFromToday, recordRandom, syntheticContact } from './derive.js';
import { findCitizen, type SyntheticCitizen } from './population.js';
import { effortPeriods, type EffortPeriods } from './efforts.js';
import {
  incomeSupportOf,
  type Contact,
  type EmploymentStatus,
  type IncomeSupport,
  type IsoDate,
  type MeetingKind,
  type SocialSummary,
} from './records.js';

/**
 * What the simulated jobcentre and social services systems know beyond the status and summary:
 * the job plan, the social action plan, the coordinating caseworker's overviews, the shared
 * progression assessment and the whole-person plan. Every record is derived from the synthetic
 * citizen (see derive.ts), consistent with the citizen's status and summary, in the exact shape
 * of its contract's response (schemas/).
 */

// ---- the jobcentre (bif-jobcentre-system) ----

export const JOB_GOALS = ['ordinary-employment', 'flex-job', 'education', 'clarification'] as const;
export const ACTIVITY_KINDS = [
  'guidance-course',
  'company-internship',
  'wage-subsidy-job',
  'mentor',
  'education',
  'job-search-support',
] as const;

/** The job goal's area, which reveals no health: a flex job is employment, as ordinary employment is. */
export const JOB_GOAL_AREAS = ['employment', 'education', 'clarification'] as const;
const GOAL_AREA: Readonly<Record<(typeof JOB_GOALS)[number], (typeof JOB_GOAL_AREAS)[number]>> = {
  'ordinary-employment': 'employment',
  'flex-job': 'employment',
  education: 'education',
  clarification: 'clarification',
};

/** employment.job-plan-summary.v1 */
export interface JobPlanSummary {
  readonly jobPlan: { readonly exists: boolean; readonly created: IsoDate | null; readonly nextFollowUp: IsoDate | null };
  readonly jobGoal: (typeof JOB_GOALS)[number] | null;
  readonly jobGoalArea: (typeof JOB_GOAL_AREAS)[number] | null;
  readonly activities: readonly { readonly kind: (typeof ACTIVITY_KINDS)[number]; readonly from: IsoDate; readonly to: IsoDate | null }[];
  readonly caseworkerContact: Contact;
}

export function jobPlanSummary(citizen: SyntheticCitizen, employment: EmploymentStatus): JobPlanSummary {
  const r = recordRandom(citizen, 'job-plan');
  if (!r.chance(citizen.group === 'shared' ? 0.85 : 0.75)) {
    return {
      jobPlan: { exists: false, created: null, nextFollowUp: null },
      jobGoal: null,
      jobGoalArea: null,
      activities: [],
      caseworkerContact: employment.caseworkerContact,
    };
  }
  const flex = employment.benefit === 'flex-job' || employment.benefit === 'flex-job-benefit';
  const jobGoal =
    employment.targetGroup === 'education-ready'
      ? 'education'
      : flex
        ? 'flex-job'
        : employment.targetGroup === 'job-ready'
          ? r.weighted({ 'ordinary-employment': 85, education: 10, 'flex-job': 5, clarification: 0 })
          : r.weighted({ clarification: 45, 'ordinary-employment': 30, education: 15, 'flex-job': 10 });
  const activities: JobPlanSummary['activities'][number][] = [];
  const count = r.int(0, 3);
  for (let i = 0; i < count; i++) {
    const kind =
      jobGoal === 'education'
        ? r.weighted({
            education: 45,
            mentor: 25,
            'guidance-course': 20,
            'company-internship': 10,
            'wage-subsidy-job': 0,
            'job-search-support': 0,
          })
        : r.weighted({
            'company-internship': 30,
            'job-search-support': 25,
            'guidance-course': 20,
            mentor: 15,
            'wage-subsidy-job': 10,
            education: 0,
          });
    if (activities.some((a) => a.kind === kind)) continue;
    activities.push({ kind, from: dayFromToday(-r.int(0, 200)), to: r.chance(0.7) ? dayFromToday(r.int(10, 180)) : null });
  }
  return {
    jobPlan: { exists: true, created: dayFromToday(-r.int(20, 700)), nextFollowUp: dayFromToday(r.int(5, 120)) },
    jobGoal,
    jobGoalArea: GOAL_AREA[jobGoal],
    activities: activities.sort((a, b) => a.from.localeCompare(b.from)),
    caseworkerContact: employment.caseworkerContact,
  };
}

/** employment.coordination-overview.v1 */
export interface EmploymentOverview {
  readonly openEmploymentCase: boolean;
  readonly targetGroup: EmploymentStatus['targetGroup'] | null;
  readonly benefit: EmploymentStatus['benefit'] | null;
  readonly incomeSupport: IncomeSupport | null;
  readonly caseworkerContact: Contact | null;
  readonly upcomingMeetings: readonly { readonly date: IsoDate; readonly kind: MeetingKind }[];
  readonly upcomingMeetingDates: readonly IsoDate[];
  readonly jobPlanNextFollowUp: IsoDate | null;
}

export function employmentOverview(citizen: SyntheticCitizen, employment: EmploymentStatus): EmploymentOverview {
  const plan = jobPlanSummary(citizen, employment);
  const meetings: { date: IsoDate; kind: MeetingKind }[] = employment.nextMeeting ? [{ ...employment.nextMeeting }] : [];
  const followUp = plan.jobPlan.nextFollowUp;
  if (followUp !== null && !meetings.some((m) => m.date === followUp)) meetings.push({ date: followUp, kind: 'job-plan' });
  meetings.sort((a, b) => a.date.localeCompare(b.date));
  return {
    openEmploymentCase: true,
    targetGroup: employment.targetGroup,
    benefit: employment.benefit,
    incomeSupport: incomeSupportOf(employment.benefit),
    caseworkerContact: employment.caseworkerContact,
    upcomingMeetings: meetings,
    upcomingMeetingDates: meetings.map((m) => m.date),
    jobPlanNextFollowUp: followUp,
  };
}

// ---- the shared progression assessment (both systems) ----

export const TRENDS = ['improving', 'stable', 'declining', 'not-enough-data'] as const;

export interface ProgressionScores {
  readonly workReadiness: number;
  readonly educationReadiness: number;
  readonly everydayLife: number;
  readonly socialNetwork: number;
  readonly housingStability: number;
}

/** employment.progression-assessment.v1 and social.progression-assessment.v1 */
export interface ProgressionAssessment {
  readonly latestAssessment: { readonly date: IsoDate; readonly scores: ProgressionScores } | null;
  readonly previousAssessment: { readonly date: IsoDate; readonly scores: ProgressionScores } | null;
  readonly trend: (typeof TRENDS)[number];
  readonly referral: { readonly recommended: boolean; readonly to: 'jobcentre' | 'social-services' | null };
}

const clamp = (n: number): number => Math.min(5, Math.max(1, n));
const total = (s: ProgressionScores): number =>
  s.workReadiness + s.educationReadiness + s.everydayLife + s.socialNetwork + s.housingStability;

/**
 * The progression assessment one administration made of a shared citizen. Only shared citizens
 * are assessed with the joint tool; others have a record without assessments.
 */
export function progressionAssessment(citizen: SyntheticCitizen, by: 'jobcentre' | 'social-services'): ProgressionAssessment {
  const r = recordRandom(citizen, `progression-${by}`);
  const none: ProgressionAssessment = {
    latestAssessment: null,
    previousAssessment: null,
    trend: 'not-enough-data',
    referral: { recommended: false, to: null },
  };
  if (citizen.group !== 'shared' || !r.chance(by === 'jobcentre' ? 0.7 : 0.6)) return none;
  const base = citizen.employment?.targetGroup === 'job-ready' ? 4 : citizen.employment?.targetGroup === 'education-ready' ? 3 : 2;
  const housingBase = citizen.social?.efforts.includes('shelter') ? 1 : citizen.social?.efforts.includes('housing-support') ? 2 : 4;
  const scores = (): ProgressionScores => ({
    workReadiness: clamp(base + r.int(-1, 1)),
    educationReadiness: clamp(base + r.int(-1, 1)),
    everydayLife: clamp(r.int(1, 5)),
    socialNetwork: clamp(r.int(1, 5)),
    housingStability: clamp(housingBase + r.int(-1, 1)),
  });
  const latestDaysAgo = r.int(5, 180);
  const latest = { date: dayFromToday(-latestDaysAgo), scores: scores() };
  const previous = r.chance(0.7) ? { date: dayFromToday(-latestDaysAgo - r.int(60, 240)), scores: scores() } : null;
  const change = previous ? total(latest.scores) - total(previous.scores) : 0;
  const trend = previous === null ? 'not-enough-data' : change > 1 ? 'improving' : change < -1 ? 'declining' : 'stable';
  const recommended = r.chance(0.2);
  return {
    latestAssessment: latest,
    previousAssessment: previous,
    trend,
    referral: { recommended, to: recommended ? (by === 'jobcentre' ? 'social-services' : 'jobcentre') : null },
  };
}

// ---- social services (sof-case-system) ----

export const GOAL_AREAS = ['housing', 'employment', 'education', 'finances', 'social-network', 'everyday-life'] as const;
export const SOCIAL_MEETING_KINDS = ['action-plan-review', 'follow-up', 'network-meeting'] as const;
type SocialMeeting = { readonly date: IsoDate; readonly kind: (typeof SOCIAL_MEETING_KINDS)[number] };

/** The social case beyond the summary: the social caseworker and the coming meetings. */
function socialCase(citizen: SyntheticCitizen, social: SocialSummary): { caseworker: Contact | null; meetings: SocialMeeting[] } {
  if (!social.openSocialCase) return { caseworker: null, meetings: [] };
  const r = recordRandom(citizen, 'social-case');
  const caseworker = syntheticContact('Socialrådgiver', 2, r.int(1, 300));
  const meetings: SocialMeeting[] = [];
  if (social.actionPlan.nextReview !== null) meetings.push({ date: social.actionPlan.nextReview, kind: 'action-plan-review' });
  if (r.chance(0.6)) meetings.push({ date: dayFromToday(r.int(3, 60)), kind: r.weighted({ 'follow-up': 70, 'network-meeting': 30 }) });
  const unique = meetings.filter((m, i) => meetings.findIndex((x) => x.date === m.date) === i);
  return { caseworker, meetings: unique.sort((a, b) => a.date.localeCompare(b.date)) };
}

/** The citizen's social caseworker, or null when the social case is closed. */
export function socialCaseworker(citizen: SyntheticCitizen, social: SocialSummary): Contact | null {
  return socialCase(citizen, social).caseworker;
}

/** social.action-plan-summary.v1 */
export interface ActionPlanSummary {
  readonly actionPlan: SocialSummary['actionPlan'];
  readonly goalAreas: readonly (typeof GOAL_AREAS)[number][];
  readonly socialCaseworkerContact: Contact | null;
  readonly nextMeeting: SocialMeeting | null;
}

export function actionPlanSummary(citizen: SyntheticCitizen, social: SocialSummary): ActionPlanSummary {
  const r = recordRandom(citizen, 'action-plan');
  const { caseworker, meetings } = socialCase(citizen, social);
  const goals = new Set<(typeof GOAL_AREAS)[number]>();
  if (social.actionPlan.exists) {
    if (social.efforts.includes('shelter') || social.efforts.includes('housing-support')) goals.add('housing');
    if (citizen.employment) goals.add(citizen.employment.targetGroup === 'education-ready' ? 'education' : 'employment');
    const more = r.int(0, 2);
    for (let i = 0; i < more; i++)
      goals.add(r.weighted({ finances: 35, 'social-network': 35, 'everyday-life': 30, housing: 0, employment: 0, education: 0 }));
    if (goals.size === 0) goals.add('everyday-life');
  }
  return {
    actionPlan: social.actionPlan,
    goalAreas: GOAL_AREAS.filter((g) => goals.has(g)),
    socialCaseworkerContact: caseworker,
    nextMeeting: meetings[0] ?? null,
  };
}

/** social.coordination-overview.v1 */
export interface SocialOverview extends EffortPeriods {
  readonly openSocialCase: boolean;
  readonly socialCaseworkerContact: Contact | null;
  readonly supportContact: Contact | null;
  readonly upcomingMeetings: readonly SocialMeeting[];
  readonly actionPlanNextReview: IsoDate | null;
  readonly efforts: SocialSummary['efforts'];
}

export function socialOverview(citizen: SyntheticCitizen, social: SocialSummary): SocialOverview {
  const { caseworker, meetings } = socialCase(citizen, social);
  return {
    openSocialCase: social.openSocialCase,
    socialCaseworkerContact: caseworker,
    supportContact: social.supportContact,
    upcomingMeetings: meetings,
    actionPlanNextReview: social.actionPlan.nextReview,
    efforts: social.efforts,
    ...effortPeriods(citizen, social),
  };
}

export const PLAN_GOAL_AREAS = [
  'employment',
  'education',
  'housing',
  'finances',
  'social-network',
  'everyday-life',
  'physical-health',
  'mental-health',
  'substance-use',
] as const;
export const PARTICIPANTS = ['BIF', 'SOF', 'SUF', 'BUF'] as const;

/** social.whole-person-plan.v1 */
export interface WholePersonPlan {
  readonly plan: {
    readonly exists: boolean;
    readonly created: IsoDate | null;
    readonly nextReview: IsoDate | null;
    readonly madeWithCitizen: boolean;
  };
  readonly coordinatingCaseworker: Contact | null;
  readonly nextCoordinationMeeting: IsoDate | null;
  readonly goalAreas: readonly (typeof PLAN_GOAL_AREAS)[number][];
  readonly participants: readonly (typeof PARTICIPANTS)[number][];
}

/** About a quarter of shared citizens have a whole-person plan (about 2,000 of 8,300 in Copenhagen). */
export function wholePersonPlan(citizen: SyntheticCitizen): WholePersonPlan {
  const r = recordRandom(citizen, 'whole-person-plan');
  if (citizen.group !== 'shared' || citizen.social === null || !r.chance(0.25)) {
    return {
      plan: { exists: false, created: null, nextReview: null, madeWithCitizen: false },
      coordinatingCaseworker: null,
      nextCoordinationMeeting: null,
      goalAreas: [],
      participants: [],
    };
  }
  const efforts = citizen.social.efforts;
  const goals = new Set<(typeof PLAN_GOAL_AREAS)[number]>(['employment']);
  if (efforts.includes('shelter') || efforts.includes('housing-support')) goals.add('housing');
  if (efforts.includes('mental-health-support')) goals.add('mental-health');
  if (efforts.includes('addiction-treatment')) goals.add('substance-use');
  goals.add(
    r.weighted({
      education: 15,
      finances: 25,
      'social-network': 25,
      'everyday-life': 20,
      'physical-health': 15,
      employment: 0,
      housing: 0,
      'mental-health': 0,
      'substance-use': 0,
    }),
  );
  const health =
    efforts.some((e) => e === 'addiction-treatment' || e === 'mental-health-support' || e === 'disability-support') ||
    goals.has('physical-health');
  const participants = new Set<(typeof PARTICIPANTS)[number]>(['SOF', 'BIF']);
  if (health) participants.add('SUF');
  if (ageOf(citizen) <= 25) participants.add('BUF');
  return {
    plan: {
      exists: true,
      created: dayFromToday(-r.int(20, 600)),
      nextReview: dayFromToday(r.int(10, 120)),
      madeWithCitizen: r.chance(0.95),
    },
    coordinatingCaseworker: syntheticContact('Koordinerende sagsbehandler', 3, r.int(1, 120)),
    nextCoordinationMeeting: r.chance(0.8) ? dayFromToday(r.int(5, 60)) : null,
    goalAreas: PLAN_GOAL_AREAS.filter((g) => goals.has(g)),
    participants: PARTICIPANTS.filter((p) => participants.has(p)),
  };
}

// ---- as simulated contracts ----

function fromEmployment<K extends string>(
  id: string,
  fields: readonly K[],
  derive: (c: SyntheticCitizen, e: EmploymentStatus) => Readonly<Record<K, unknown>>,
): SimulatedContract {
  return {
    id,
    fields,
    lookup(cpr) {
      const citizen = findCitizen(cpr);
      if (!citizen?.employment) return undefined;
      return { record: derive(citizen, citizen.employment), extras: {} };
    },
  };
}

function fromSocial<K extends string>(
  id: string,
  fields: readonly K[],
  derive: (c: SyntheticCitizen, s: SocialSummary) => Readonly<Record<K, unknown>>,
): SimulatedContract {
  return {
    id,
    fields,
    lookup(cpr) {
      const citizen = findCitizen(cpr);
      if (!citizen?.social) return undefined;
      return { record: derive(citizen, citizen.social), extras: {} };
    },
  };
}

const PROGRESSION_FIELDS = [
  'latestAssessment',
  'previousAssessment',
  'trend',
  'referral',
] as const satisfies readonly (keyof ProgressionAssessment)[];

export const employmentJobPlanSummary = fromEmployment(
  'employment.job-plan-summary.v1',
  ['jobPlan', 'jobGoal', 'jobGoalArea', 'activities', 'caseworkerContact'] satisfies (keyof JobPlanSummary)[],
  jobPlanSummary,
);
export const employmentCoordinationOverview = fromEmployment(
  'employment.coordination-overview.v1',
  [
    'openEmploymentCase',
    'targetGroup',
    'benefit',
    'incomeSupport',
    'caseworkerContact',
    'upcomingMeetings',
    'upcomingMeetingDates',
    'jobPlanNextFollowUp',
  ] satisfies (keyof EmploymentOverview)[],
  employmentOverview,
);
export const employmentProgressionAssessment = fromEmployment('employment.progression-assessment.v1', PROGRESSION_FIELDS, (c) =>
  progressionAssessment(c, 'jobcentre'),
);

export const socialActionPlanSummary = fromSocial(
  'social.action-plan-summary.v1',
  ['actionPlan', 'goalAreas', 'socialCaseworkerContact', 'nextMeeting'] satisfies (keyof ActionPlanSummary)[],
  actionPlanSummary,
);
export const socialCoordinationOverview = fromSocial(
  'social.coordination-overview.v1',
  [
    'openSocialCase',
    'socialCaseworkerContact',
    'supportContact',
    'upcomingMeetings',
    'actionPlanNextReview',
    'efforts',
    'socialEfforts',
    'healthEfforts',
  ] satisfies (keyof SocialOverview)[],
  socialOverview,
);
export const socialProgressionAssessment = fromSocial('social.progression-assessment.v1', PROGRESSION_FIELDS, (c) =>
  progressionAssessment(c, 'social-services'),
);
export const socialWholePersonPlan = fromSocial(
  'social.whole-person-plan.v1',
  ['plan', 'coordinatingCaseworker', 'nextCoordinationMeeting', 'goalAreas', 'participants'] satisfies (keyof WholePersonPlan)[],
  (c) => wholePersonPlan(c),
);

import https from 'node:https';
import type { RegisterRelationBody } from '../relations/requests.js';
import { postAsSystem, type GatewayClientOptions } from './gateway-client.js';
import { population, type SyntheticCitizen } from './population.js';

/**
 * The demo's relations register: the simulated case systems declare, through the gateway's API
 * (POST /v1/relations, mutual TLS and a request token, as a real case system would), which
 * citizens of the synthetic population they serve: the jobcentre every citizen it has a case
 * for, social services every open social case (and the support contact person where there is
 * one), and each administration's demo caseworker as the coordinating caseworker of the shared
 * citizens. A citizen the jobcentre serves and social services do not (an "employment-only"
 * citizen) has no social services relation, so social services' look-ups about them are refused
 * for need to know (README).
 */

/** The caseworker each simulated system names as the shared citizens' coordinating caseworker (the token CLI's default for SOF). */
export const DEMO_COORDINATORS = { 'bif-jobcentre-system': 'bif-cw-0007', 'sof-case-system': 'sof-cw-0042' } as const;

/** The shared citizen the README's walkthrough uses. */
export const README_CITIZEN = '3112799923';
/** A citizen the jobcentre serves and social services do not: the README shows social services refused for need to know. */
export const README_EMPLOYMENT_ONLY_CITIZEN = '1605859992';
const README_CITIZENS: readonly string[] = [README_CITIZEN, README_EMPLOYMENT_ONLY_CITIZEN];

export interface DemoRelation {
  readonly system: keyof typeof DEMO_COORDINATORS;
  readonly body: RegisterRelationBody;
}

/**
 * The relations the simulated systems register, in a fixed order. Case references are the
 * systems' own, made from the citizen's place in the population (never from the CPR number).
 * They start on the first day of `today`'s year, so the same bodies are sent all year.
 */
export function demoRelations(today: Date = new Date(), citizens: readonly SyntheticCitizen[] = population()): DemoRelation[] {
  const from = `${today.toISOString().slice(0, 4)}-01-01`;
  const out: DemoRelation[] = [];
  citizens.forEach((c, i) => {
    const n = String(i + 1).padStart(5, '0');
    if (c.employment !== null) {
      const benefit = c.employment.benefit;
      const capacity =
        benefit === 'sickness-benefit'
          ? 'sickness-benefit'
          : benefit === 'resource-course' || benefit === 'flex-job-benefit'
            ? 'rehabilitation-case'
            : 'cash-benefit';
      const caseworker = `bif-cw-${c.employment.caseworkerContact.name.slice(-4)}`;
      out.push({ system: 'bif-jobcentre-system', body: { cpr: c.cpr, capacity, caseRef: `BIF-DEMO-${n}`, caseworker, from } });
    }
    if (c.social?.openSocialCase === true) {
      out.push({ system: 'sof-case-system', body: { cpr: c.cpr, capacity: 'social-case', caseRef: `SOF-DEMO-${n}`, from } });
      if (c.social.supportContact !== null)
        out.push({
          system: 'sof-case-system',
          body: { cpr: c.cpr, capacity: 'support-contact-person', caseRef: `SOF-DEMO-${n}-SKP`, from },
        });
    }
    // The coordinating caseworkers: of one shared citizen in ten, and of the README's citizen.
    if (c.group === 'shared' && (i % 10 === 0 || c.cpr === README_CITIZEN)) {
      for (const [system, caseworker] of Object.entries(DEMO_COORDINATORS) as [DemoRelation['system'], string][]) {
        const prefix = system === 'sof-case-system' ? 'SOF' : 'BIF';
        out.push({
          system,
          body: { cpr: c.cpr, capacity: 'coordinating-caseworker', caseRef: `${prefix}-DEMO-${n}-KOR`, caseworker, from },
        });
      }
    }
  });
  return out;
}

/** Requests in flight while seeding: enough for the trail's group commit to share each fsync. */
const CONCURRENCY = 32;

export interface SeedSummary {
  /** Relations registered or changed now. */
  readonly written: number;
  /** Relations already as the demo has them. */
  readonly unchanged: number;
}

/**
 * Registers the demo's relations through the gateway, a few requests at a time. A system whose
 * last relation is already registered (a later `npm start` on the same data folder) is passed
 * over after one search, so a restart does not fill the trail with repeats; any other relation
 * already registered the same way answers `unchanged`. Throws on the first refusal, naming the
 * status and code (never the citizen).
 */
export async function seedDemoRelations(
  o: GatewayClientOptions & { readonly signal?: AbortSignal },
  all: readonly DemoRelation[] = demoRelations(),
): Promise<SeedSummary> {
  const agent = new https.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  let written = 0;
  let unchanged = 0;
  let next = 0;
  const done = new Set<string>();
  for (const system of Object.keys(DEMO_COORDINATORS) as DemoRelation['system'][]) {
    const last = all.filter((r) => r.system === system).at(-1);
    if (last === undefined) continue;
    const found = await postAsSystem(
      {
        system,
        path: '/v1/relations/search',
        body: JSON.stringify({ caseRef: last.body.caseRef }),
        purpose: 'plan-coordination',
        caseworker: DEMO_COORDINATORS[system],
        caseRef: last.body.caseRef,
      },
      { ...o, agent },
    );
    if (found.status === 200 && ((found.body as { relations?: unknown[] } | null)?.relations?.length ?? 0) > 0) done.add(system);
  }
  // The README's citizens first, so that the walkthrough works while the rest is registered.
  const first = (r: DemoRelation): number => (README_CITIZENS.includes(r.body.cpr) ? 0 : 1);
  const relations = all.filter((r) => !done.has(r.system)).sort((a, b) => first(a) - first(b));
  unchanged += all.length - relations.length;
  const worker = async (): Promise<void> => {
    while (next < relations.length && o.signal?.aborted !== true) {
      const r = relations[next++]!;
      const answer = await postAsSystem(
        {
          system: r.system,
          path: '/v1/relations',
          body: JSON.stringify(r.body),
          purpose: 'plan-coordination',
          caseworker: r.body.caseworker ?? DEMO_COORDINATORS[r.system],
          caseRef: r.body.caseRef,
        },
        { ...o, agent },
      );
      const outcome = (answer.body as { outcome?: string } | null)?.outcome;
      if (answer.status >= 300 || outcome === undefined) {
        const code = (answer.body as { code?: string } | null)?.code ?? 'no code';
        throw new Error(`the demo's relation ${r.body.caseRef} was refused by the gateway: ${answer.status} ${code}`);
      }
      if (outcome === 'unchanged') unchanged++;
      else written++;
    }
  };
  try {
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  } finally {
    agent.destroy();
  }
  return { written, unchanged };
}

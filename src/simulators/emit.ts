import { postAsSystem } from './gateway-client.js';
import { findCitizen } from './population.js';

/**
 * The simulated jobcentre system as a sender: it emits the two notifications from the papers
 * (a sanction notice, a copy of a meeting summons) about a citizen of the synthetic population,
 * through the gateway, with its own client certificate and signing key, as the real system
 * would. Used by `snitflade simulate` and the tests.
 */

export type SimulatedEvent = 'sanction-notice' | 'summons-copy';

export const EVENT_CONTRACTS: Readonly<
  Record<SimulatedEvent, { readonly contract: string; readonly purpose: string; readonly sender: string }>
> = {
  'sanction-notice': { contract: 'employment.sanction-notice.v1', purpose: 'sanction-notice', sender: 'bif-jobcentre-system' },
  'summons-copy': { contract: 'employment.summons-copy.v1', purpose: 'summons-copy', sender: 'bif-jobcentre-system' },
};

const isoDay = (d: Date): string => d.toISOString().slice(0, 10);

/**
 * The event the jobcentre would send for this citizen, from its record: a sanction today on the
 * citizen's benefit, or a summons to the citizen's next meeting (or one in a week). Throws a
 * TypeError when the jobcentre has no case for the citizen.
 */
export function simulatedEvent(kind: SimulatedEvent, cpr: string, today: Date = new Date()): Record<string, unknown> {
  const record = findCitizen(cpr)?.employment;
  if (!record)
    throw new TypeError(
      'the simulated jobcentre has no case for this citizen (use a CPR number of the synthetic population with a jobcentre case)',
    );
  if (kind === 'sanction-notice') {
    const last = record.sanctions[record.sanctions.length - 1];
    return {
      sanctionDate: isoDay(today),
      sanctionType: last?.type ?? 'reduction',
      amountDkk: last?.amountDkk ?? 1200,
      benefit: record.benefit,
      jobcentreUnit: record.jobcentreUnit,
      caseworkerContact: record.caseworkerContact,
      caseworkerNote: 'Internal note (simulated): the citizen did not attend two meetings.',
    };
  }
  const meeting = record.nextMeeting ?? { date: isoDay(new Date(today.getTime() + 7 * 86_400_000)), kind: 'follow-up' as const };
  return {
    meetingDate: meeting.date,
    meetingTime: '10:00',
    meetingKind: meeting.kind,
    location: record.jobcentreUnit,
    jobcentreUnit: record.jobcentreUnit,
    caseworkerContact: record.caseworkerContact,
  };
}

export interface EmitOptions {
  readonly gatewayUrl: string;
  readonly certsDir: string;
  readonly gatewayId?: string;
  readonly caseworker?: string;
  readonly caseRef?: string;
  readonly timeoutMs?: number;
  /** Sent as the Idempotency-Key header: the same key and body sent again are answered once. */
  readonly idempotencyKey?: string;
}

/** Sends the event through the gateway; resolves the HTTP status and the parsed answer. */
export async function emitNotification(
  kind: SimulatedEvent,
  cpr: string,
  o: EmitOptions,
  event: Record<string, unknown> = simulatedEvent(kind, cpr),
): Promise<{ status: number; body: unknown }> {
  const { contract, purpose, sender } = EVENT_CONTRACTS[kind];
  return postAsSystem(
    {
      system: sender,
      path: `/v1/notifications/${contract}`,
      body: JSON.stringify({ cpr, event }),
      purpose,
      caseworker: o.caseworker ?? 'bif-cw-0007',
      caseRef: o.caseRef ?? 'BIF-2026-0001',
      headers: o.idempotencyKey !== undefined ? { 'idempotency-key': o.idempotencyKey } : {},
    },
    o,
  );
}

import type { DayCount, DayRange, DpoStore, KeyCount, ReasonCount } from '../store/dpo-types.js';
import { copenhagenDayStart, nextDay } from '../store/dpo-rollup.js';
import type { Store } from '../store/types.js';

export type { CaseworkerActivity, DayRange, OffHoursLookup, ReasonCount, WithheldCount } from '../store/dpo-types.js';
/** Days are Copenhagen calendar days ("YYYY-MM-DD"), as the rollups count them. */
export { copenhagen, copenhagenDayStart, nextDay, OFFICE_HOURS } from '../store/dpo-rollup.js';

/**
 * The DPO's statistics: what the daily rollups of the trail say about a period of days (the
 * catch-up pass in rollups.ts counts them), and the look-ups the anomaly rules need besides.
 * The DPO pages read the rollups through this and nothing else.
 *
 * @example
 * const statistics = statisticsOf(store);
 * const traffic = await statistics.traffic({ fromDay: '2026-02-01', toDay: '2026-02-28' });
 */

/** Requests and refusals in a period: per day, per calling system, contract and purpose, and the refusals per reason. */
export interface Traffic {
  readonly days: readonly DayCount[];
  readonly byCaller: readonly KeyCount[];
  readonly byContract: readonly KeyCount[];
  readonly byPurpose: readonly KeyCount[];
  readonly reasons: readonly ReasonCount[];
}

/** A release that relied on a consent that was withdrawn afterwards. */
export interface WithdrawnConsentUse {
  readonly consentId: string;
  readonly withdrawnAt: string;
  readonly uses: readonly { readonly recordId: string; readonly time: string; readonly callerSystem: string; readonly contract: string }[];
}

/** The rollups the anomaly rules read. */
export type AnomalySource = Pick<DpoStore, 'caseworkers' | 'reasons' | 'withheld' | 'offHours'>;

export interface Statistics extends AnomalySource {
  traffic(range: DayRange): Promise<Traffic>;
  /** The consents withdrawn in the period (at most 200), each with the releases that relied on it before. */
  withdrawnConsentUses(range: DayRange): Promise<WithdrawnConsentUse[]>;
}

export function statisticsOf(store: Pick<Store, 'dpo' | 'consents'>): Statistics {
  const dpo = store.dpo;
  return {
    caseworkers: (range) => dpo.caseworkers(range),
    reasons: (range) => dpo.reasons(range),
    withheld: (range) => dpo.withheld(range),
    offHours: (from, to, limit) => dpo.offHours(from, to, limit),
    async traffic(range) {
      const [days, byCaller, byContract, byPurpose, reasons] = await Promise.all([
        dpo.trafficByDay(range),
        dpo.trafficBy('callerSystem', range),
        dpo.trafficBy('contract', range),
        dpo.trafficBy('purpose', range),
        dpo.reasons(range),
      ]);
      return { days, byCaller, byContract, byPurpose, reasons };
    },
    async withdrawnConsentUses(range) {
      const withdrawals = await dpo.consentWithdrawals(copenhagenDayStart(range.fromDay), copenhagenDayStart(nextDay(range.toDay)), 200);
      if (withdrawals.length === 0) return [];
      const uses = await dpo.consentUses(
        withdrawals.map((w) => w.consent),
        1000,
      );
      const out: WithdrawnConsentUse[] = [];
      for (const w of withdrawals) {
        const consents = await store.consents.bySubject([w.subject]);
        const id = consents.find((s) => s.consent.receiptDigest === w.consent)?.consent.id ?? w.consent.slice(0, 12);
        out.push({ consentId: id, withdrawnAt: w.time, uses: uses.filter((u) => u.consent === w.consent && u.time <= w.time) });
      }
      return out;
    },
  };
}

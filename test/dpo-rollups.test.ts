/**
 * The DPO rollups' background catch-up (src/audit/rollups.ts): it runs by itself on a
 * schedule, so the rollups follow the trail without anyone viewing a page; it stops when told
 * (and with the gateway) without touching the store again; and a page view still catches up
 * first. The timer is jest's (only setInterval is faked), so nothing here waits for the clock.
 */
import { jest } from '@jest/globals';
import { AuditTrail } from '../src/audit/trail.js';
import type { AuditEntry } from '../src/audit/types.js';
import { RollupCatchUp } from '../src/audit/rollups.js';
import type { Store } from '../src/store/types.js';
import { auditEntry, testPseudonyms } from './support/audit-entries.js';
import { waitFor } from './support/calls.js';
import { sqliteDatabase, type TestDatabase } from './support/databases.js';
import { startTestEnv } from './support/env.js';

jest.setTimeout(60_000);

const DAY = { fromDay: '2026-09-01', toDay: '2026-09-01' };

/** Entry n of a planted trail: caseworkers cw-0, cw-1 and cw-2 in turn, up to 100 citizens. */
const entry = (n: number): AuditEntry =>
  auditEntry({ caseworker: `cw-${n % 3}`, subject: testPseudonyms.pseudonym(`01019099${String(n % 100).padStart(2, '0')}`) });

async function plant(store: Store, chain: string, n: number): Promise<number> {
  const trail = await AuditTrail.open(store, { chain, now: () => new Date('2026-09-01T08:00:00.000Z') });
  const records = await trail.appendMany(Array.from({ length: n }, (_, i) => entry(i)));
  await trail.close();
  return records[records.length - 1]!.seq;
}

const watermark = async (store: Store, chain: string): Promise<number> => (await store.dpo.rollupWatermarks()).get(chain) ?? 0;

describe('the background catch-up', () => {
  let db: TestDatabase;
  let store: Store;
  beforeEach(async () => {
    db = await sqliteDatabase('dpo-rollups');
    store = await db.open();
    jest.useFakeTimers({
      doNotFake: [
        'Date',
        'hrtime',
        'nextTick',
        'performance',
        'queueMicrotask',
        'setImmediate',
        'clearImmediate',
        'setTimeout',
        'clearTimeout',
      ],
    });
  });
  afterEach(async () => {
    jest.useRealTimers();
    await db.cleanup();
  });

  it('counts what was appended at each tick, without a page view, in pages', async () => {
    const head = await plant(store, 'gw-tick', 25);
    const errors: unknown[] = [];
    const rollups = new RollupCatchUp(store, { pageSize: 4 });
    rollups.start({ everyMs: 2000, onError: (err) => errors.push(err) });
    expect(jest.getTimerCount()).toBe(1);
    jest.advanceTimersByTime(1999);
    expect(rollups.running).toBe(false);
    jest.advanceTimersByTime(1);
    expect(rollups.running).toBe(true);
    await waitFor('the pass to end', () => !rollups.running);
    expect(await watermark(store, 'gw-tick')).toBe(head);
    expect(await store.dpo.trafficByDay(DAY)).toEqual([{ day: DAY.fromDay, requests: 25, refused: 0 }]);
    // New records are counted at the next tick.
    const next = await plant(store, 'gw-tick', 3);
    jest.advanceTimersByTime(2000);
    await waitFor('the pass to end', () => !rollups.running);
    expect(await watermark(store, 'gw-tick')).toBe(next);
    expect(await store.dpo.trafficByDay(DAY)).toEqual([{ day: DAY.fromDay, requests: 28, refused: 0 }]);
    await rollups.stop();
    expect(errors).toEqual([]);
  });

  it('stops: no more ticks, the pass in progress ends before its next page, and the store can close under it', async () => {
    const head = await plant(store, 'gw-stop', 40);
    const errors: unknown[] = [];
    const rollups = new RollupCatchUp(store, { pageSize: 4 });
    rollups.start({ everyMs: 1000, onError: (err) => errors.push(err) });
    jest.advanceTimersByTime(1000);
    expect(rollups.running).toBe(true);
    await rollups.stop();
    expect(rollups.running).toBe(false);
    expect(jest.getTimerCount()).toBe(0);
    const counted = await watermark(store, 'gw-stop');
    expect(counted).toBeLessThan(head);
    await store.close();
    jest.advanceTimersByTime(60_000);
    rollups.background((err) => errors.push(err)); // a page view after shutdown starts nothing
    expect(rollups.running).toBe(false);
    expect(errors).toEqual([]);
    const reopened = await db.open();
    expect(await watermark(reopened, 'gw-stop')).toBe(counted);
  });

  it("lets a page catch up at once, and queues a page's pass behind the scheduled one", async () => {
    const head = await plant(store, 'gw-view', 30);
    const rollups = new RollupCatchUp(store, { pageSize: 4 });
    rollups.start({ everyMs: 2000, onError: () => undefined });
    jest.advanceTimersByTime(2000);
    expect(rollups.running).toBe(true);
    const more = await plant(store, 'gw-view', 5);
    expect(await rollups.run(1000)).toBe(0); // after the scheduled pass, then the rest
    expect(await watermark(store, 'gw-view')).toBe(more);
    expect(more).toBe(head + 5);
    expect(await store.dpo.trafficByDay(DAY)).toEqual([{ day: DAY.fromDay, requests: 35, refused: 0 }]);
    await rollups.stop();
  });
});

describe('one pass', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await sqliteDatabase('dpo-rollups-pass');
  });
  afterAll(async () => {
    await db.cleanup();
  });

  it('counts up to the heads it found when it started, in full pages, not what is appended meanwhile', async () => {
    const store = await db.open();
    const head = await plant(store, 'gw-steady', 10);
    const trail = await AuditTrail.open(store, { chain: 'gw-steady', now: () => new Date('2026-09-01T08:00:00.000Z') });
    let batches = 0;
    // Steady traffic: a record is appended while each page is being read.
    const busy = {
      ...store,
      audit: {
        ...store.audit,
        range: async (chain: string, fromSeq: number, limit: number) => {
          const page = await store.audit.range(chain, fromSeq, limit);
          await trail.append(entry(fromSeq));
          return page;
        },
        chains: () => store.audit.chains(),
        head: (chain: string) => store.audit.head(chain),
      },
      dpo: {
        ...store.dpo,
        rollupWatermarks: () => store.dpo.rollupWatermarks(),
        addToRollups: (batch: Parameters<Store['dpo']['addToRollups']>[0]) => {
          batches += 1;
          return store.dpo.addToRollups(batch);
        },
      },
    } as unknown as Store;
    expect(await new RollupCatchUp(busy, { pageSize: 4 }).run(1000)).toBe(0);
    expect(batches).toBe(3); // 4 + 4 + 2
    expect(await watermark(store, 'gw-steady')).toBe(head);
    expect((await store.audit.head('gw-steady'))!.seq).toBe(head + 3);
    await trail.close();
    await store.close();
  });
});

describe('the gateway', () => {
  it('keeps the rollups counting in the background while it runs, and stops them when it closes', async () => {
    const env = await startTestEnv({ name: 'dpo-rollups', simulators: false });
    const { gateway } = env;
    let closed = false;
    try {
      const records = await gateway.trail.appendMany([entry(1), entry(2), entry(3)]);
      const last = records[records.length - 1]!;
      await waitFor('the rollups to count the new records', async () => (await watermark(gateway.store, last.chain)) >= last.seq, 20_000);
      await env.close();
      closed = true;
      expect(gateway.rollups.running).toBe(false);
      gateway.rollups.background(() => undefined);
      expect(gateway.rollups.running).toBe(false);
    } finally {
      if (!closed) await env.close();
    }
  });
});

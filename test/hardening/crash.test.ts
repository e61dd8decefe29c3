/**
 * Crash safety: the gateway (a child process) is killed with SIGKILL under concurrent load of
 * queries, refusals and notifications, then started again on the same store. Every audit id any
 * client received in an answer is in the trail, the trail verifies, and every notification the
 * gateway acknowledged with 202 reaches its recipient; the trail's QUEUED records and the outbox's
 * deliveries are the same set, whatever the kill cut short. On SQLite and on PostgreSQL.
 */
import { jest } from '@jest/globals';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { verifyChain } from '../../src/audit/verify.js';
import { emitNotification } from '../../src/simulators/emit.js';
import { population } from '../../src/simulators/population.js';
import { NotificationInbox, startSimulator, type Simulator } from '../../src/simulators/server.js';
import type { Store } from '../../src/store/types.js';
import { waitFor } from '../support/calls.js';
import { DATABASES, type TestDatabase } from '../support/databases.js';
import { ROOT, testCerts } from '../support/env.js';
import { startChildGateway, type ChildGateway } from '../support/child-gateway.js';
import { SERVED_BY_BOTH, withRelations } from '../support/relations.js';
import { clientCreds, send, tokenWith } from './support.js';

jest.setTimeout(120_000);

const STATUS = '/v1/queries/employment.citizen-status.v1';
/** The citizens asked about and notified of: both administrations serve them (need to know), registered before the load. */
const withJob = population()
  .filter((c) => c.employment !== null)
  .slice(0, 40);

/** What a client was told: an audit id, and what kind of answer carried it. */
interface Receipt {
  readonly auditId: string;
  readonly kind: 'released' | 'refused' | 'notification';
}

describe.each(DATABASES)('SIGKILL under load on %s', (name, makeDatabase) => {
  let db: TestDatabase;
  let store: Store;
  let certs: string;
  let bif: Simulator;
  let sof: Simulator;
  const inbox = new NotificationInbox();
  const children: ChildGateway[] = [];

  beforeAll(async () => {
    certs = await testCerts();
    db = await makeDatabase(`crash_${name.toLowerCase()}`);
    bif = await startSimulator({ system: 'bif-jobcentre-system', port: 0, certsDir: certs });
    sof = await startSimulator({ system: 'sof-case-system', port: 0, certsDir: certs, inbox });
  });
  afterAll(async () => {
    for (const c of children) await c.kill();
    await bif?.close();
    await sof?.close();
    await db?.cleanup();
  });

  it('keeps every audit id a client received, a verifiable trail, and every acknowledged notification', async () => {
    const instanceId = `gw-crash-${name.toLowerCase()}`;
    const config = {
      instanceId,
      listen: { host: '127.0.0.1', port: 0 },
      paths: { certs, data: mkdtempSync(path.join(os.tmpdir(), 'snitflade-crash-')) },
      store: db.storeConfig,
      endpoints: { 'bif-jobcentre-system': bif.url, 'sof-case-system': sof.url },
      upstream: { timeoutMs: 2000, maxResponseBytes: 1_048_576 },
      limits: { ratePerSecond: 100_000, burst: 100_000, concurrency: 1000 },
      notifications: { maxAttempts: 1000, baseDelayMs: 50, maxDelayMs: 200, pollMs: 50, leaseMs: 3000 },
      log: {
        level: 'info' as const,
        console: false,
        file: path.join(ROOT, 'test-output', 'logs', `hardening-crash-${name.toLowerCase()}-${process.pid}.log`),
      },
    };
    const first = await startChildGateway(config);
    children.push(first);
    for (const c of withJob) await withRelations(first, c.cpr, SERVED_BY_BOTH);

    const receipts: Receipt[] = [];
    let stop = false;
    const queries = async (n: number): Promise<void> => {
      for (let i = 0; !stop; i++) {
        const c = withJob[(n * 97 + i) % withJob.length]!;
        const body = JSON.stringify({ cpr: c.cpr, fields: ['targetGroup', 'incomeSupport'] });
        const purpose = i % 5 === 4 ? 'curiosity' : 'plan-coordination'; // every fifth is refused, audited
        try {
          const res = await send(first.url, {
            path: STATUS,
            headers: {
              'content-type': 'application/json',
              authorization: `Bearer ${tokenWith('sof-case-system', STATUS, body, { claims: { purpose } })}`,
            },
            body,
            creds: clientCreds('sof-case-system'),
          });
          if (res.status === 200) receipts.push({ auditId: res.json.disclosure.auditId, kind: 'released' });
          else if (typeof res.json?.auditId === 'string') receipts.push({ auditId: res.json.auditId, kind: 'refused' });
        } catch {
          return; // the gateway is gone
        }
      }
    };
    const notifications = async (n: number): Promise<void> => {
      for (let i = 0; !stop; i++) {
        const c = withJob[(n * 31 + i * 7 + 500) % withJob.length]!;
        try {
          const res = await emitNotification('sanction-notice', c.cpr, { gatewayUrl: first.url, certsDir: certs });
          if (res.status === 202) receipts.push({ auditId: (res.body as { auditId: string }).auditId, kind: 'notification' });
        } catch {
          return;
        }
      }
    };
    const load = [...Array.from({ length: 6 }, (_, n) => queries(n)), ...Array.from({ length: 2 }, (_, n) => notifications(n))];
    await waitFor('answers under load', () => receipts.length >= 80 && receipts.some((r) => r.kind === 'notification'), 60_000);

    await first.kill(); // SIGKILL, in the middle of it all
    stop = true;
    await Promise.all(load);
    const told = [...receipts];

    const second = await startChildGateway(config);
    children.push(second);
    store = await db.open();

    const missing: Receipt[] = [];
    for (const r of told) {
      const { records } = await store.audit.search({ auditId: r.auditId, limit: 20 });
      if (records.length === 0) missing.push(r);
      if (r.kind === 'released') expect(records.map((x) => x.kind)).toEqual(expect.arrayContaining(['decision', 'release']));
      if (r.kind === 'refused') expect(records.map((x) => x.kind)).toContain('refusal');
    }
    expect(missing).toEqual([]);
    // The trail and the outbox agree, wherever the kill fell: every QUEUED record has its delivery
    // and every delivery its QUEUED record (they are one commit), acknowledged or not.
    const queued: string[] = [];
    for (let after: string | undefined, page = 0; page === 0 || after !== undefined; page++) {
      const found = await store.audit.search({
        kind: 'notification',
        reason: 'QUEUED',
        limit: 500,
        ...(after !== undefined ? { after } : {}),
      });
      queued.push(...found.records.map((r) => `${r.auditId} ${r.recipient?.system}`));
      after = found.next;
    }
    const rows: string[] = [];
    for (let after: string | undefined, page = 0; page === 0 || after !== undefined; page++) {
      const found = await store.outbox.list({ limit: 200, ...(after !== undefined ? { after } : {}) });
      rows.push(...found.deliveries.map((d) => `${d.auditId} ${d.recipient.system}`));
      after = found.next;
    }
    expect(queued.length).toBeGreaterThan(0);
    expect(new Set(rows)).toEqual(new Set(queued));
    expect(rows).toHaveLength(queued.length);
    const verified = await verifyChain(store, instanceId);
    expect(verified).toMatchObject({ ok: true });

    // Every notification acknowledged with 202 reaches social services (the restarted gateway delivers what was left).
    const acknowledged = told.filter((r) => r.kind === 'notification').map((r) => r.auditId);
    await waitFor(
      'every acknowledged notification delivered',
      () => acknowledged.every((id) => inbox.received.some((n) => n.auditId === id)),
      60_000,
    );

    // The restarted gateway serves, and continues the chain.
    const body = JSON.stringify({ cpr: withJob[0]!.cpr, fields: ['targetGroup'] });
    const after = await send(second.url, {
      path: STATUS,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${tokenWith('sof-case-system', STATUS, body)}` },
      body,
      creds: clientCreds('sof-case-system'),
    });
    expect(after.status).toBe(200);
    expect((await verifyChain(store, instanceId)).ok).toBe(true);
    process.stdout.write(
      `\ncrash (${name}): ${told.length} audit ids received before SIGKILL (${acknowledged.length} notifications), all in the trail after restart\n`,
    );
  });
});

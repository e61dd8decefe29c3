/**
 * A gateway restart loses nothing, on SQLite and on PostgreSQL. The gateway runs as a child
 * process and is killed with SIGKILL (no graceful stop, nothing flushed on the way out); the
 * simulated social services system keeps its inbox across its own outage, as a real recipient
 * keeps its data, and deduplicates on the Idempotency-Key.
 */
import { jest } from '@jest/globals';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ConfigInput } from '../src/config/config.js';
import { emitNotification } from '../src/simulators/emit.js';
import { population } from '../src/simulators/population.js';
import { NotificationInbox, startSimulator, type Simulator } from '../src/simulators/server.js';
import type { Store } from '../src/store/types.js';
import { waitFor } from './support/calls.js';
import { startChildGateway, type ChildGateway } from './support/child-gateway.js';
import { DATABASES, type TestDatabase } from './support/databases.js';
import { ROOT, testCerts } from './support/env.js';
import { withRelations, type RelationSpec } from './support/relations.js';

jest.setTimeout(120_000);

const withJob = population().filter((c) => c.employment !== null);
/** Need to know: social services serve the citizen, so the sanction notice goes to them. */
const SOCIAL_CASE: readonly RelationSpec[] = [{ administration: 'SOF', capacity: 'social-case' }];

describe.each(DATABASES)('a gateway restart on %s', (name, makeDatabase) => {
  let db: TestDatabase;
  let store: Store;
  let certsDir: string;
  let sof: Simulator | undefined;
  let port: number;
  const inbox = new NotificationInbox();
  const children: ChildGateway[] = [];
  let overrides: ConfigInput;

  beforeAll(async () => {
    certsDir = await testCerts();
    db = await makeDatabase(`restart_${name.toLowerCase()}`);
    store = await db.open();
    // Learn a free port for social services, then keep it.
    const probe = await startSimulator({ system: 'sof-case-system', port: 0, certsDir, inbox });
    port = probe.port;
    await probe.close();
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'snitflade-restart-'));
    overrides = {
      instanceId: `gw-restart-${name.toLowerCase()}`,
      listen: { host: '127.0.0.1', port: 0 },
      paths: { certs: certsDir, data: dataDir },
      store: db.storeConfig,
      endpoints: { 'sof-case-system': `https://localhost:${port}` },
      upstream: { timeoutMs: 3000, maxResponseBytes: 1048576 },
      notifications: { maxAttempts: 1000, baseDelayMs: 50, maxDelayMs: 200, pollMs: 50, leaseMs: 6000 },
      log: {
        level: 'debug',
        console: false,
        file: path.join(ROOT, 'test-output', 'logs', `restart-${name.toLowerCase()}-${process.pid}-${Date.now()}.log`),
      },
    };
  });
  afterAll(async () => {
    for (const c of children) await c.kill();
    await sof?.close();
    await db?.cleanup();
  });

  const start = async (): Promise<ChildGateway> => {
    const child = await startChildGateway(overrides);
    children.push(child);
    return child;
  };
  const deliveryOf = async (auditId: string) => (await store.outbox.list({ auditId, limit: 10 })).deliveries[0];

  it('a sanction notice sent while social services are down reaches them once they are back, exactly once, though the gateway was killed in between', async () => {
    const c = withJob[42]!;
    const first = await start();
    await withRelations(first, c.cpr, SOCIAL_CASE);
    const res = await emitNotification('sanction-notice', c.cpr, { gatewayUrl: first.url, certsDir });
    expect(res.status).toBe(202);
    const { auditId } = res.body as { auditId: string };

    // Social services are down: the gateway keeps trying.
    await waitFor('a few failed attempts', async () => ((await deliveryOf(auditId))?.attempts ?? 0) >= 3);
    expect(await deliveryOf(auditId)).toMatchObject({ lastError: 'RECIPIENT_UNREACHABLE' });
    await first.kill();

    sof = await startSimulator({ system: 'sof-case-system', port, certsDir, inbox });
    expect(inbox.received.filter((n) => n.auditId === auditId)).toEqual([]); // nobody is left to deliver it

    await start();
    await waitFor('delivered by the restarted gateway', async () => (await deliveryOf(auditId))?.state === 'delivered');
    const got = inbox.received.filter((n) => n.auditId === auditId);
    expect(got).toHaveLength(1);
    expect(got[0]).toMatchObject({ cpr: c.cpr, contract: 'employment.sanction-notice.v1' });
    expect((await deliveryOf(auditId))?.payload).toBeNull();
    const trail = (await store.audit.search({ auditId, limit: 10 })).records.map((r) => r.reasons[0]).reverse();
    expect(trail).toEqual(['QUEUED', 'DELIVERED']);
  });

  it('a delivery in flight when the gateway is killed is sent again by the restarted instance, and kept once', async () => {
    const c = withJob[43]!;
    for (const child of children) await child.kill();
    sof ??= await startSimulator({ system: 'sof-case-system', port, certsDir, inbox });
    // The recipient takes the notice in but its answer never arrives: the gateway is killed first.
    inbox.loseAcknowledgements(0);
    sof.setFault({ kind: 'delay', ms: 1500 });
    const gw = await start();
    await withRelations(gw, c.cpr, SOCIAL_CASE);
    const res = await emitNotification('sanction-notice', c.cpr, { gatewayUrl: gw.url, certsDir });
    expect(res.status).toBe(202);
    const { auditId } = res.body as { auditId: string };
    await waitFor('the delivery is in flight', async () => (await deliveryOf(auditId))?.state === 'delivering');
    await gw.kill();
    sof.setFault(null);

    await start(); // gives back its own stale lease at once instead of waiting for it to run out
    await waitFor('delivered by the restarted gateway', async () => (await deliveryOf(auditId))?.state === 'delivered');
    expect(inbox.received.filter((n) => n.auditId === auditId)).toHaveLength(1);
    expect((await deliveryOf(auditId))?.attempts).toBeGreaterThanOrEqual(2);
  });
});

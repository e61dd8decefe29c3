/**
 * The chain lease survives its operators: two real gateway processes with the same instance id,
 * a database restart between them, a process paused and a process killed. Whatever the timing,
 * one chain has one writer at a time: a second process cannot take a chain a live process holds;
 * one that lost its lease writes and seals nothing (503) while another holds it; every record a
 * client was answered for is in the trail, and the whole trail, checkpoints included, verifies.
 */
import { jest } from '@jest/globals';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { GatewayConfig } from '../../src/config/config.js';
import { loadCheckpointKeys } from '../../src/audit/services.js';
import { verifyTrail } from '../../src/audit/verify-trail.js';
import { population } from '../../src/simulators/population.js';
import { startSimulator, type Simulator } from '../../src/simulators/server.js';
import { openStore } from '../../src/store/index.js';
import { waitFor } from '../support/calls.js';
import { startChildGateway, type ChildGateway } from '../support/child-gateway.js';
import { SERVED_BY_BOTH, withRelations } from '../support/relations.js';
import { ROOT, testCerts } from '../support/env.js';
import { createTestDatabase, type TestDatabase } from './pg.js';
import { caOnly, clientCreds, send, tokenWith, type Answer } from './support.js';

jest.setTimeout(120_000);

const STATUS = '/v1/queries/employment.citizen-status.v1';
/** The citizens asked about: both administrations serve them (need to know), registered by `serve` in each store. */
const withJob = population()
  .filter((c) => c.employment !== null)
  .slice(0, 16);
const serve = async (gateway: ChildGateway): Promise<void> => {
  for (const c of withJob) await withRelations(gateway, c.cpr, SERVED_BY_BOTH);
};

let certs: string;
let bif: Simulator;
const children: ChildGateway[] = [];
let pgDb: TestDatabase | undefined;

beforeAll(async () => {
  certs = await testCerts();
  bif = await startSimulator({ system: 'bif-jobcentre-system', port: 0, certsDir: certs });
});
afterAll(async () => {
  for (const c of children) {
    if (c.process.signalCode === null && c.process.exitCode === null) c.process.kill('SIGCONT');
    await c.kill();
  }
  await bif?.close();
  await pgDb?.drop();
});

function gatewayConfig(instanceId: string, store: { kind: 'sqlite'; file: string } | { kind: 'postgres'; url: string }) {
  return {
    instanceId,
    listen: { host: '127.0.0.1', port: 0 },
    paths: { certs, data: mkdtempSync(path.join(os.tmpdir(), 'snitflade-lease-')) },
    store,
    endpoints: { 'bif-jobcentre-system': bif.url },
    upstream: { timeoutMs: 2000, maxResponseBytes: 1_048_576 },
    limits: { ratePerSecond: 100_000, burst: 100_000, concurrency: 1000 },
    notifications: { worker: false },
    audit: { checkpointEveryRecords: 5, checkpointEverySeconds: 1 },
    log: {
      level: 'info' as const,
      console: false,
      file: path.join(ROOT, 'test-output', 'logs', `hardening-leases-${instanceId}-${process.pid}.log`),
    },
  };
}

async function start(config: ReturnType<typeof gatewayConfig>, options: { hostname?: string } = {}): Promise<ChildGateway> {
  const child = await startChildGateway(config, options);
  children.push(child);
  return child;
}

let asked = 0;
function query(gateway: ChildGateway): Promise<Answer> {
  const c = withJob[asked++ % withJob.length]!;
  const body = JSON.stringify({ cpr: c.cpr, fields: ['targetGroup'] });
  return send(gateway.url, {
    path: STATUS,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${tokenWith('sof-case-system', STATUS, body)}` },
    body,
    creds: clientCreds('sof-case-system'),
  });
}

/** The audit id of every answer that released data. */
const released = (answers: readonly Answer[]): string[] =>
  answers.filter((a) => a.status === 200).map((a) => a.json.disclosure.auditId as string);

async function stop(child: ChildGateway): Promise<void> {
  child.process.kill('SIGTERM'); // seals what is left, as a deployment's stop does
  await child.exited;
}

/** Every audit id answered for has its release record, and the whole trail verifies, signatures and checkpoint chain included. */
async function expectAccountedAndVerified(
  storeConfig: { kind: 'sqlite'; file: string } | { kind: 'postgres'; url: string },
  auditIds: readonly string[],
  chain: string,
): Promise<void> {
  const store = await openStore(storeConfig);
  try {
    const missing: string[] = [];
    for (const id of auditIds) {
      const { records } = await store.audit.search({ auditId: id, kind: 'release', limit: 2 });
      if (records.length !== 1) missing.push(id);
    }
    expect(missing).toEqual([]);
    const { verifier } = await loadCheckpointKeys({ paths: { certs }, audit: { previousSigningKeys: [] } } as unknown as GatewayConfig);
    const report = await verifyTrail({ store, verifier });
    expect(report.chains.map((c) => ({ chain: c.chain, ok: c.ok, problem: c.problem }))).toEqual([{ chain, ok: true, problem: undefined }]);
    expect(report.ok).toBe(true);
    expect(report.chains[0]!.checkpoints).toBeGreaterThan(1);
  } finally {
    await store.close();
  }
}

/** The readiness detail, as the operators read it. */
async function readiness(gateway: ChildGateway): Promise<Answer> {
  return send(gateway.url, { method: 'GET', path: '/v1/admin/readiness', creds: clientCreds('ops-console') });
}

it('PostgreSQL: a paused gateway whose database restarted, while a second one with its instance id took the chain, writes and seals nothing more; the trail does not fork', async () => {
  pgDb = await createTestDatabase('hardening_lease');
  const storeConfig = { kind: 'postgres' as const, url: pgDb.url };
  const config = gatewayConfig('gw-x', storeConfig);
  const a = await start(config);
  await serve(a);
  const answers: Answer[] = [];
  for (let i = 0; i < 3; i++) answers.push(...(await Promise.all(Array.from({ length: 4 }, () => query(a)))));
  expect(answers.map((r) => r.status)).toEqual(Array(12).fill(200));

  // While a runs, nobody else can take its chain.
  await expect(start(config)).rejects.toThrow(/chain gw-x is held by another running gateway instance/);

  // a stalls (as a process can: a long pause, a frozen VM) with requests in flight; the database restarts under it.
  a.process.kill('SIGSTOP');
  const inFlight = Array.from({ length: 4 }, () => query(a).catch(() => undefined));
  await new Promise((resolve) => setTimeout(resolve, 200));
  expect(await pgDb.terminate()).toBeGreaterThan(0);
  // The chain is free for a moment: a second process with the same instance id takes it and serves.
  // (Terminating a backend is asynchronous: the first try may still find a's lock.)
  const b = await waitFor('b takes the chain', () => start(config).catch(() => undefined), 30_000);
  const fromB: Answer[] = [];
  for (let i = 0; i < 4; i++) fromB.push(await query(b));
  expect(fromB.map((r) => r.status)).toEqual([200, 200, 200, 200]);

  a.process.kill('SIGCONT');
  const late = (await Promise.all(inFlight)).filter((r): r is Answer => r !== undefined);
  // Refused by the store, at the audit write or (the connection gone under it) at the need-to-know read before it.
  expect(late.every((r) => r.status === 503 && ['AUDIT_UNAVAILABLE', 'RELATION_REGISTER_UNAVAILABLE'].includes(String(r.json.code)))).toBe(
    true,
  );
  // a knows it lost the chain and stays out: not ready, 503 for every exchange, while b goes on; both run for a few seconds (several checkpoint ticks).
  const ready = await waitFor('a reports its lease lost', async () => {
    const r = await readiness(a);
    return r.json?.chain?.lease === 'lost' ? r : undefined;
  });
  expect(ready.status).toBe(503);
  expect((await send(a.url, { method: 'GET', path: '/readyz', creds: caOnly() })).json).toEqual({
    ready: false,
    reasons: expect.arrayContaining(['audit-chain-lease-lost']),
  });
  for (let i = 0; i < 8; i++) {
    const [fromA, more] = await Promise.all([query(a), query(b)]);
    expect({ status: fromA.status, code: fromA.json.code }).toEqual({ status: 503, code: 'AUDIT_UNAVAILABLE' });
    expect(more.status).toBe(200);
    fromB.push(more);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  expect((await readiness(b)).json.chain).toEqual({ id: 'gw-x', lease: 'held' });

  await stop(a);
  await stop(b);
  await expectAccountedAndVerified(storeConfig, [...released(answers), ...released(late), ...released(fromB)], 'gw-x');
});

it('SQLite: after SIGKILL, a gateway on another host name (a recreated container) takes the chain at once; while one runs, no other can', async () => {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'snitflade-lease-sqlite-')), 'snitflade.db');
  const storeConfig = { kind: 'sqlite' as const, file };
  const config = gatewayConfig('gw-y', storeConfig);
  const a = await start(config);
  await serve(a);
  const answers = await Promise.all(Array.from({ length: 8 }, () => query(a)));
  expect(answers.map((r) => r.status)).toEqual(Array(8).fill(200));

  // Another process on the same data folder, whatever its host name, is refused while a lives.
  await expect(start(config, { hostname: 'recreated-container' })).rejects.toThrow(/chain gw-y is held by another running gateway process/);

  await a.kill(); // SIGKILL: nothing released on the way out, but the kernel drops its locks
  const b = await start(config, { hostname: 'recreated-container' });
  const after = await Promise.all(Array.from({ length: 4 }, () => query(b)));
  expect(after.map((r) => r.status)).toEqual([200, 200, 200, 200]);
  expect((await readiness(b)).json.chain).toEqual({ id: 'gw-y', lease: 'held' });
  await stop(b);
  await expectAccountedAndVerified(storeConfig, [...released(answers), ...released(after)], 'gw-y');
});

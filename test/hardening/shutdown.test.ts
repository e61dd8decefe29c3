/**
 * Graceful shutdown, with the production signal handling (src/server/shutdown.ts) in a child
 * process: SIGTERM stops accepting connections at once, lets the request in flight finish (its
 * release record durable before its answer), flushes the trail, and exits 0; a request that
 * outlives the grace period is cut off, nothing of it is released, and the process still exits 0.
 */
import { jest } from '@jest/globals';
import { mkdtempSync, readFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { verifyChain } from '../../src/audit/verify.js';
import { population } from '../../src/simulators/population.js';
import { startSimulator, type Simulator } from '../../src/simulators/server.js';
import { openStore } from '../../src/store/index.js';
import { ROOT, testCerts } from '../support/env.js';
import { startChildGateway, type ChildGateway } from '../support/child-gateway.js';
import { SERVED_BY_BOTH, withRelations } from '../support/relations.js';
import { clientCreds, send, tokenWith, type Answer } from './support.js';

jest.setTimeout(90_000);

const STATUS = '/v1/queries/employment.citizen-status.v1';
const citizen = population().find((c) => c.employment && !c.extras.employment)!;

let bif: Simulator;
let certs: string;
beforeAll(async () => {
  certs = await testCerts();
  bif = await startSimulator({ system: 'bif-jobcentre-system', port: 0, certsDir: certs });
});
afterAll(async () => {
  await bif?.close();
});

async function gateway(name: string, graceMs: number): Promise<{ child: ChildGateway; dbFile: string; logFile: string }> {
  const data = mkdtempSync(path.join(os.tmpdir(), `snitflade-${name}-`));
  const dbFile = path.join(data, 'snitflade.db');
  const logFile = path.join(ROOT, 'test-output', 'logs', `hardening-${name}-${process.pid}-${Date.now()}.log`);
  const child = await startChildGateway({
    listen: { host: '127.0.0.1', port: 0 },
    paths: { certs, data },
    store: { kind: 'sqlite', file: dbFile },
    endpoints: { 'bif-jobcentre-system': bif.url },
    upstream: { timeoutMs: 30_000, maxResponseBytes: 1_048_576 },
    limits: { shutdownGraceMs: graceMs },
    log: { level: 'info', console: false, file: logFile },
  });
  await withRelations(child, citizen.cpr, SERVED_BY_BOTH); // need to know: both administrations serve the citizen
  return { child, dbFile, logFile };
}

function query(url: string, caseworker: string): Promise<Answer> {
  const body = JSON.stringify({ cpr: citizen.cpr, fields: ['targetGroup', 'incomeSupport'] });
  return send(url, {
    path: STATUS,
    headers: {
      'content-type': 'application/json',
      authorization: `Bearer ${tokenWith('sof-case-system', STATUS, body, { claims: { sub: caseworker } })}`,
    },
    body,
    creds: clientCreds('sof-case-system'),
    fresh: true,
  });
}

/** Resolves once a new TCP connection to the port is refused. */
async function refusesConnections(port: number): Promise<void> {
  for (let i = 0; i < 400; i++) {
    const refused = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(false);
      });
      s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'));
    });
    if (refused) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error('the gateway still accepts connections');
}

async function waitForProvider(before: number): Promise<void> {
  for (let i = 0; i < 1000 && bif.requests === before; i++) await new Promise((resolve) => setTimeout(resolve, 10));
  expect(bif.requests).toBe(before + 1);
}

it('SIGTERM: stops accepting, finishes the request in flight, flushes the trail, exits 0', async () => {
  const { child, dbFile, logFile } = await gateway('shutdown-drain', 10_000);
  bif.setFault({ kind: 'delay', ms: 1500 });
  try {
    const before = bif.requests;
    let answered = false;
    const inFlight = query(child.url, 'cw-drain-0001').then((r) => {
      answered = true;
      return r;
    });
    await waitForProvider(before);
    child.process.kill('SIGTERM');
    await refusesConnections(child.port);
    expect(answered).toBe(false); // no longer accepting, while the request is still being served

    const res = await inFlight;
    expect(res.status).toBe(200);
    expect(Object.keys(res.json.data).sort()).toEqual(['incomeSupport', 'targetGroup']);
    expect(await child.exited).toEqual({ code: 0, signal: null });

    const store = await openStore({ kind: 'sqlite', file: dbFile });
    try {
      const { records } = await store.audit.search({ auditId: res.json.disclosure.auditId, limit: 10 });
      expect(records.map((r) => r.kind).sort()).toEqual(['decision', 'release']);
      expect((await verifyChain(store, 'gw1')).ok).toBe(true);
    } finally {
      await store.close();
    }
    const log = readFileSync(logFile, 'utf8');
    expect(log).toContain('"message":"stopping"');
    expect(log).toContain('"message":"stopped"');
  } finally {
    bif.setFault(null);
    await child.kill();
  }
});

it('SIGTERM with a request that outlives the grace period: it is cut off, nothing released, exit 0', async () => {
  const { child, dbFile, logFile } = await gateway('shutdown-bound', 500);
  bif.setFault({ kind: 'delay', ms: 20_000 });
  try {
    const before = bif.requests;
    const inFlight = query(child.url, 'cw-bound-0001').then(
      (r) => ({ ok: true as const, r }),
      (err: Error) => ({ ok: false as const, err }),
    );
    await waitForProvider(before);
    child.process.kill('SIGTERM');
    expect(await child.exited).toEqual({ code: 0, signal: null });
    const outcome = await inFlight;
    expect(outcome.ok).toBe(false); // the connection was closed: no answer, no data

    const store = await openStore({ kind: 'sqlite', file: dbFile });
    try {
      const { records } = await store.audit.search({ caseworker: 'cw-bound-0001', limit: 10 });
      // The decision was durable before the provider was asked; no release was ever recorded.
      expect(records.map((r) => r.kind)).toEqual(['decision']);
      expect((await verifyChain(store, 'gw1')).ok).toBe(true);
    } finally {
      await store.close();
    }
    expect(readFileSync(logFile, 'utf8')).toContain('shutdown: closing connections with requests still in progress');
  } finally {
    bif.setFault(null);
    await child.kill();
  }
});

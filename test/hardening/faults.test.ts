/**
 * Faults, each a test: the provider times out, fails, sends garbage, breaks the schema, sends
 * far too much, breaks the connection, or cannot be reached; the audit store is locked, made
 * read-only, unreachable, or restarted under load (SQLite and a dedicated PostgreSQL database).
 * Whatever happens: a stable code, nothing released that is not audited, and the gateway serves
 * again by itself once the fault is gone.
 */
import { jest } from '@jest/globals';
import { mkdtempSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { verifyChain } from '../../src/audit/verify.js';
import type { Fault } from '../../src/simulators/faults.js';
import { population } from '../../src/simulators/population.js';
import { waitFor } from '../support/calls.js';
import { startTestEnv, type TestEnv } from '../support/env.js';
import { SERVED_BY_BOTH, withRelations } from '../support/relations.js';
import { createTestDatabase, type TestDatabase } from './pg.js';
import { STACK_TRACE, caOnly, clientCreds, evidence, send, tokenWith, type Answer } from './support.js';

jest.setTimeout(60_000);

const STATUS = '/v1/queries/employment.citizen-status.v1';
const FIELDS = ['targetGroup', 'incomeSupport', 'jobcentreUnit', 'caseworkerContact', 'nextMeetingDate', 'sanctionInForceSince'];
const citizens = population();
/** The citizens asked about: both administrations serve them (need to know), registered in each gateway by `serve`. */
const shared = citizens.filter((c) => c.employment && c.social && !c.extras.employment).slice(0, 24);
const serve = async (env: TestEnv, who = shared): Promise<void> => {
  for (const c of who) await withRelations(env, c.cpr, SERVED_BY_BOTH);
};

function query(env: TestEnv, fields: readonly string[] = ['targetGroup', 'caseworkerContact'], cpr = shared[0]!.cpr): Promise<Answer> {
  const body = JSON.stringify({ cpr, fields });
  return send(env.url, {
    path: STATUS,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${tokenWith('sof-case-system', STATUS, body)}` },
    body,
    creds: clientCreds('sof-case-system'),
  });
}

function expectProblem(res: Answer, status: number, code: string): void {
  evidence('faults', 'error-response', res.text);
  expect({ status: res.status, code: res.json?.code }).toEqual({ status, code });
  expect(String(res.headers['content-type'])).toMatch(/^application\/problem\+json/);
  expect(res.json.data).toBeUndefined();
  expect(res.text).not.toMatch(STACK_TRACE);
}

async function records(env: TestEnv, auditId: string) {
  return (await env.gateway.store.audit.search({ auditId, limit: 10 })).records;
}

const unhandled = (env: TestEnv): Promise<number> =>
  import('node:fs').then(
    (fs) =>
      fs
        .readFileSync(env.logFile, 'utf8')
        .split('\n')
        .filter((l) => l.includes('"unhandled error"')).length,
  );

describe('provider faults', () => {
  let env: TestEnv;
  beforeAll(async () => {
    env = await startTestEnv({ name: 'hardening-faults', overrides: { upstream: { timeoutMs: 700, maxResponseBytes: 65_536 } } });
    await serve(env, shared.slice(0, 1));
  });
  afterAll(async () => {
    await env?.close();
  });
  afterEach(() => env.simulators['bif-jobcentre-system']!.setFault(null));

  const cases: readonly [string, number, string, Fault][] = [
    ['does not answer within the timeout', 504, 'PROVIDER_TIMEOUT', { kind: 'delay', ms: 3000 }],
    ['answers 500', 502, 'PROVIDER_UNAVAILABLE', { kind: 'status', status: 500 }],
    ['answers 503', 502, 'PROVIDER_UNAVAILABLE', { kind: 'status', status: 503 }],
    ['refuses the gateway (401)', 502, 'PROVIDER_UNAVAILABLE', { kind: 'status', status: 401 }],
    ['answers garbage labelled as JSON', 502, 'PROVIDER_RESPONSE_INVALID', { kind: 'garbage' }],
    ['answers with a field of the wrong type (schema break)', 502, 'PROVIDER_RESPONSE_INVALID', { kind: 'schema-break' }],
    ['answers 1 MiB (over the response cap)', 502, 'PROVIDER_RESPONSE_INVALID', { kind: 'oversized', bytes: 1_048_576 }],
    ['closes the connection in the middle of the answer', 502, 'PROVIDER_UNAVAILABLE', { kind: 'destroy' }],
  ];

  it.each(cases)('the provider %s: %i %s, audited, nothing released', async (_what, status, code, fault) => {
    const provider = env.simulators['bif-jobcentre-system']!;
    provider.setFault(fault);
    const before = provider.requests;
    const res = await query(env, FIELDS);
    expectProblem(res, status, code);
    expect(provider.requests).toBe(before + 1); // it was asked, after the decision was audited
    const trail = await records(env, res.json.auditId);
    expect(trail.map((r) => r.kind).sort()).toEqual(['decision', 'release']);
    expect(trail.find((r) => r.kind === 'decision')).toMatchObject({ decision: 'permit' });
    const release = trail.find((r) => r.kind === 'release')!;
    expect(release.reasons).toEqual([code]);
    expect(release.fields.released).toEqual([]);
    expect(release.status).toBe(status);
    provider.setFault(null);
    expect((await query(env)).status).toBe(200);
  });

  it('an answer under the response cap with a large non-contract field: the field is dropped and recorded, the rest released', async () => {
    const provider = env.simulators['bif-jobcentre-system']!;
    provider.setFault({ kind: 'oversized', bytes: 60_000 });
    const res = await query(env, ['targetGroup']);
    // The padding field is dropped as a non-contract name; what remains is valid and released.
    expect(res.status).toBe(200);
    expect(Object.keys(res.json.data)).toEqual(['targetGroup']);
    const release = (await records(env, res.json.disclosure.auditId)).find((r) => r.kind === 'release')!;
    expect(release.fields.dropped).toContain('padding');
  });

  it('the provider cannot be reached at all: 502 PROVIDER_UNAVAILABLE, audited', async () => {
    const closed = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => {
        const port = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(port));
      });
    });
    const gone = await startTestEnv({
      name: 'hardening-faults-gone',
      overrides: {
        endpoints: { 'bif-jobcentre-system': `https://localhost:${closed}` },
        upstream: { timeoutMs: 700, maxResponseBytes: 65_536 },
      },
    });
    try {
      await serve(gone, shared.slice(0, 1));
      const res = await query(gone);
      expectProblem(res, 502, 'PROVIDER_UNAVAILABLE');
      expect((await records(gone, res.json.auditId)).find((r) => r.kind === 'release')?.reasons).toEqual(['PROVIDER_UNAVAILABLE']);
    } finally {
      await gone.close();
    }
  });

  it('logged no unhandled error through all of it', async () => {
    expect(await unhandled(env)).toBe(0);
  });
});

describe('SQLite audit store faults', () => {
  let env: TestEnv;
  let dbFile: string;
  beforeAll(async () => {
    // A short busy wait: a locked SQLite write blocks the event loop for that long.
    dbFile = path.join(mkdtempSync(path.join(os.tmpdir(), 'snitflade-sqlite-faults-')), 'snitflade.db');
    env = await startTestEnv({
      name: 'hardening-sqlite-faults',
      overrides: { store: { kind: 'sqlite', file: dbFile, busyTimeoutMs: 200 }, upstream: { timeoutMs: 3000, maxResponseBytes: 65_536 } },
    });
    await serve(env, shared.slice(0, 2));
  });
  afterAll(async () => {
    await env?.close();
  });

  it('locked by another writer before the request: 503, nothing forwarded, and it serves again by itself once the lock is gone', async () => {
    const provider = env.simulators['bif-jobcentre-system']!;
    const before = provider.requests;
    const blocker = new Database(dbFile);
    blocker.exec('BEGIN EXCLUSIVE');
    try {
      expectProblem(await query(env), 503, 'AUDIT_UNAVAILABLE');
      expect(provider.requests).toBe(before);
    } finally {
      blocker.exec('ROLLBACK');
      blocker.close();
    }
    expect((await query(env)).status).toBe(200);
  });

  it('locked after the provider answered, before the release record: 503 and the answer is not released', async () => {
    const provider = env.simulators['bif-jobcentre-system']!;
    provider.setFault({ kind: 'delay', ms: 400 });
    const before = provider.requests;
    const pending = query(env, FIELDS, shared[1]!.cpr);
    for (let i = 0; i < 200 && provider.requests === before; i++) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(provider.requests).toBe(before + 1); // the decision is durable and the provider is asked
    const blocker = new Database(dbFile);
    blocker.exec('BEGIN EXCLUSIVE');
    let res: Answer;
    try {
      res = await pending;
    } finally {
      blocker.exec('ROLLBACK');
      blocker.close();
      provider.setFault(null);
    }
    expectProblem(res, 503, 'AUDIT_UNAVAILABLE');
    expect(res.text).not.toContain(shared[1]!.employment!.caseworkerContact.name);
    expect((await query(env)).status).toBe(200);
  });
});

describe('PostgreSQL audit store faults (a dedicated database)', () => {
  let db: TestDatabase;
  let env: TestEnv;
  beforeAll(async () => {
    db = await createTestDatabase('hardening_faults');
    env = await startTestEnv({
      name: 'hardening-pg-faults',
      overrides: { store: { kind: 'postgres', url: db.url }, upstream: { timeoutMs: 3000, maxResponseBytes: 65_536 } },
    });
    await serve(env);
  });
  afterAll(async () => {
    await env?.close();
    await db?.drop();
  });

  it('unreachable (connections refused and ended): 503, nothing forwarded; serves again by itself once it is back', async () => {
    expect((await query(env)).status).toBe(200);
    const provider = env.simulators['bif-jobcentre-system']!;
    const before = provider.requests;
    await db.allowConnections(false);
    try {
      for (let i = 0; i < 3; i++) expectProblem(await query(env), 503, 'AUDIT_UNAVAILABLE');
      expect(provider.requests).toBe(before);
      const summary = await send(env.url, { method: 'GET', path: '/readyz', creds: caOnly() });
      expect(summary.status).toBe(503);
      expect(summary.json).toEqual({ ready: false, reasons: expect.arrayContaining(['store-not-writable']) });
      // The operators' detail answers while the store cannot write (the client certificate alone, no token to claim).
      const ready = await send(env.url, { method: 'GET', path: '/v1/admin/readiness', creds: clientCreds('ops-console') });
      expect(ready.status).toBe(503);
      expect(ready.json.store.writable).toBe(false);
    } finally {
      await db.allowConnections(true);
    }
    // The chain lease went with the connections: served again once the lease is taken back (it is tried every second).
    await waitFor('served again', async () => (await query(env)).status === 200);
  });

  it('read-only: 503, nothing forwarded; serves again by itself once it is writable', async () => {
    const provider = env.simulators['bif-jobcentre-system']!;
    const before = provider.requests;
    await db.readOnly(true);
    try {
      for (let i = 0; i < 3; i++) expectProblem(await query(env), 503, 'AUDIT_UNAVAILABLE');
      expect(provider.requests).toBe(before);
    } finally {
      await db.readOnly(false);
    }
    await waitFor('served again', async () => (await query(env)).status === 200);
  });

  it('restarted under load (every connection ended, three times): only 200 or 503, every 200 audited, the chain verifies', async () => {
    const answers: Answer[] = [];
    let stop = false;
    const worker = async (n: number): Promise<void> => {
      for (let i = 0; !stop; i++) answers.push(await query(env, ['targetGroup'], shared[(n * 50 + i) % shared.length]!.cpr));
    };
    const workers = Array.from({ length: 6 }, (_, n) => worker(n));
    // Each restart comes once the gateway serves again after the one before (the chain lease is taken back first).
    for (let k = 0; k < 3; k++) {
      await waitFor('served again', async () => (await query(env, ['targetGroup'])).status === 200);
      expect(await db.terminate()).toBeGreaterThan(0);
    }
    await waitFor('served again', async () => (await query(env, ['targetGroup'])).status === 200);
    stop = true;
    await Promise.all(workers);

    const statuses = new Set(answers.map((a) => a.status));
    expect([...statuses].every((s) => s === 200 || s === 503)).toBe(true);
    // A connection ended under the need-to-know read refuses before the audit write: either is the store.
    for (const a of answers.filter((x) => x.status === 503))
      expect(['AUDIT_UNAVAILABLE', 'RELATION_REGISTER_UNAVAILABLE']).toContain(a.json.code);
    const ok = answers.filter((a) => a.status === 200);
    expect(ok.length).toBeGreaterThan(10);
    for (const a of ok) {
      const release = (await records(env, a.json.disclosure.auditId)).find((r) => r.kind === 'release');
      expect(release?.fields.released).toEqual(['targetGroup']);
    }
    expect((await query(env)).status).toBe(200);
    const verified = await verifyChain(env.gateway.store, env.config.instanceId);
    expect(verified.ok).toBe(true);
    expect(await unhandled(env)).toBe(0);
  });
});

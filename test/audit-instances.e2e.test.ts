/**
 * Several instances, one trail: two real gateways (their own instance ids, so their own chains)
 * on one fresh PostgreSQL database answer concurrent queries; every record is durable, each
 * chain is sealed by its own checkpoints, and the whole trail verifies, through either
 * gateway's API and from outside after both stopped. A third instance with an instance id
 * already running is refused at start-up. PostgreSQL must be reachable (SNITFLADE_TEST_PG).
 */
import { jest } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import request from 'supertest';
import { mintRequestToken } from '../src/auth/mint.js';
import { loadCheckpointKeys } from '../src/audit/services.js';
import { verifyTrail } from '../src/audit/verify-trail.js';
import { openStore } from '../src/store/index.js';
import { population } from '../src/simulators/population.js';
import { startTestEnv, tls, tokenFor, TEST_CERTS, type TestEnv } from './support/env.js';
import { SERVED_BY_BOTH, withRelations } from './support/relations.js';

jest.setTimeout(120_000);

const ADMIN_URL = process.env.SNITFLADE_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const STATUS = '/v1/queries/employment.citizen-status.v1';
const SUMMARY = '/v1/queries/social.coordination-summary.v1';
const shared = population()
  .filter((c) => c.employment && c.social && !c.extras.employment && !c.extras.social)
  .slice(0, 11); // odd: each citizen is asked through both gateways

const dbName = `snitflade_inst_${randomBytes(6).toString('hex')}`;
let dbUrl: string;
let admin: pg.Client;
let a: TestEnv;
let b: TestEnv;
let stopped = false;

const pgConfig = (instanceId: string) => ({
  instanceId,
  store: { kind: 'postgres' as const, url: dbUrl },
  audit: { checkpointEveryRecords: 25, checkpointEverySeconds: 3600 },
});

async function query(env: TestEnv, client: string, urlPath: string, body: unknown) {
  const text = JSON.stringify(body);
  const token = await tokenFor(client, urlPath, text);
  const creds = tls(client);
  return request(env.url)
    .post(urlPath)
    .ca(creds.ca)
    .cert(creds.cert)
    .key(creds.key)
    .set('content-type', 'application/json')
    .set('authorization', `Bearer ${token}`)
    .send(text);
}

async function verifyVia(env: TestEnv) {
  const token = await mintRequestToken({
    clientId: 'dpo-console',
    kid: 'dpo-console-1',
    key: readFileSync(path.join(TEST_CERTS, 'clients', 'dpo-console', 'signing.key.pem'), 'utf8'),
    audience: 'snitflade-gateway',
    caseworker: 'dpo-anne',
    purpose: 'audit-review',
    caseRef: 'DPO-2026-2',
    method: 'GET',
    path: '/v1/audit/verify',
    body: '',
  });
  const creds = tls('dpo-console');
  return request(env.url).get('/v1/audit/verify').ca(creds.ca).cert(creds.cert).key(creds.key).set('authorization', `Bearer ${token}`);
}

beforeAll(async () => {
  admin = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 5000 });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${dbName}`);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${dbName}`;
  dbUrl = url.toString();
  // Both start at once: the schema is created once, each takes its own chain.
  [a, b] = await Promise.all([
    startTestEnv({ name: 'instance-a', overrides: pgConfig('gw-a') }),
    startTestEnv({ name: 'instance-b', overrides: pgConfig('gw-b') }),
  ]);
  // Need to know: both administrations serve the citizens asked about (registered once, in the shared store).
  for (const c of shared) await withRelations(a, c.cpr, SERVED_BY_BOTH);
});
afterAll(async () => {
  if (!stopped) {
    await a?.close();
    await b?.close();
  }
  await admin?.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  await admin?.end();
});

it('refuses to start a second instance with an instance id that is running', async () => {
  await expect(startTestEnv({ name: 'instance-dup', simulators: false, overrides: pgConfig('gw-a') })).rejects.toThrow(
    /chain gw-a is held by another running gateway instance/,
  );
});

it('two instances under concurrent queries leave one trail, every record durable and every chain verifying', async () => {
  // 60 queries at once, alternating between the gateways and the calling systems.
  const calls = Array.from({ length: 60 }, (_, i) => {
    const env = i % 2 === 0 ? a : b;
    const citizen = shared[i % shared.length]!;
    return i % 3 === 0
      ? query(env, 'bif-jobcentre-system', SUMMARY, { cpr: citizen.cpr, fields: ['openSocialCase'] })
      : query(env, 'sof-case-system', STATUS, { cpr: citizen.cpr, fields: ['targetGroup', 'incomeSupport'] });
  });
  const responses = await Promise.all(calls);
  expect(responses.map((r) => r.status)).toEqual(Array(60).fill(200));

  // Durable: each answer's release record is in the shared store, on the chain of the instance that answered.
  for (const [i, r] of responses.entries()) {
    const { records } = await a.gateway.store.audit.search({ auditId: r.body.disclosure.auditId, kind: 'release', limit: 2 });
    expect(records).toHaveLength(1);
    expect(records[0]!.chain).toBe(i % 2 === 0 ? 'gw-a' : 'gw-b');
  }
  expect(a.gateway.trail.head.seq).toBeGreaterThanOrEqual(60);
  expect(b.gateway.trail.head.seq).toBeGreaterThanOrEqual(60);

  await Promise.all([a.gateway.audit.checkpointer!.checkpoint(), b.gateway.audit.checkpointer!.checkpoint()]);
  for (const env of [a, b]) {
    const res = await verifyVia(env);
    expect(res.status).toBe(200);
    expect(res.body.ok).toBe(true);
    const chains = res.body.chains as { chain: string; ok: boolean; checked: number; checkpoints: number }[];
    expect(chains.map((c) => c.chain)).toEqual(['gw-a', 'gw-b']);
    for (const c of chains) {
      expect(c.ok).toBe(true);
      expect(c.checked).toBeGreaterThanOrEqual(60);
      expect(c.checkpoints).toBeGreaterThanOrEqual(1);
    }
  }
  // Each chain has its own checkpoints.
  const cpA = await a.gateway.store.checkpoints.latest('gw-a');
  const cpB = await a.gateway.store.checkpoints.latest('gw-b');
  expect((await a.gateway.audit.verifier.verify(cpA!.jws)).chain).toBe('gw-a');
  expect((await a.gateway.audit.verifier.verify(cpB!.jws)).chain).toBe('gw-b');

  // Either gateway's DPO search sees both instances' records.
  const text = JSON.stringify({ cpr: shared[1]!.cpr, limit: 200 });
  const creds = tls('dpo-console');
  const token = await tokenFor('dpo-console', '/v1/audit/search', text);
  const found = await request(a.url)
    .post('/v1/audit/search')
    .ca(creds.ca)
    .cert(creds.cert)
    .key(creds.key)
    .set('content-type', 'application/json')
    .set('authorization', `Bearer ${token}`)
    .send(text);
  const chainsSeen = new Set(
    (found.body.results as { record: { chain: string; kind: string } }[])
      .filter((r) => r.record.kind !== 'dpo-access')
      .map((r) => r.record.chain),
  );
  expect(chainsSeen).toEqual(new Set(['gw-a', 'gw-b']));
});

it('a token used at one instance is refused at the other (TOKEN_REPLAYED), with no decision recorded for the replay', async () => {
  const text = JSON.stringify({ cpr: shared[0]!.cpr, fields: ['targetGroup'] });
  const token = await tokenFor('sof-case-system', STATUS, text);
  const creds = tls('sof-case-system');
  const send = (env: TestEnv, requestId: string) =>
    request(env.url)
      .post(STATUS)
      .ca(creds.ca)
      .cert(creds.cert)
      .key(creds.key)
      .set('content-type', 'application/json')
      .set('x-request-id', requestId)
      .set('authorization', `Bearer ${token}`)
      .send(text);
  const first = await send(a, 'replay-first');
  expect(first.status).toBe(200);
  // Instance b has never seen the token: only the claim in the shared store can tell.
  const again = await send(b, 'replay-again');
  expect(again.status).toBe(401);
  expect(again.body.code).toBe('TOKEN_REPLAYED');
  const { records } = await b.gateway.store.audit.search({ auditId: again.body.auditId, limit: 10 });
  expect(records.map((r) => [r.chain, r.kind, r.reasons])).toEqual([['gw-b', 'refusal', ['TOKEN_REPLAYED']]]);
  // And a's own copy of the token is refused by a too, from memory.
  const third = await send(a, 'replay-third');
  expect(third.body.code).toBe('TOKEN_REPLAYED');
});

it('after both stopped, the trail is fully sealed and verifies from outside; no table holds a CPR number', async () => {
  const config = a.config;
  stopped = true;
  await a.close();
  await b.close();
  const store = await openStore({ kind: 'postgres', url: dbUrl });
  try {
    const { verifier } = await loadCheckpointKeys(config);
    const report = await verifyTrail({ store, verifier });
    expect(report.ok).toBe(true);
    expect(report.chains.map((c) => [c.chain, c.ok, c.unsealed])).toEqual([
      ['gw-a', true, 0],
      ['gw-b', true, 0],
    ]);
  } finally {
    await store.close();
  }
  const raw = new pg.Client({ connectionString: dbUrl });
  await raw.connect();
  try {
    const tables = (await raw.query<{ tablename: string }>("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).rows.map(
      (r) => r.tablename,
    );
    expect(tables).toEqual(expect.arrayContaining(['audit_record', 'audit_checkpoint', 'audit_merkle_node']));
    let text = '';
    for (const t of tables)
      text += (await raw.query(`SELECT ${t}::text AS row FROM ${t}`)).rows.map((r: { row: string }) => r.row).join('\n');
    expect(text.length).toBeGreaterThan(10_000);
    for (const c of shared) {
      expect(text).not.toContain(c.cpr);
      expect(text).not.toContain(`${c.cpr.slice(0, 6)}-${c.cpr.slice(6)}`);
    }
  } finally {
    await raw.end();
  }
});

/**
 * The parts of notifications that can be checked on their own: the backoff, the policy model
 * (a notification policy names its recipients), who is asked to receive, and the recipient
 * protocol of the simulated systems (gateway token, Idempotency-Key, deduplication).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { importPKCS8 } from 'jose';
import { loadClients } from '../src/auth/clients.js';
import { loadContracts } from '../src/contracts/registry.js';
import { recipientSystems } from '../src/exchange/notification.js';
import { LoadErrors, type LoadError } from '../src/lib/load-error.js';
import { backoffMs } from '../src/outbox/backoff.js';
import { loadPolicySet } from '../src/policy/loader.js';
import { NotificationInbox, startSimulator, type Simulator } from '../src/simulators/server.js';
import { createUpstreamAgent, postJson, signGatewayToken, type UpstreamIdentity } from '../src/upstream/provider.js';
import { testCerts } from './support/env.js';

const ROOT = process.cwd();
const contracts = loadContracts(path.join(ROOT, 'schemas'));

describe('backoff between delivery attempts', () => {
  const o = { baseMs: 1000, maxMs: 60_000 };
  it('doubles from the base, with jitter in the upper half of each wait', () => {
    expect([1, 2, 3, 4].map((n) => backoffMs(n, o, () => 1))).toEqual([1000, 2000, 4000, 8000]);
    expect([1, 2, 3, 4].map((n) => backoffMs(n, o, () => 0))).toEqual([500, 1000, 2000, 4000]);
    for (let i = 0; i < 200; i++) {
      const wait = backoffMs(3, o);
      expect(wait).toBeGreaterThanOrEqual(2000);
      expect(wait).toBeLessThanOrEqual(4000);
    }
  });

  it('never waits longer than the cap, however many attempts failed', () => {
    expect(backoffMs(10, o, () => 1)).toBe(60_000);
    expect(backoffMs(1000, o, () => 1)).toBe(60_000);
    expect(backoffMs(1000, o, () => 0)).toBe(30_000);
    expect(() => backoffMs(0, o)).toThrow(TypeError);
  });
});

describe('notification policies', () => {
  const policies = loadPolicySet({ dir: path.join(ROOT, 'policies'), contracts });

  it('name the recipient administrations and roles, which the evaluator matches as the receiving party', () => {
    const sanction = policies.policies.find((p) => p.id === 'bif-notifies-sof-of-sanctions')!;
    expect(sanction.recipient).toEqual({ administrations: ['SOF'], roles: ['caseworker-system'] });
    expect(sanction.requester).toEqual(sanction.recipient);
    expect(policies.candidates('employment.sanction-notice.v1', 'SOF').map((p) => p.id)).toEqual(['bif-notifies-sof-of-sanctions']);
    expect(policies.candidates('employment.sanction-notice.v1', 'BIF')).toEqual([]);
  });

  it('are refused at load when they name a requester, when a query policy names recipients, or when they name nobody', () => {
    let errors: readonly LoadError[] = [];
    try {
      loadPolicySet({ dir: path.join(ROOT, 'test', 'fixtures', 'policies-notification'), contracts });
    } catch (err) {
      expect(err).toBeInstanceOf(LoadErrors);
      errors = (err as LoadErrors).errors;
    }
    expect(errors.map((e) => [e.file.split(path.sep).pop(), e.path, e.line])).toEqual([
      ['nobody.policy.yaml', '', 1],
      ['sanction-with-requester.policy.yaml', '/requester', 6],
      ['status-with-recipient.policy.yaml', '/recipient', 6],
      ['unknown-recipient.policy.yaml', '/recipient/administrations/0', 7],
    ]);
    expect(errors[0]!.problem).toContain('"requester" (a query policy) or "recipient" (a notification policy)');
    expect(errors[1]!.problem).toContain('notification contract');
    expect(errors[2]!.problem).toContain('query contract');
  });
});

describe('who is asked to receive a notification', () => {
  it('the registered systems with an endpoint, in a recipient administration, holding a named role; never the sender', async () => {
    const certs = await testCerts();
    const policies = loadPolicySet({ dir: path.join(ROOT, 'policies'), contracts });
    const clients = await loadClients(path.join(ROOT, 'policies', 'clients.yaml'), certs, {
      'sof-case-system': 'https://localhost:1',
      'bif-jobcentre-system': 'https://localhost:2',
    });
    const sanction = contracts.get('employment.sanction-notice.v1')!;
    expect(recipientSystems(policies, clients.clients, sanction, 'bif-jobcentre-system').map((c) => c.id)).toEqual(['sof-case-system']);
    expect(recipientSystems(policies, clients.clients, sanction, 'sof-case-system').map((c) => c.id)).toEqual([]);
    const unreachable = clients.clients.map((c) => (c.id === 'sof-case-system' ? { ...c, endpoint: undefined } : c));
    expect(recipientSystems(policies, unreachable, sanction, 'bif-jobcentre-system')).toEqual([]);
  });
});

describe('the recipient protocol of the simulated systems', () => {
  let sim: Simulator;
  let gateway: UpstreamIdentity;
  let stranger: UpstreamIdentity;
  const inbox = new NotificationInbox();
  const PATH = '/snitflade/v1/notifications/employment.sanction-notice.v1';
  const body = JSON.stringify({ cpr: '0101909901', event: { sanctionDate: '2026-01-05', sanctionType: 'reduction' } });

  beforeAll(async () => {
    const certs = await testCerts();
    const read = (p: string) => readFileSync(path.join(certs, p), 'utf8');
    sim = await startSimulator({ system: 'sof-case-system', certsDir: certs, inbox });
    const signingKey = await importPKCS8(read('gateway/signing.key.pem'), 'ES256');
    const identity = (who: string): UpstreamIdentity => ({
      gatewayId: 'snitflade-gateway',
      signingKey,
      agent: createUpstreamAgent({ cert: read(`${who}/tls.crt.pem`), key: read(`${who}/tls.key.pem`), ca: read('ca/ca.crt.pem') }),
      timeoutMs: 5000,
      maxResponseBytes: 65536,
    });
    gateway = identity('gateway');
    stranger = identity('clients/bif-jobcentre-system');
  });
  afterAll(async () => {
    gateway?.agent.destroy();
    stranger?.agent.destroy();
    await sim?.close();
  });

  async function deliver(o: { key?: string | null; tokenBody?: string; path?: string; as?: UpstreamIdentity; audience?: string } = {}) {
    const p = o.path ?? PATH;
    const token = await signGatewayToken(gateway, {
      audience: o.audience ?? 'sof-case-system',
      purpose: 'sanction-notice',
      policy: 'bif-notifies-sof-of-sanctions@1',
      auditId: 'audit-1',
      path: p,
      body: o.tokenBody ?? body,
    });
    const headers: Record<string, string> = { authorization: `Bearer ${token}` };
    if (o.key !== null) headers['idempotency-key'] = o.key ?? '6f1c1a55-3a3e-4c55-9d7e-0b7f1d2e0a01';
    return postJson(o.as ?? gateway, sim.url, p, body, headers);
  }

  it('keeps a notification once per Idempotency-Key: a retry is acknowledged, not kept again', async () => {
    expect(await deliver()).toMatchObject({ ok: true, status: 202, data: { status: 'received' } });
    expect(await deliver()).toMatchObject({ ok: true, status: 200, data: { status: 'duplicate' } });
    expect(inbox.received).toHaveLength(1);
    expect(inbox.received[0]).toMatchObject({
      contract: 'employment.sanction-notice.v1',
      auditId: 'audit-1',
      policy: 'bif-notifies-sof-of-sanctions@1',
      cpr: '0101909901',
      event: { sanctionType: 'reduction' },
    });
    expect(inbox.duplicates).toBe(1);
  });

  it('refuses a delivery without an Idempotency-Key, with a token for another body or system, or from anyone but the gateway', async () => {
    const before = inbox.deliveries;
    expect((await deliver({ key: null })).status).toBe(400);
    expect((await deliver({ key: 'another-key-0001', tokenBody: '{}' })).status).toBe(401);
    expect((await deliver({ key: 'another-key-0002', audience: 'bif-jobcentre-system' })).status).toBe(401);
    expect((await deliver({ key: 'another-key-0003', as: stranger })).status).toBe(403);
    expect((await deliver({ key: 'another-key-0004', path: '/snitflade/v1/notifications/employment.citizen-status.v1' })).status).toBe(404);
    expect(inbox.deliveries).toBe(before);
  });
});

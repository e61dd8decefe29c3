import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { jest } from '@jest/globals';
import { SignJWT, importPKCS8, type CryptoKey } from 'jose';
import winston from 'winston';
import { isSyntheticCpr } from '../src/lib/cpr.js';
import { sha256b64url } from '../src/lib/digest.js';
import { createCa, ensureDevPki, issueCertificate } from '../src/pki/devpki.js';
import { REFERENCE_DATE, findCitizen, generatePopulation, population, type SyntheticCitizen } from '../src/simulators/population.js';
import {
  BENEFITS,
  EFFORTS,
  EMPLOYMENT_FIELDS,
  MEETING_KINDS,
  SANCTION_TYPES,
  SOCIAL_FIELDS,
  TARGET_GROUPS,
} from '../src/simulators/records.js';
import { HEALTH_EFFORT_KINDS, SOCIAL_EFFORT_KINDS } from '../src/simulators/efforts.js';
import { startSimulator, type Simulator } from '../src/simulators/server.js';
import { COORDINATION_SUMMARY_FIELDS, citizenStatus, coordinationSummary, sanctionInForceSince } from '../src/simulators/status.js';

const GATEWAY = 'snitflade-gateway';
const BIF = 'bif-jobcentre-system';
const SOF = 'sof-case-system';
const EMPLOYMENT = 'employment.citizen-status.v1';
const SOCIAL = 'social.coordination-summary.v1';
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

describe('synthetic population', () => {
  const citizens = population();

  it('is deterministic: the same citizens on every run, without Math.random', () => {
    const spy = jest.spyOn(Math, 'random');
    try {
      const a = generatePopulation();
      const b = generatePopulation();
      expect(a).toEqual(b);
      expect(a).toEqual(citizens);
      expect(spy).not.toHaveBeenCalled();
    } finally {
      spy.mockRestore();
    }
    // Pinned, so a change to the generator is a visible decision, not an accident.
    expect(citizens[0]!.cpr).toMatch(/^\d{6}99\d{2}$/);
    expect(sha256b64url(citizens.map((c) => c.cpr).join(','))).toBe(PINNED_CPR_DIGEST);
    expect(generatePopulation({ seed: 1 })[0]!.cpr).not.toBe(citizens[0]!.cpr);
    expect(population()).toBe(citizens); // cached
    expect(Object.isFrozen(citizens[0]!.employment ?? citizens[0]!.social)).toBe(true);
  });

  it('has at least 2,400 citizens with unique, valid, synthetic CPR numbers', () => {
    expect(citizens.length).toBeGreaterThanOrEqual(2400);
    expect(new Set(citizens.map((c) => c.cpr)).size).toBe(citizens.length);
    for (const c of citizens) expect(isSyntheticCpr(c.cpr)).toBe(true);
  });

  it('mixes shared citizens with one-sided ones', () => {
    const count = (g: SyntheticCitizen['group']): number => citizens.filter((c) => c.group === g).length;
    expect(count('shared')).toBeGreaterThan(citizens.length * 0.6);
    expect(count('employment-only')).toBeGreaterThan(200);
    expect(count('social-only')).toBeGreaterThan(150);
    for (const c of citizens) {
      if (c.group === 'shared') expect(c.employment !== null && c.social?.openSocialCase === true).toBe(true);
      if (c.group === 'social-only') expect(c.employment === null && c.social?.openSocialCase === true).toBe(true);
      if (c.group === 'employment-only') expect(c.employment !== null && (c.social === null || !c.social.openSocialCase)).toBe(true);
    }
    const employmentOnly = citizens.filter((c) => c.group === 'employment-only');
    expect(employmentOnly.some((c) => c.social === null)).toBe(true);
    expect(employmentOnly.some((c) => c.social?.openSocialCase === false)).toBe(true);
  });

  it('gives about one in eight citizens extra, non-contract fields', () => {
    const withExtras = citizens.filter((c) => c.extras.employment !== undefined || c.extras.social !== undefined);
    expect(withExtras.length / citizens.length).toBeGreaterThan(0.08);
    expect(withExtras.length / citizens.length).toBeLessThan(0.17);
    for (const c of withExtras) {
      for (const k of Object.keys(c.extras.employment ?? {})) expect(EMPLOYMENT_FIELDS as readonly string[]).not.toContain(k);
      for (const k of Object.keys(c.extras.social ?? {})) expect(SOCIAL_FIELDS as readonly string[]).not.toContain(k);
      if (c.extras.employment) expect(c.employment).not.toBeNull();
      if (c.extras.social) expect(c.social).not.toBeNull();
    }
    expect(withExtras.some((c) => c.extras.employment)).toBe(true);
    expect(withExtras.some((c) => c.extras.social)).toBe(true);
  });

  it("holds records of exactly the contracts' shapes, with obviously synthetic contacts", () => {
    const contact = (x: { name: string; phone: string; email: string }): void => {
      expect(x.name).toMatch(/^(Sagsbehandler|Kontaktperson) \d{4}$/);
      expect(x.phone).toMatch(/^\+45 000[01] \d{4}$/);
      expect(x.email).toMatch(/^[a-z]+\.\d{4}@example\.invalid$/);
    };
    let sanctions = 0;
    for (const c of citizens) {
      if (c.employment) {
        const e = c.employment;
        expect(Object.keys(e).sort()).toEqual([...EMPLOYMENT_FIELDS].sort());
        expect(TARGET_GROUPS).toContain(e.targetGroup);
        expect(BENEFITS).toContain(e.benefit);
        expect(e.jobcentreUnit).toMatch(/^Jobcenter København, /);
        contact(e.caseworkerContact);
        if (e.nextMeeting !== null) {
          expect(e.nextMeeting.date).toMatch(ISO_DATE);
          expect(MEETING_KINDS).toContain(e.nextMeeting.kind);
        }
        for (const s of e.sanctions) {
          expect(s.date).toMatch(ISO_DATE);
          expect(SANCTION_TYPES).toContain(s.type);
          expect(Number.isInteger(s.amountDkk) && s.amountDkk > 0).toBe(true);
        }
        sanctions += e.sanctions.length;
      }
      if (c.social) {
        const s = c.social;
        expect(Object.keys(s).sort()).toEqual([...SOCIAL_FIELDS].sort());
        if (s.supportContact) contact(s.supportContact);
        expect(
          s.actionPlan.exists ? s.actionPlan.created !== null : s.actionPlan.created === null && s.actionPlan.nextReview === null,
        ).toBe(true);
        for (const d of [s.actionPlan.created, s.actionPlan.nextReview]) if (d !== null) expect(d).toMatch(ISO_DATE);
        for (const eff of s.efforts) expect(EFFORTS).toContain(eff);
        expect(new Set(s.efforts).size).toBe(s.efforts.length);
      }
    }
    expect(sanctions).toBeGreaterThan(50);
    expect(citizens.some((c) => c.employment?.sanctions.length === 0)).toBe(true);
  });

  it("gives each of social services' efforts its period, split into social efforts and efforts that reveal health", () => {
    let social = 0;
    let health = 0;
    let planned = 0;
    let open = 0;
    for (const c of citizens) {
      if (!c.social) continue;
      const { socialEfforts, healthEfforts } = coordinationSummary(c, c.social);
      // The same efforts as the record's list, each once, in the list that fits its kind.
      expect([...socialEfforts, ...healthEfforts].map((e) => e.kind).sort()).toEqual([...c.social.efforts].sort());
      for (const e of socialEfforts) expect(SOCIAL_EFFORT_KINDS as readonly string[]).toContain(e.kind);
      for (const e of healthEfforts) expect(HEALTH_EFFORT_KINDS as readonly string[]).toContain(e.kind);
      for (const e of [...socialEfforts, ...healthEfforts]) {
        expect(e.from).toMatch(ISO_DATE);
        // Current or planned: an end, when there is one, is after the start and after the reference date.
        if (e.to !== null) expect(e.to > e.from && e.to > REFERENCE_DATE).toBe(true);
        if (e.from > REFERENCE_DATE) planned++;
        if (e.to === null) open++;
      }
      for (const list of [socialEfforts, healthEfforts]) expect(list.map((e) => e.from)).toEqual(list.map((e) => e.from).sort());
      social += socialEfforts.length;
      health += healthEfforts.length;
    }
    expect(social).toBeGreaterThan(300);
    expect(health).toBeGreaterThan(300);
    expect(planned).toBeGreaterThan(50);
    expect(open).toBeGreaterThan(300);
    expect(SOCIAL_EFFORT_KINDS.filter((k) => (HEALTH_EFFORT_KINDS as readonly string[]).includes(k))).toEqual([]);
    expect([...SOCIAL_EFFORT_KINDS, ...HEALTH_EFFORT_KINDS].sort()).toEqual([...EFFORTS].sort());
  });

  it('says since when a sanction has been in force, for the records the jobcentre holds', () => {
    let inForce = 0;
    let over = 0;
    for (const c of citizens) {
      if (!c.employment) continue;
      const since = citizenStatus(c.employment).sanctionInForceSince;
      if (c.employment.sanctions.length === 0) expect(since).toBeNull();
      else if (since === null) over++;
      else {
        inForce++;
        expect(c.employment.sanctions.map((x) => x.date)).toContain(since);
        expect(since <= REFERENCE_DATE).toBe(true);
      }
    }
    expect(inForce).toBeGreaterThan(20);
    expect(over).toBeGreaterThan(20);
  });

  it('finds a citizen by CPR number', () => {
    const c = citizens[1234]!;
    expect(findCitizen(c.cpr)).toBe(c);
    expect(findCitizen('0101019999')).toBeUndefined();
  });
});

describe('a sanction in force', () => {
  const on = (iso: string) => Date.parse(`${iso}T00:00:00Z`);
  const sanction = (date: string, type: 'reduction' | 'stop' | 'periodic') => ({ date, type, amountDkk: 1000 });

  it("is in force from its date for its kind's days, the last day excluded", () => {
    expect(sanctionInForceSince([], on('2025-12-01'))).toBeNull();
    // A reduction: 30 days.
    expect(sanctionInForceSince([sanction('2025-11-01', 'reduction')], on('2025-11-30'))).toBe('2025-11-01');
    expect(sanctionInForceSince([sanction('2025-11-01', 'reduction')], on('2025-12-01'))).toBeNull();
    // A periodic sanction: 90 days; a stop: 45.
    expect(sanctionInForceSince([sanction('2025-09-05', 'periodic')], on('2025-12-01'))).toBe('2025-09-05');
    expect(sanctionInForceSince([sanction('2025-09-05', 'stop')], on('2025-12-01'))).toBeNull();
    // Not before it is made.
    expect(sanctionInForceSince([sanction('2025-12-02', 'periodic')], on('2025-12-01'))).toBeNull();
  });

  it('counts sanctions that overlap or touch as one, and starts again after a break', () => {
    const chain = [sanction('2025-10-01', 'reduction'), sanction('2025-09-05', 'periodic')];
    expect(sanctionInForceSince(chain, on('2025-12-01'))).toBe('2025-09-05');
    const touching = [sanction('2025-10-02', 'reduction'), sanction('2025-11-01', 'reduction')];
    expect(sanctionInForceSince(touching, on('2025-11-30'))).toBe('2025-10-02');
    const broken = [sanction('2025-08-01', 'reduction'), sanction('2025-11-20', 'reduction')];
    expect(sanctionInForceSince(broken, on('2025-12-01'))).toBe('2025-11-20');
  });
});

// --- the simulators over real mutual TLS -------------------------------------------------

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  json: () => Record<string, unknown>;
}

let certsRoot: string;
let certs: string;
let gatewayKey: CryptoKey;
let gatewayTls: { cert: string; key: string };
let sofTls: { cert: string; key: string };
let caPem: string;
let bif: Simulator;
let sof: Simulator;
const logLines: string[] = [];

function request(
  sim: Simulator,
  opts: { method?: string; path: string; body?: string; authorization?: string; tls?: { cert: string; key: string } | null; ca?: string },
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const tlsCreds = opts.tls === null ? {} : (opts.tls ?? gatewayTls);
    const headers: Record<string, string | number> = {};
    if (opts.body !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = Buffer.byteLength(opts.body);
    }
    if (opts.authorization !== undefined) headers.authorization = opts.authorization;
    const req = https.request(
      {
        host: 'localhost',
        port: sim.port,
        method: opts.method ?? 'POST',
        path: opts.path,
        ca: opts.ca ?? caPem,
        ...tlsCreds,
        headers,
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('aborted', () => reject(new Error('response aborted')));
        res.on('end', () => {
          if (!res.complete) return reject(new Error('response incomplete'));
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: () => JSON.parse(text) as Record<string, unknown> });
        });
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

interface TokenOptions {
  audience?: string;
  issuer?: string;
  bodyForDigest?: string;
  omit?: string[];
  iat?: number;
  key?: CryptoKey;
  htu?: string;
}

async function token(audience: string, body: string, path_: string, o: TokenOptions = {}): Promise<string> {
  const claims: Record<string, unknown> = {
    purpose: 'plan-coordination',
    policy: 'example-policy@1',
    audit_id: 'audit-0001',
    htm: 'POST',
    htu: o.htu ?? path_,
    body_sha256: sha256b64url(o.bodyForDigest ?? body),
  };
  for (const k of o.omit ?? []) delete claims[k];
  const iat = o.iat ?? Math.floor(Date.now() / 1000);
  let jwt = new SignJWT(claims)
    .setProtectedHeader({ alg: 'ES256', typ: 'JWT' })
    .setIssuer(o.issuer ?? GATEWAY)
    .setAudience(o.audience ?? audience)
    .setIssuedAt(iat)
    .setExpirationTime(iat + 300);
  if (!(o.omit ?? []).includes('jti')) jwt = jwt.setJti(randomUUID());
  return jwt.sign(o.key ?? gatewayKey);
}

/** A query as the gateway sends it: body, token bound to it, gateway certificate. */
async function query(sim: Simulator, contract: string, cpr: string, fields: readonly string[], o: TokenOptions = {}): Promise<Answer> {
  const body = JSON.stringify({ cpr, fields });
  const p = `/snitflade/v1/queries/${contract}`;
  return request(sim, { path: p, body, authorization: `Bearer ${await token(sim.system, body, p, o)}` });
}

const plain = (pred: (c: SyntheticCitizen) => boolean): SyntheticCitizen => {
  const c = population().find(pred);
  if (!c) throw new Error('no such citizen in the population');
  return c;
};

beforeAll(async () => {
  certsRoot = mkdtempSync(path.join(os.tmpdir(), 'snitflade-sim-'));
  certs = path.join(certsRoot, 'certs');
  await ensureDevPki(certs, { systems: [BIF, SOF, 'dpo-console'], gatewayId: GATEWAY });
  const read = (p: string): string => readFileSync(path.join(certs, p), 'utf8');
  gatewayKey = await importPKCS8(read('gateway/signing.key.pem'), 'ES256');
  gatewayTls = { cert: read('gateway/tls.crt.pem'), key: read('gateway/tls.key.pem') };
  sofTls = { cert: read(`clients/${SOF}/tls.crt.pem`), key: read(`clients/${SOF}/tls.key.pem`) };
  caPem = read('ca/ca.crt.pem');
  const logger = winston.createLogger({
    format: winston.format.json(),
    transports: [
      new winston.transports.Stream({
        stream: new Writable({ write: (chunk: Buffer, _e, cb) => (logLines.push(chunk.toString()), cb()) }),
      }),
    ],
  });
  bif = await startSimulator({ system: BIF, port: 0, certsDir: certs, gatewayId: GATEWAY, logger });
  sof = await startSimulator({ system: SOF, certsDir: certs, logger });
});

afterAll(async () => {
  await Promise.all([bif?.close(), sof?.close()]);
  rmSync(certsRoot, { recursive: true, force: true });
});

afterEach(() => {
  bif.setFault(null);
  sof.setFault(null);
});

describe('simulated provider systems', () => {
  it('listen on https://localhost with an ephemeral port and answer /healthz', async () => {
    expect(bif.url).toBe(`https://localhost:${bif.port}`);
    expect(bif.port).toBeGreaterThan(0);
    expect(sof.port).not.toBe(bif.port);
    const r = await request(bif, { method: 'GET', path: '/healthz' });
    expect(r.status).toBe(200);
    expect(r.json()).toEqual({ status: 'ok', system: BIF });
  });

  it('the jobcentre serves exactly the requested employment fields', async () => {
    const c = plain((x) => x.employment !== null && x.extras.employment === undefined && x.employment.sanctions.length > 0);
    const r = await query(bif, EMPLOYMENT, c.cpr, ['targetGroup', 'sanctions', 'caseworkerContact']);
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toMatch(/^application\/json/);
    expect(r.json()).toEqual({
      targetGroup: c.employment!.targetGroup,
      sanctions: c.employment!.sanctions,
      caseworkerContact: c.employment!.caseworkerContact,
    });
  });

  it('social services serve the coordination summary, including a null support contact', async () => {
    const c = plain((x) => x.social?.openSocialCase === true && x.social.supportContact === null && x.extras.social === undefined);
    const r = await query(sof, SOCIAL, c.cpr, [...COORDINATION_SUMMARY_FIELDS]);
    expect(r.status).toBe(200);
    expect(r.json()).toEqual({ ...coordinationSummary(c, c.social!) });
    expect(r.json().supportContact).toBeNull();
  });

  it("sends the record's extra fields along, whatever was asked", async () => {
    const c = plain((x) => x.extras.employment !== undefined);
    const r = await query(bif, EMPLOYMENT, c.cpr, ['benefit']);
    expect(r.status).toBe(200);
    expect(r.json()).toEqual({ benefit: c.employment!.benefit, ...c.extras.employment });
    expect(Object.keys(r.json()).length).toBeGreaterThan(1);
  });

  it('ignores field names outside the contract', async () => {
    const c = plain((x) => x.employment !== null && x.extras.employment === undefined);
    const r = await query(bif, EMPLOYMENT, c.cpr, ['benefit', 'openSocialCase', 'internalNote']);
    expect(r.json()).toEqual({ benefit: c.employment!.benefit });
  });

  it('answers 404 SUBJECT_NOT_FOUND for a citizen it has no case for, without echoing the CPR', async () => {
    const unknown = '0101019999';
    expect(findCitizen(unknown)).toBeUndefined();
    const r = await query(bif, EMPLOYMENT, unknown, ['benefit']);
    expect(r.status).toBe(404);
    expect(r.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(r.json()).toMatchObject({ code: 'SUBJECT_NOT_FOUND', status: 404 });
    expect(r.text).not.toContain(unknown);

    const socialOnly = plain((x) => x.group === 'social-only');
    expect((await query(bif, EMPLOYMENT, socialOnly.cpr, ['benefit'])).json()).toMatchObject({ code: 'SUBJECT_NOT_FOUND' });
    const noSocial = plain((x) => x.group === 'employment-only' && x.social === null);
    expect((await query(sof, SOCIAL, noSocial.cpr, ['efforts'])).status).toBe(404);
  });

  it('refuses contracts it does not provide, bad bodies and other methods', async () => {
    const c = plain((x) => x.group === 'shared');
    expect((await query(bif, SOCIAL, c.cpr, ['efforts'])).json()).toMatchObject({ code: 'CONTRACT_UNKNOWN' });
    const bad = JSON.stringify({ cpr: '3213991234', fields: ['benefit'] });
    const p = `/snitflade/v1/queries/${EMPLOYMENT}`;
    const r = await request(bif, { path: p, body: bad, authorization: `Bearer ${await token(BIF, bad, p)}` });
    expect(r.status).toBe(400);
    expect(r.json()).toMatchObject({ code: 'REQUEST_INVALID' });
    expect((await request(bif, { method: 'GET', path: p })).status).toBe(405);
    expect((await request(bif, { method: 'GET', path: '/elsewhere' })).status).toBe(404);
  });

  it('counts the queries it served or refused', async () => {
    const before = bif.requests;
    const c = plain((x) => x.employment !== null);
    await query(bif, EMPLOYMENT, c.cpr, ['benefit']);
    await request(bif, { path: `/snitflade/v1/queries/${EMPLOYMENT}`, body: '{}' });
    await request(bif, { method: 'GET', path: '/healthz' });
    expect(bif.requests).toBe(before + 2);
  });

  it('never logs a CPR number', async () => {
    const c = plain((x) => x.employment !== null);
    await query(bif, EMPLOYMENT, c.cpr, ['benefit']);
    await query(bif, EMPLOYMENT, '0101019999', ['benefit']);
    await query(bif, '0101019999', '0101019999', ['benefit']); // a CPR number where the contract id goes
    expect(logLines.length).toBeGreaterThan(0);
    expect(logLines.some((l) => l.includes(EMPLOYMENT))).toBe(true);
    for (const line of logLines) expect(line).not.toMatch(/\d{10}/);
  });
});

describe('the gateway token', () => {
  const c = (): SyntheticCitizen => plain((x) => x.employment !== null);
  const refused = async (r: Promise<Answer>): Promise<void> => {
    const a = await r;
    expect(a.status).toBe(401);
    expect(a.json()).toMatchObject({ code: 'TOKEN_INVALID' });
  };

  it('is required', async () => {
    const body = JSON.stringify({ cpr: c().cpr, fields: ['benefit'] });
    await refused(request(bif, { path: `/snitflade/v1/queries/${EMPLOYMENT}`, body }));
    await refused(request(bif, { path: `/snitflade/v1/queries/${EMPLOYMENT}`, body, authorization: 'Bearer not.a.jwt' }));
  });

  it('must be for this system (audience)', async () => {
    await refused(query(bif, EMPLOYMENT, c().cpr, ['benefit'], { audience: SOF }));
  });

  it('must be issued by the gateway and signed with its key', async () => {
    await refused(query(bif, EMPLOYMENT, c().cpr, ['benefit'], { issuer: 'someone-else' }));
    const otherKey = await importPKCS8(readFileSync(path.join(certs, `clients/${SOF}/signing.key.pem`), 'utf8'), 'ES256');
    await refused(query(bif, EMPLOYMENT, c().cpr, ['benefit'], { key: otherKey }));
  });

  it('must be bound to this exact body', async () => {
    const other = JSON.stringify({ cpr: '0101019999', fields: ['benefit'] });
    await refused(query(bif, EMPLOYMENT, c().cpr, ['benefit'], { bodyForDigest: other }));
  });

  it('must name this path when it names one', async () => {
    await refused(query(bif, EMPLOYMENT, c().cpr, ['benefit'], { htu: `/snitflade/v1/queries/${SOCIAL}` }));
  });

  it('must carry jti, purpose, policy, audit_id and body_sha256', async () => {
    for (const claim of ['jti', 'purpose', 'policy', 'audit_id', 'body_sha256']) {
      await refused(query(bif, EMPLOYMENT, c().cpr, ['benefit'], { omit: [claim] }));
    }
  });

  it('must be at most 120 seconds old', async () => {
    await refused(query(bif, EMPLOYMENT, c().cpr, ['benefit'], { iat: Math.floor(Date.now() / 1000) - 200 }));
    expect((await query(bif, EMPLOYMENT, c().cpr, ['benefit'], { iat: Math.floor(Date.now() / 1000) - 60 })).status).toBe(200);
  });

  it('must be ES256 (no HMAC with the public key)', async () => {
    const body = JSON.stringify({ cpr: c().cpr, fields: ['benefit'] });
    const p = `/snitflade/v1/queries/${EMPLOYMENT}`;
    const secret = readFileSync(path.join(certs, 'gateway/signing.pub.pem'));
    const jwt = await new SignJWT({ purpose: 'x', policy: 'y', audit_id: 'z', body_sha256: sha256b64url(body) })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer(GATEWAY)
      .setAudience(BIF)
      .setIssuedAt()
      .setJti('j1')
      .sign(secret);
    await refused(request(bif, { path: p, body, authorization: `Bearer ${jwt}` }));
  });
});

describe('mutual TLS', () => {
  it("refuses a valid client certificate that is not the gateway's with 403", async () => {
    const c = plain((x) => x.employment !== null);
    const body = JSON.stringify({ cpr: c.cpr, fields: ['benefit'] });
    const p = `/snitflade/v1/queries/${EMPLOYMENT}`;
    const r = await request(bif, { path: p, body, authorization: `Bearer ${await token(BIF, body, p)}`, tls: sofTls });
    expect(r.status).toBe(403);
    expect(r.json()).toMatchObject({ code: 'CLIENT_FORBIDDEN' });
  });

  it('refuses a connection without a client certificate', async () => {
    await expect(request(bif, { method: 'GET', path: '/healthz', tls: null })).rejects.toHaveProperty('code');
  });

  it('refuses a certificate named like the gateway from another CA', async () => {
    const rogueCa = createCa({ cn: 'Rogue CA' });
    const rogue = issueCertificate({ ca: rogueCa, cn: GATEWAY, eku: ['clientAuth'] });
    await expect(request(bif, { method: 'GET', path: '/healthz', tls: { cert: rogue.certPem, key: rogue.keyPem } })).rejects.toHaveProperty(
      'code',
    );
  });

  it('refuses a gateway-named certificate of the right CA that is not for client authentication', async () => {
    const ca = { certPem: caPem, keyPem: readFileSync(path.join(certs, 'ca/ca.key.pem'), 'utf8') };
    const serverOnly = issueCertificate({ ca, cn: GATEWAY, eku: ['serverAuth'] });
    const c = plain((x) => x.employment !== null);
    const body = JSON.stringify({ cpr: c.cpr, fields: ['benefit'] });
    const p = `/snitflade/v1/queries/${EMPLOYMENT}`;
    // OpenSSL checks the certificate's purpose and ends the handshake (the simulator would answer 403).
    await expect(
      request(bif, {
        path: p,
        body,
        authorization: `Bearer ${await token(BIF, body, p)}`,
        tls: { cert: serverOnly.certPem, key: serverOnly.keyPem },
      }),
    ).rejects.toMatchObject({ code: 'ECONNRESET' });
    // The same request with the gateway's real certificate goes through.
    expect((await request(bif, { path: p, body, authorization: `Bearer ${await token(BIF, body, p)}` })).status).toBe(200);
  });
});

describe('faults', () => {
  const c = (): SyntheticCitizen => plain((x) => x.employment !== null && x.extras.employment === undefined);

  it('delay: answers normally, but late', async () => {
    bif.setFault({ kind: 'delay', ms: 400 });
    const started = Date.now();
    const r = await query(bif, EMPLOYMENT, c().cpr, ['benefit']);
    expect(Date.now() - started).toBeGreaterThanOrEqual(380);
    expect(r.status).toBe(200);
    expect(r.json()).toEqual({ benefit: c().employment!.benefit });
  });

  it('status: answers with that status', async () => {
    bif.setFault({ kind: 'status', status: 503 });
    const r = await query(bif, EMPLOYMENT, c().cpr, ['benefit']);
    expect(r.status).toBe(503);
    expect(r.json()).toMatchObject({ code: 'SIMULATED_FAULT', status: 503 });
  });

  it('garbage: 200 labelled JSON that is not JSON', async () => {
    bif.setFault({ kind: 'garbage' });
    const r = await query(bif, EMPLOYMENT, c().cpr, ['benefit']);
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toMatch(/^application\/json/);
    expect(() => r.json()).toThrow(SyntaxError);
  });

  it('schema-break: a known field with the wrong type', async () => {
    bif.setFault({ kind: 'schema-break' });
    const r = await query(bif, EMPLOYMENT, c().cpr, ['targetGroup', 'benefit']);
    expect(r.status).toBe(200);
    expect(typeof r.json().targetGroup).toBe('number');
    expect(r.json().benefit).toBe(c().employment!.benefit);
    sof.setFault({ kind: 'schema-break' });
    const s = plain((x) => x.social !== null);
    expect(typeof (await query(sof, SOCIAL, s.cpr, ['efforts'])).json().efforts).toBe('string');
  });

  it('destroy: the connection breaks in the middle of the answer', async () => {
    bif.setFault({ kind: 'destroy' });
    await expect(query(bif, EMPLOYMENT, c().cpr, ['benefit'])).rejects.toThrow();
  });

  it('null: back to normal, and a bad fault is refused', async () => {
    bif.setFault({ kind: 'status', status: 500 });
    bif.setFault(null);
    expect((await query(bif, EMPLOYMENT, c().cpr, ['benefit'])).status).toBe(200);
    expect(() => bif.setFault({ kind: 'status', status: 99 })).toThrow(TypeError);
    expect(() => bif.setFault({ kind: 'delay', ms: -1 })).toThrow(TypeError);
    expect(() => bif.setFault({ kind: 'nonsense' } as never)).toThrow(TypeError);
  });

  it('close() does not wait for a delayed answer', async () => {
    const extra = await startSimulator({ system: BIF, certsDir: certs });
    extra.setFault({ kind: 'delay', ms: 20_000 });
    const pending = query(extra, EMPLOYMENT, c().cpr, ['benefit']).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 150));
    const started = Date.now();
    await extra.close();
    expect(Date.now() - started).toBeLessThan(2000);
    expect(await pending).toMatchObject({ code: 'ECONNRESET' });
  });
});

describe('startSimulator refuses what it cannot run', () => {
  it('an unknown system', async () => {
    await expect(startSimulator({ system: 'no-such-system', certsDir: certs })).rejects.toThrow(/no simulated system "no-such-system"/);
  });

  it('a folder without the development PKI', async () => {
    await expect(startSimulator({ system: BIF, certsDir: path.join(certsRoot, 'nothing') })).rejects.toThrow(
      /generate the development PKI first/,
    );
  });
});

const PINNED_CPR_DIGEST = 'g4GeDRkSZfeq9iwiig7tyq3Ey0Tv0Z_Fj6JEKc-RQIo';

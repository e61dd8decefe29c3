/**
 * The DPO's audit API against the real gateway over mutual TLS (SQLite store): search by
 * citizen and by the other filters with stable cursor paging and verification status, the
 * citizen's access report (JSON, CSV, HTML; employee hidden unless configured), verification
 * that finds tampering in the database file, SIEM forwarding, and no CPR number anywhere in
 * the database.
 */
import { copenhagenDate } from '../src/policy/dates.js';
import { jest } from '@jest/globals';
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import request from 'supertest';
import { mintRequestToken } from '../src/auth/mint.js';
import { buildCitizenReport } from '../src/audit/report.js';
import type { AuditRecord } from '../src/audit/types.js';
import { canonicalJson } from '../src/lib/digest.js';
import { population } from '../src/simulators/population.js';
import { startTestEnv, tls, tokenFor, TEST_CERTS, type TestEnv } from './support/env.js';
import { SERVED_BY_BOTH, withRelations } from './support/relations.js';

jest.setTimeout(60_000);

const STATUS = '/v1/queries/employment.citizen-status.v1';
const SUMMARY = '/v1/queries/social.coordination-summary.v1';
const citizens = population();
const shared = citizens.filter((c) => c.employment && c.social && !c.extras.employment && !c.extras.social);
const A = shared[0]!;
const B = shared[1]!;

let env: TestEnv;
let siemFile: string;
/** The audit ids of A's and B's exchanges, from the gateway's answers. */
const exchanges: Record<string, string> = {};
/** The audit ids of the registrations of A's relations (need to know): records about A too, by social services and the jobcentre. */
const aRelations: Record<'SOF' | 'BIF', string> = { SOF: '', BIF: '' };

async function post(client: string, urlPath: string, body: unknown, caseworker?: string) {
  const text = JSON.stringify(body);
  const token = await tokenFor(client, urlPath, text, caseworker !== undefined ? { caseworker } : {});
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

const dpo = (urlPath: string, body: unknown, client = 'dpo-console') => post(client, urlPath, body, 'dpo-anne');

async function verifyCall(client = 'dpo-console') {
  const token = await mintRequestToken({
    clientId: client,
    kid: `${client}-1`,
    key: readFileSync(path.join(TEST_CERTS, 'clients', client, 'signing.key.pem'), 'utf8'),
    audience: 'snitflade-gateway',
    caseworker: 'dpo-anne',
    purpose: 'audit-review',
    caseRef: 'DPO-2026-1',
    method: 'GET',
    path: '/v1/audit/verify',
    body: '',
  });
  const creds = tls(client);
  return request(env.url).get('/v1/audit/verify').ca(creds.ca).cert(creds.cert).key(creds.key).set('authorization', `Bearer ${token}`);
}

beforeAll(async () => {
  siemFile = path.join(mkdtempSync(path.join(tmpdir(), 'snitflade-siem-')), 'siem.jsonl');
  env = await startTestEnv({
    name: 'audit-api',
    overrides: { audit: { checkpointEveryRecords: 1000, checkpointEverySeconds: 3600, siem: { target: 'file', file: siemFile } } },
  });

  // Need to know: both administrations serve A and B, as the case systems registered.
  const [sof, bif] = await withRelations(env, A.cpr, SERVED_BY_BOTH);
  Object.assign(aRelations, { SOF: sof!.auditId, BIF: bif!.auditId });
  await withRelations(env, B.cpr, SERVED_BY_BOTH);
  const r1 = await post('sof-case-system', STATUS, { cpr: A.cpr, fields: ['targetGroup', 'incomeSupport'] }, 'sof-cw-0042');
  const r2 = await post('bif-jobcentre-system', SUMMARY, { cpr: A.cpr, fields: ['openSocialCase', 'efforts'] }, 'bif-cw-0007');
  const r3 = await post('sof-case-system', SUMMARY, { cpr: A.cpr, fields: ['openSocialCase'] }, 'sof-cw-0042');
  const r4 = await post('sof-case-system', STATUS, { cpr: B.cpr, fields: ['incomeSupport'] }, 'sof-cw-0099');
  expect([r1.status, r2.status, r3.status, r4.status]).toEqual([200, 200, 403, 200]);
  exchanges.aStatus = r1.body.disclosure.auditId;
  exchanges.aSummary = r2.body.disclosure.auditId;
  exchanges.aDenied = r3.body.auditId;
  exchanges.bStatus = r4.body.disclosure.auditId;
  await env.gateway.audit.checkpointer!.checkpoint();
});
afterAll(async () => {
  await env?.close();
});

describe('POST /v1/audit/search', () => {
  it("finds exactly the citizen's records by CPR number, each verified against a signed checkpoint", async () => {
    const res = await dpo('/v1/audit/search', { cpr: A.cpr, limit: 200 });
    expect(res.status).toBe(200);
    const results = res.body.results as { record: AuditRecord; verification: { status: string; checkpoint?: { seq: number } } }[];
    const exchangesFound = results.filter((r) => r.record.kind !== 'dpo-access');
    expect(new Set(exchangesFound.map((r) => r.record.auditId))).toEqual(
      new Set([aRelations.SOF, aRelations.BIF, exchanges.aStatus, exchanges.aSummary, exchanges.aDenied]),
    );
    const mine = env.gateway.pseudonyms.all(A.cpr);
    for (const r of results) expect(mine).toContain(r.record.subject);
    for (const r of exchangesFound) expect(r.verification).toMatchObject({ status: 'verified', checkpoint: { seq: expect.any(Number) } });
    // The search itself is in the trail, about the citizen by pseudonym, written before the answer.
    const access = results.find((r) => r.record.kind === 'dpo-access' && r.record.auditId === res.body.auditId);
    expect(access?.record).toMatchObject({
      caller: { system: 'dpo-console', administration: 'DPO' },
      caseworker: 'dpo-anne',
      reasons: ['AUDIT_SEARCH'],
      subject: env.gateway.pseudonyms.pseudonym(A.cpr),
    });
    expect(access?.verification.status).toBe('pending');
    expect(JSON.stringify(res.body)).not.toContain(A.cpr);
  });

  it('pages newest first with a cursor, without repeats or gaps, in a stable order', async () => {
    const all = (await dpo('/v1/audit/search', { cpr: A.cpr, limit: 200 })).body.results as { record: AuditRecord }[];
    const paged: AuditRecord[] = [];
    let cursor: string | undefined;
    for (let i = 0; i < 50; i++) {
      const res = await dpo('/v1/audit/search', { cpr: A.cpr, limit: 2, ...(cursor !== undefined ? { cursor } : {}) });
      expect(res.status).toBe(200);
      expect(res.body.results.length).toBeLessThanOrEqual(2);
      paged.push(...(res.body.results as { record: AuditRecord }[]).map((r) => r.record));
      cursor = res.body.next;
      if (cursor === undefined) break;
    }
    // The paged run added its own dpo-access records: compare the exchange records, which do not move.
    const ids = (rs: readonly AuditRecord[]) => rs.filter((r) => r.kind !== 'dpo-access').map((r) => r.id);
    expect(ids(paged)).toEqual(ids(all.map((r) => r.record)));
    expect(new Set(paged.map((r) => r.id)).size).toBe(paged.length);
    const times = paged.map((r) => r.time);
    expect([...times].sort().reverse()).toEqual(times);
  });

  it('filters by calling system, caseworker, contract, purpose, policy, decision, reason and time', async () => {
    const search = async (body: object) =>
      ((await dpo('/v1/audit/search', { ...body, limit: 200 })).body.results as { record: AuditRecord }[]).map((r) => r.record);
    expect(new Set((await search({ cpr: A.cpr, callerSystem: 'bif-jobcentre-system' })).map((r) => r.auditId))).toEqual(
      new Set([aRelations.BIF, exchanges.aSummary]),
    );
    expect(new Set((await search({ caseworker: 'sof-cw-0099' })).map((r) => r.auditId))).toEqual(new Set([exchanges.bStatus]));
    expect(new Set((await search({ cpr: A.cpr, contract: 'employment.citizen-status.v1' })).map((r) => r.auditId))).toEqual(
      new Set([exchanges.aStatus]),
    );
    expect(
      new Set((await search({ cpr: B.cpr, purpose: 'plan-coordination', policy: 'sof-reads-employment-status' })).map((r) => r.auditId)),
    ).toEqual(new Set([exchanges.bStatus]));
    const denied = await search({ cpr: A.cpr, decision: 'deny' });
    expect(denied.map((r) => r.auditId)).toEqual([exchanges.aDenied]);
    expect((await search({ reason: 'NO_POLICY', cpr: A.cpr })).map((r) => r.auditId)).toEqual([exchanges.aDenied]);
    const first = (await search({ cpr: A.cpr, kind: 'release' })).at(-1)!;
    expect(await search({ cpr: A.cpr, kind: 'release', to: first.time })).toEqual([]);
    expect((await search({ cpr: A.cpr, kind: 'release', from: first.time })).length).toBe(2);
  });

  it('is for the DPO only, and refuses a bad body without repeating it', async () => {
    const notDpo = await dpo('/v1/audit/search', { cpr: A.cpr }, 'sof-case-system');
    expect(notDpo.status).toBe(403);
    expect(notDpo.body.code).toBe('FORBIDDEN_ROLE');
    const bad = await dpo('/v1/audit/search', { cpr: `${A.cpr}1`, limit: 0, color: 'red' });
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('AUDIT_QUERY_INVALID');
    expect((bad.body.errors as { path: string }[]).map((e) => e.path).sort()).toEqual(['/', '/cpr', '/limit']);
    expect(JSON.stringify(bad.body)).not.toContain(A.cpr);
    const cursor = await dpo('/v1/audit/search', { cursor: 'bm90LWEtY3Vyc29y' });
    expect(cursor.body.code).toBe('AUDIT_QUERY_INVALID');
  });
});

describe('POST /v1/audit/citizen-report', () => {
  it('lists every disclosure and refused look-up about the citizen, with data categories, purpose and legal basis, and no employee', async () => {
    const res = await dpo('/v1/audit/citizen-report', { cpr: A.cpr });
    expect(res.status).toBe(200);
    const report = res.body;
    expect(report.entries.map((e: { auditId: string }) => e.auditId).sort()).toEqual(
      [exchanges.aStatus, exchanges.aSummary, exchanges.aDenied].sort(),
    );
    expect(report.summary).toEqual({ disclosed: 2, refused: 1, notDisclosed: 0 });
    expect(report.includesEmployee).toBe(false);
    const status = report.entries.find((e: { auditId: string }) => e.auditId === exchanges.aStatus);
    expect(status).toMatchObject({
      outcome: 'disclosed',
      kind: 'query',
      recipient: { administration: 'SOF', administrationName: { da: 'Socialforvaltningen' }, system: 'sof-case-system' },
      source: { administration: 'BIF', system: 'bif-jobcentre-system' },
      contract: { id: 'employment.citizen-status.v1' },
      purpose: {
        id: 'plan-coordination',
        title: { da: 'Koordinering af jobplan og handleplan', en: 'Coordination of the job plan and the social action plan' },
      },
    });
    expect(status.fields).toEqual([
      {
        name: 'targetGroup',
        category: 'employment',
        categoryLabel: { da: 'Beskæftigelse og ydelser', en: 'Employment and benefits' },
        label: { da: 'Målgruppe', en: 'Target group' },
        special: false,
      },
      {
        name: 'incomeSupport',
        category: 'employment',
        categoryLabel: { da: 'Beskæftigelse og ydelser', en: 'Employment and benefits' },
        label: {
          da: 'Forsørgelse (kommunal ydelse eller a-dagpenge)',
          en: 'Income support (a municipal benefit or unemployment insurance)',
        },
        special: false,
      },
    ]);
    expect(status.legalBasis.en).toMatch(/GDPR Art\. 6\(1\)\(e\)/);
    expect(status.legalBasis.da).toMatch(/^Databeskyttelsesforordningens art\. 6, stk\. 1, litra e; Forvaltningsloven § 28/);
    const summary = report.entries.find((e: { auditId: string }) => e.auditId === exchanges.aSummary);
    expect(summary).toMatchObject({ outcome: 'disclosed', recipient: { administration: 'BIF' } });
    expect(summary.fields.map((f: { name: string }) => f.name)).toEqual(['openSocialCase']);
    const denied = report.entries.find((e: { auditId: string }) => e.auditId === exchanges.aDenied);
    expect(denied).toMatchObject({ outcome: 'refused', fields: [], reasons: [{ code: 'NO_POLICY' }] });
    expect(denied.requested.map((f: { name: string }) => f.name)).toEqual(['openSocialCase']);
    for (const e of report.entries) expect(e).not.toHaveProperty('caseworker');
    expect(JSON.stringify(report)).not.toContain('sof-cw-0042');
    expect(JSON.stringify(report)).not.toContain(A.cpr);
    // B's exchange is B's alone.
    const b = (await dpo('/v1/audit/citizen-report', { cpr: B.cpr })).body;
    expect(b.entries.map((e: { auditId: string }) => e.auditId)).toEqual([exchanges.bStatus]);
  });

  it('names the employee only when configured to', async () => {
    const g = env.gateway;
    const report = await buildCitizenReport(
      { store: g.store, pseudonyms: g.pseudonyms, rules: g.rules(), includeEmployee: true },
      { cpr: A.cpr },
    );
    expect(report.entries.find((e) => e.auditId === exchanges.aStatus)?.caseworker).toBe('sof-cw-0042');
    expect(report.entries.find((e) => e.auditId === exchanges.aSummary)?.caseworker).toBe('bif-cw-0007');
  });

  it('comes as CSV and as a printable HTML page, in Danish and English', async () => {
    const csv = await dpo('/v1/audit/citizen-report', { cpr: A.cpr, format: 'csv', lang: 'da' });
    expect(csv.status).toBe(200);
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    const lines = csv.text
      .replace(/^\uFEFF/, '')
      .trimEnd()
      .split('\r\n');
    expect(lines[0]).toBe(
      'Tidspunkt,Udfald,Modtager (forvaltning),Modtagende system,Oplysningerne kom fra,Oplysninger,Formål,Hjemmel,Samtykke (kvittering),Samtykket blev givet af,Samtykket er dokumenteret ved,Begrundelse',
    );
    // Three exchanges; then, after an empty line, the relations' heading, columns and A's two
    // relations (both administrations serve A, registered today), by administration.
    const today = copenhagenDate(new Date());
    expect(lines).toHaveLength(9);
    expect(lines.slice(4)).toEqual([
      '',
      '"Forvaltninger, der har registreret, at de betjener dig"',
      'Forvaltning,Som,Fra,Til og med,Status,Afsluttet fordi',
      `Beskæftigelses- og Integrationsforvaltningen,Kontanthjælpssag,${today},indtil videre,Gældende,`,
      `Socialforvaltningen,Åben socialsag,${today},indtil videre,Gældende,`,
    ]);
    expect(csv.text).toContain(
      'Målgruppe (Beskæftigelse og ydelser); Forsørgelse (kommunal ydelse eller a-dagpenge) (Beskæftigelse og ydelser)',
    );

    const html = await dpo('/v1/audit/citizen-report', { cpr: A.cpr, format: 'html', lang: 'en' });
    expect(html.status).toBe(200);
    expect(html.headers['content-type']).toMatch(/^text\/html/);
    expect(html.headers['content-security-policy']).toMatch(/^default-src 'none'; style-src 'sha256-/);
    expect(html.text).toContain('<html lang="en">');
    expect(html.text).toContain('Overview of disclosures of your data');
    expect(html.text).toContain('Coordination of the job plan and the social action plan');
    expect(html.text).not.toMatch(/<script|src=|href=/i);
    expect(html.text).not.toContain(A.cpr);
  });
});

describe('GET /v1/audit/verify and tampering in the database file', () => {
  it('reports every chain verified with its checkpoints, then finds a record changed in the SQLite file and says where', async () => {
    const ok = await verifyCall();
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ ok: true, chains: [{ chain: 'gw1', ok: true, lastCheckpoint: { seq: expect.any(Number) } }] });
    expect((await verifyCall('bif-jobcentre-system')).body.code).toBe('FORBIDDEN_ROLE');

    const target = (await env.gateway.store.audit.search({ auditId: exchanges.aStatus, kind: 'release', limit: 1 })).records[0]!;
    const db = new Database(env.config.store.kind === 'sqlite' ? env.config.store.file : '', { timeout: 5000 });
    try {
      db.prepare('UPDATE audit_record SET record = ? WHERE chain = ? AND seq = ?').run(
        canonicalJson({ ...target, fields: { ...target.fields, released: ['targetGroup'] } }),
        target.chain,
        target.seq,
      );
    } finally {
      db.close();
    }
    const bad = await verifyCall();
    expect(bad.body.ok).toBe(false);
    expect(bad.body.chains[0].problem).toMatchObject({ seq: target.seq, kind: 'hash-mismatch' });
    const found = (await dpo('/v1/audit/search', { auditId: exchanges.aStatus, kind: 'release' })).body.results[0];
    expect(found.verification.status).toBe('failed');
  });

  it('forwarded every record and checkpoint to the SIEM file as JSON lines without CPR numbers or pseudonyms', () => {
    const lines = readFileSync(siemFile, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.filter((l) => l.type === 'snitflade.audit').length).toBeGreaterThanOrEqual(7);
    expect(lines.some((l) => l.type === 'snitflade.checkpoint' && typeof l.jws === 'string')).toBe(true);
    const text = JSON.stringify(lines);
    for (const c of [A, B]) expect(text).not.toContain(c.cpr);
    expect(text).not.toContain(env.gateway.pseudonyms.pseudonym(A.cpr));
    expect(lines.find((l) => l.auditId === exchanges.aStatus && l.kind === 'release')).toMatchObject({
      citizen: true,
      fields: { released: ['targetGroup', 'incomeSupport'] },
    });
  });

  it('no file of the database holds a CPR number', () => {
    const files = readdirSync(env.dataDir).filter((f) => f.startsWith('snitflade.db'));
    expect(files.length).toBeGreaterThan(0);
    const bytes = files
      .filter((f) => existsSync(path.join(env.dataDir, f)))
      .map((f) => readFileSync(path.join(env.dataDir, f)).toString('latin1'))
      .join('');
    expect(bytes).toContain(env.gateway.pseudonyms.pseudonym(A.cpr));
    for (const c of [A, B]) {
      expect(bytes).not.toContain(c.cpr);
      expect(bytes).not.toContain(`${c.cpr.slice(0, 6)}-${c.cpr.slice(6)}`);
    }
  });
});

/**
 * The DPO's review pages, driven in a real browser: Debian's Chromium, headless, through
 * playwright-core (never a downloaded browser), with the DPO's client certificate, against the
 * real gateway and simulators of the demo over mutual TLS. The suite also takes the README's
 * screenshots (docs/screenshots/*.png) from the running pages.
 */
import { jest } from '@jest/globals';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import request from 'supertest';
import { issueCertificate } from '../src/pki/devpki.js';
import { copenhagenDate } from '../src/policy/dates.js';
import { addDays } from '../src/relations/register.js';
import { population, type SyntheticCitizen } from '../src/simulators/population.js';
import { postAs, waitFor } from './support/calls.js';
import { ROOT, startTestEnv, tls, tokenFor, TEST_CERTS, type TestEnv } from './support/env.js';

jest.setTimeout(180_000);

const CHROMIUM = '/usr/bin/chromium';
// Every run takes the screenshots; they replace the README's (docs/screenshots) only when asked
// with SNITFLADE_UPDATE_SCREENSHOTS=1, so an ordinary `npm test` leaves the tracked files alone.
const SCREENSHOTS =
  process.env.SNITFLADE_UPDATE_SCREENSHOTS === '1' ? path.join(ROOT, 'docs', 'screenshots') : path.join(ROOT, 'test-output', 'screenshots');
const STATUS = '/v1/queries/employment.citizen-status.v1';
const SUMMARY = '/v1/queries/social.coordination-summary.v1';

const citizens = population();
const shared = citizens.filter((c) => c.employment !== null && c.social !== null && !c.extras.employment && !c.extras.social);
const withJob = citizens.filter((c) => c.employment !== null);
/** The citizen the DPO looks up: asked about by both administrations. */
const subject = shared[0] as SyntheticCitizen;
/** A citizen who consents to the rehabilitation team's look-up, and later withdraws. */
const consenting = shared[1] as SyntheticCitizen;
const SNOOP = 'sof-cw-0666';
/** The citizens of the traffic below, each served by both administrations (the subject first). */
const heldByBoth = [
  ...new Set(
    [subject, consenting, ...withJob.slice(12, 20), ...withJob.slice(40, 52)].filter((c): c is SyntheticCitizen => c !== undefined),
  ),
];
/** Citizens social services serve and the jobcentre does not. */
const socialOnly = citizens.filter((c) => c.employment === null && c.social !== null).slice(0, 2);
const today = copenhagenDate(new Date());
let endedRelationId: string;

let env: TestEnv;
let dpo: BrowserContext;
let page: Page;
const userDirs: string[] = [];
/** Every URL the DPO's browser asked for: none may hold a CPR number. */
const urls: string[] = [];
let disclosureAuditId: string;

async function openBrowser(client: string | null): Promise<BrowserContext> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'snitflade-chromium-'));
  userDirs.push(dir);
  return chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    ignoreHTTPSErrors: true,
    acceptDownloads: true,
    viewport: { width: 1280, height: 860 },
    locale: 'da-DK',
    ...(client !== null
      ? {
          clientCertificates: [
            {
              origin: env.url,
              certPath: path.join(TEST_CERTS, 'clients', client, 'tls.crt.pem'),
              keyPath: path.join(TEST_CERTS, 'clients', client, 'tls.key.pem'),
            },
          ],
        }
      : {}),
  });
}

const shot = (name: string) => page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });

function query(client: string, urlPath: string, cpr: string, fields: string[], overrides: Parameters<typeof postAs>[4] = {}) {
  return postAs(env.url, client, urlPath, { cpr, fields }, overrides);
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(`${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium); the suite never downloads a browser`);
  mkdirSync(SCREENSHOTS, { recursive: true });
  env = await startTestEnv({
    name: 'dpo-e2e',
    overrides: {
      upstream: { timeoutMs: 1000, maxResponseBytes: 1048576 },
      audit: { checkpointEveryRecords: 20, checkpointEverySeconds: 1 },
      notifications: { maxAttempts: 2, baseDelayMs: 20, maxDelayMs: 80, pollMs: 50, leaseMs: 3000 },
    },
  });

  // Need to know: both administrations declare that they serve every citizen of the traffic below
  // (the subject's social case is SOF-DPO-1), before any of it.
  const relate = (client: string, body: object, caseworker: string) =>
    postAs(env.url, client, '/v1/relations', body, { purpose: 'plan-coordination', caseworker });
  const start = addDays(today, -30);
  for (const [i, c] of heldByBoth.entries()) {
    const sof = { cpr: c.cpr, capacity: 'social-case', caseRef: `SOF-DPO-${i + 1}`, from: start, caseworker: 'sof-cw-0001' };
    expect((await relate('sof-case-system', sof, 'sof-cw-0001')).status).toBe(201);
    const bif = { cpr: c.cpr, capacity: 'cash-benefit', caseRef: `BIF-DPO-${i + 1}`, from: start };
    expect((await relate('bif-jobcentre-system', bif, 'bif-cw-0001')).status).toBe(201);
  }

  // The demo's traffic: both administrations asking about the subject, a refusal, ...
  const sof = await query('sof-case-system', STATUS, subject.cpr, ['targetGroup', 'incomeSupport', 'nextMeetingDate'], {
    caseworker: 'sof-cw-0001',
  });
  expect(sof.status).toBe(200);
  disclosureAuditId = sof.body.disclosure.auditId;
  expect(
    (await query('bif-jobcentre-system', SUMMARY, subject.cpr, ['openSocialCase', 'efforts'], { caseworker: 'bif-cw-0001' })).status,
  ).toBe(200);
  expect((await query('sof-case-system', SUMMARY, subject.cpr, ['openSocialCase'], { caseworker: 'sof-cw-0002' })).status).toBe(403);
  // ... caseworkers of the social services system each looking up a couple of citizens ...
  for (let cw = 1; cw <= 4; cw++) {
    for (let i = 0; i < 2; i++) {
      const res = await query('sof-case-system', STATUS, withJob[10 + cw * 2 + i]!.cpr, ['targetGroup'], { caseworker: `sof-cw-000${cw}` });
      expect(res.status).toBe(200);
    }
  }
  // ... and the planted anomaly: one of them looks up twelve different citizens.
  for (let i = 0; i < 12; i++) {
    expect((await query('sof-case-system', STATUS, withJob[40 + i]!.cpr, ['targetGroup'], { caseworker: SNOOP })).status).toBe(200);
  }
  // A disclosure that relies on a consent (a paper form social services recorded: the jobcentre's
  // own record would not count for health data), which the citizen then withdraws.
  const consent = await postAs(
    env.url,
    'sof-case-system',
    '/v1/consents',
    {
      cpr: consenting.cpr,
      recipients: ['BIF'],
      sources: ['SOF'],
      purposes: ['rehabilitation-team-assessment'],
      contracts: ['social.coordination-summary.v1'],
      categories: ['social', 'contact', 'plan', 'health'],
      validFrom: copenhagenDate(new Date()),
      validTo: addDays(copenhagenDate(new Date()), 180),
      evidence: { kind: 'recorded-by-caseworker', reference: 'SOF-FORM-2026-0007', form: 'paper' },
    },
    { purpose: 'rehabilitation-team-assessment' },
  );
  expect(consent.status).toBe(201);
  const rehab = await query('bif-jobcentre-system', SUMMARY, consenting.cpr, ['openSocialCase', 'healthEfforts'], {
    purpose: 'rehabilitation-team-assessment',
    caseworker: 'bif-cw-0002',
  });
  expect(rehab.status).toBe(200);
  const withdrawn = await postAs(
    env.url,
    'bif-jobcentre-system',
    `/v1/consents/${consent.body.consent.id}/withdraw`,
    { cpr: consenting.cpr },
    { purpose: 'rehabilitation-team-assessment' },
  );
  expect(withdrawn.status).toBe(200);
  // A sanction notice social services never receives: a dead letter.
  env.simulators['sof-case-system']!.setFault({ kind: 'status', status: 503 });
  const notice = await postAs(
    env.url,
    'bif-jobcentre-system',
    '/v1/notifications/employment.sanction-notice.v1',
    {
      cpr: subject.cpr,
      event: {
        sanctionDate: '2026-01-05',
        sanctionType: 'reduction',
        amountDkk: 1200,
        benefit: 'cash-benefit',
        jobcentreUnit: 'Jobcenter København, Nørrebro',
        caseworkerContact: { name: 'Sagsbehandler 0001', phone: '+45 0000 0001', email: 'sagsbehandler.0001@example.invalid' },
      },
    },
    { purpose: 'sanction-notice' },
  );
  expect(notice.status).toBe(202);
  await waitFor(
    'the notice is dead-lettered',
    async () => (await env.gateway.store.outbox.list({ state: 'dead', limit: 10 })).deliveries[0],
  );
  env.simulators['sof-case-system']!.setFault(null);

  // The relations register, as the case systems declared it after the traffic: the jobcentre also
  // had a sickness benefit case, changed its caseworker and ended it yesterday.
  const sickness = { cpr: subject.cpr, capacity: 'sickness-benefit', caseRef: 'BIF-DPO-S', from: start };
  const registered = await relate('bif-jobcentre-system', { ...sickness, caseworker: 'bif-cw-0001' }, 'bif-cw-0001');
  expect(registered.status).toBe(201);
  endedRelationId = registered.body.relation.id;
  expect((await relate('bif-jobcentre-system', { ...sickness, caseworker: 'bif-cw-0002' }, 'bif-cw-0002')).body.outcome).toBe('changed');
  const ended = await postAs(
    env.url,
    'bif-jobcentre-system',
    `/v1/relations/${endedRelationId}/end`,
    { to: addDays(today, -1), reason: 'case-closed' },
    { purpose: 'plan-coordination', caseworker: 'bif-cw-0002' },
  );
  expect(ended.status).toBe(200);
  // Two citizens only social services serve: fewer than five, not shown as a number.
  for (const [i, c] of socialOnly.entries())
    expect(
      (await relate('sof-case-system', { cpr: c.cpr, capacity: 'social-case', caseRef: `SOF-DPO-O${i}`, from: start }, 'sof-cw-0003'))
        .status,
    ).toBe(201);
  dpo = await openBrowser('dpo-console');
  page = dpo.pages()[0] ?? (await dpo.newPage());
  page.on('request', (r) => urls.push(r.url()));
});

afterAll(async () => {
  await dpo?.close();
  await env?.close();
  for (const dir of userDirs) rmSync(dir, { recursive: true, force: true });
});

describe('who may use the pages', () => {
  it('refuses a client that is not the DPO with a 403 page', async () => {
    const other = await openBrowser('sof-case-system');
    try {
      const p = other.pages()[0] ?? (await other.newPage());
      const res = await p.goto(`${env.url}/dpo/`);
      expect(res?.status()).toBe(403);
      await expect(p.textContent('#refused')).resolves.toContain('Ingen adgang');
      await expect(p.textContent('#refused-client')).resolves.toContain('sof-case-system');
      // and a form post does not get further either
      const post = await p.request.post(`${env.url}/dpo/search`, { form: { cpr: subject.cpr } });
      expect(post.status()).toBe(403);
      expect(await post.text()).not.toContain(subject.cpr);
    } finally {
      await other.close();
    }
  });

  it('refuses a browser without a client certificate (401 page)', async () => {
    const anonymous = await openBrowser(null);
    try {
      const p = anonymous.pages()[0] ?? (await anonymous.newPage());
      const res = await p.goto(`${env.url}/dpo/`);
      expect(res?.status()).toBe(401);
      await expect(p.textContent('#refused')).resolves.toContain('Klientcertifikat kræves');
    } finally {
      await anonymous.close();
    }
  });

  it('signs the DPO in with the DPO certificate to a short-lived, HttpOnly, Secure, SameSite=Strict session', async () => {
    await page.goto(`${env.url}/dpo/`);
    expect(page.url()).toBe(`${env.url}/dpo/sign-in`);
    await expect(page.textContent('#certificate-client')).resolves.toContain('dpo-console');
    await shot('sign-in');
    await Promise.all([page.waitForURL(`${env.url}/dpo/`), page.click('#sign-in')]);
    await expect(page.textContent('#signed-in-as')).resolves.toContain('dpo-console');
    const cookie = (await dpo.cookies(env.url)).find((c) => c.name === '__Host-snitflade-dpo');
    expect(cookie).toMatchObject({ httpOnly: true, secure: true, sameSite: 'Strict', path: '/' });
    expect(cookie!.expires - Date.now() / 1000).toBeLessThanOrEqual(8 * 3600 + 5);
  });

  it('sends strict security headers: a content security policy without inline script, no framing, no referrer to other sites', async () => {
    const res = await page.goto(`${env.url}/dpo/`);
    const h = res!.headers();
    expect(h['content-security-policy']).toContain("script-src 'self'");
    expect(h['content-security-policy']).toContain("default-src 'none'");
    expect(h['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(h['content-security-policy']).not.toContain('unsafe-inline');
    expect(h['x-frame-options']).toBe('DENY');
    expect(h['referrer-policy']).toBe('same-origin');
    expect(h['strict-transport-security']).toContain('max-age=');
    expect(h['cache-control']).toBe('no-store');
    // and the pages hold no inline script or style for it to allow
    const inline = await page.evaluate(
      "({ scripts: [...document.querySelectorAll('script')].filter((s) => !s.src).length, styles: document.querySelectorAll('style, [style]').length })",
    );
    expect(inline).toEqual({ scripts: 0, styles: 0 });
  });
});

describe('the overview', () => {
  it('charts requests and refusals per day, purpose, contract and calling system, with the refusal reasons and the integrity status', async () => {
    await page.goto(`${env.url}/dpo/`);
    const total = Number((await page.textContent('#total-requests'))!.replace(/\D/g, ''));
    expect(total).toBeGreaterThanOrEqual(25);
    expect(Number((await page.textContent('#total-refused'))!.replace(/\D/g, ''))).toBeGreaterThanOrEqual(1);
    expect(await page.locator('#chart-days g.bar').count()).toBe(30);
    await expect(page.locator('#chart-purpose').textContent()).resolves.toContain('Koordinering af jobplan og handleplan');
    await expect(page.locator('#chart-contract').textContent()).resolves.toContain('beskæftigelsesstatus');
    await expect(page.locator('#chart-caller').textContent()).resolves.toContain('sof-case-system');
    await expect(page.locator('#reasons-table').textContent()).resolves.toContain('NO_POLICY');
    await waitFor(
      'the trail verified intact',
      async () => {
        await page.goto(`${env.url}/dpo/`);
        return (await page.getAttribute('[data-integrity]', 'data-integrity')) === 'intact';
      },
      30_000,
    );
    await waitFor(
      'a signed checkpoint',
      async () => {
        await page.goto(`${env.url}/dpo/`);
        return (await page.textContent('#last-checkpoint'))?.includes('gw1');
      },
      30_000,
    );
    await shot('overview');
  });
});

describe('search', () => {
  it("finds a citizen's disclosures by CPR number, which never appears in a URL", async () => {
    await page.goto(`${env.url}/dpo/search`);
    await page.fill('#f-cpr', subject.cpr);
    await Promise.all([page.waitForURL(/\/dpo\/search\/[0-9a-f-]{36}$/), page.click('#search-submit')]);
    const rows = page.locator('#results tbody tr');
    expect(await rows.count()).toBeGreaterThanOrEqual(5);
    const audits = await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-audit-id')));
    expect(audits).toContain(disclosureAuditId);
    await expect(page.textContent('#results')).resolves.toContain('Udlevering');
    await shot('search');
    // The search itself is in the trail, under the citizen's pseudonym.
    const { records } = await env.gateway.store.audit.search({
      kind: 'dpo-access',
      subject: env.gateway.pseudonyms.pseudonym(subject.cpr),
      limit: 10,
    });
    expect(records.map((r) => r.reasons)).toContainEqual(['AUDIT_SEARCH']);
    expect(urls.filter((u) => u.includes(subject.cpr))).toEqual([]);
  });

  it('filters by caseworker, decision and period, and pages with a cursor', async () => {
    await page.goto(`${env.url}/dpo/search`);
    await page.fill('#f-caseworker', SNOOP);
    await page.selectOption('#f-kind', 'decision');
    await page.selectOption('#f-decision', 'permit');
    const day = (ms: number) => new Intl.DateTimeFormat('sv-SE', { timeZone: 'Europe/Copenhagen' }).format(new Date(ms));
    const today = day(Date.now());
    await page.fill('#f-from', day(Date.now() - 86_400_000)); // yesterday too: the demo's traffic may have been before midnight
    await page.fill('#f-to', today);
    await Promise.all([page.waitForURL(/\/dpo\/search\/[0-9a-f-]{36}$/), page.click('#search-submit')]);
    expect(await page.locator('#results tbody tr').count()).toBe(12);
    // a day with nothing
    await page.goto(`${env.url}/dpo/search`);
    await page.fill('#f-caseworker', SNOOP);
    await page.fill('#f-from', '2020-01-01');
    await page.fill('#f-to', '2020-01-31');
    await Promise.all([page.waitForURL(/\/dpo\/search\//), page.click('#search-submit')]);
    await expect(page.locator('#no-results').isVisible()).resolves.toBe(true);
    // paging: the whole trail, fifty a page, no record twice
    await page.goto(`${env.url}/dpo/search`);
    await Promise.all([page.waitForURL(/\/dpo\/search\//), page.click('#search-submit')]);
    const first = await page.locator('#results tbody tr').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-record')));
    expect(first).toHaveLength(50);
    await Promise.all([page.waitForURL(/\?after=/), page.click('#next-page')]);
    const second = await page.locator('#results tbody tr').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-record')));
    expect(second.length).toBeGreaterThan(0);
    expect(second.filter((id) => first.includes(id))).toEqual([]);
  });

  it('refuses a CPR number that is not one, without repeating it', async () => {
    await page.goto(`${env.url}/dpo/search`);
    await page.fill('#f-cpr', '3213999999');
    const [res] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/dpo/search') && r.request().method() === 'POST'),
      page.click('#search-submit'),
    ]);
    expect(res.status()).toBe(400);
    await expect(page.textContent('#search-error')).resolves.toContain('CPR-nummeret er ikke gyldigt');
    expect(await page.content()).not.toContain('3213999999');
  });
});

describe('a record', () => {
  it('shows everything the record holds, its policy and legal basis in words, and its verification', async () => {
    const { records } = await env.gateway.store.audit.search({ auditId: disclosureAuditId, kind: 'release', limit: 1 });
    const release = records[0]!;
    await page.goto(`${env.url}/dpo/records/${release.id}`);
    const policy = env.gateway.rules().policies.policies.find((p) => p.id === 'sof-reads-employment-status')!;
    await expect(page.textContent('#policy-title')).resolves.toContain(policy.title.da);
    // The rule in Danish: no English rule text on the Danish page.
    const basis = (await page.textContent('#legal-basis'))!;
    expect(basis).toContain('Forvaltningsloven § 28, stk. 1');
    expect(basis).toContain(policy.legalBasis.description.da.slice(0, 60));
    expect(basis).not.toContain(policy.legalBasis.description.en.slice(0, 60));
    expect(basis).not.toContain(policy.title.en);
    expect(basis).not.toMatch(/Example|example:/);
    await expect(page.textContent('#legal-basis-text')).resolves.toContain('Databeskyttelsesforordningens art. 6, stk. 1, litra e');
    await expect(page.textContent('#record-purpose')).resolves.toContain('Koordinering af jobplan og handleplan');
    await expect(page.textContent('#record-released')).resolves.toContain('targetGroup');
    await expect(page.textContent('#record-caseworker')).resolves.toBe('sof-cw-0001');
    expect(await page.getAttribute('#verification', 'data-verified')).toBe('intact');
    // sealed by a signed checkpoint by now (one every second in this test)
    await waitFor(
      'the record sealed by a checkpoint',
      async () => {
        await page.goto(`${env.url}/dpo/records/${release.id}`);
        return (await page.getAttribute('#seal', 'data-seal')) === 'verified';
      },
      30_000,
    );
    expect(await page.content()).not.toContain(subject.cpr);
    await shot('record');
  });
});

describe('words that say what happened', () => {
  it('labels the fields a decision permitted as permitted, and only a release as released', async () => {
    const { records } = await env.gateway.store.audit.search({ auditId: disclosureAuditId, limit: 10 });
    const decision = records.find((r) => r.kind === 'decision' && r.decision === 'permit')!;
    const release = records.find((r) => r.kind === 'release')!;
    expect(decision.fields.released.length).toBeGreaterThan(0);
    await page.goto(`${env.url}/dpo/records/${decision.id}`);
    await expect(page.textContent('#record-facts')).resolves.toContain('Tilladte felter');
    await expect(page.textContent('#record-facts')).resolves.not.toContain('Udleverede felter');
    await page.goto(`${env.url}/dpo/records/${release.id}`);
    await expect(page.textContent('#record-facts')).resolves.toContain('Udleverede felter');
    await page.goto(`${env.url}/dpo/search`);
    await page.fill('#f-cpr', subject.cpr);
    await Promise.all([page.waitForURL(/\/dpo\/search\/[0-9a-f-]{36}$/), page.click('#search-submit')]);
    const fieldsOf = (id: string) => page.textContent(`#results tr[data-record="${id}"] td:last-child`);
    await expect(fieldsOf(decision.id)).resolves.toMatch(/^Tilladt: /);
    await expect(fieldsOf(release.id)).resolves.toMatch(/^Udleveret: /);
  });

  it('writes durations in Danish with a decimal comma and no thousands separator, and in English with a point', async () => {
    const { records } = await env.gateway.store.audit.search({ auditId: disclosureAuditId, kind: 'release', limit: 1 });
    const release = records[0]!;
    expect(release.latencyMs).not.toBeNull();
    await page.goto(`${env.url}/dpo/records/${release.id}`);
    // The processing time's row, found by its label (as a DPO reads it), not by an id the fix added.
    const latency = (label: string) => page.textContent(`#record-facts dt:text-is("${label}") + dd`);
    const da = (await latency('Behandlingstid'))!;
    expect(da).toMatch(/^\d+(,\d)? ms$/);
    expect(da).toBe(`${String(Math.round(release.latencyMs! * 10) / 10).replace('.', ',')} ms`);
    const record = `${env.url}/dpo/records/${release.id}`;
    await Promise.all([page.waitForURL(record), page.click('#lang-switch')]);
    const en = (await latency('Latency'))!;
    expect(en).toBe(`${Math.round(release.latencyMs! * 10) / 10} ms`);
    await Promise.all([page.waitForURL(record), page.click('#lang-switch')]);
    await expect(latency('Behandlingstid')).resolves.toBe(da);
    // The overview's share of refusals: a decimal comma too.
    await page.goto(`${env.url}/dpo/`);
    await expect(page.textContent('#total-refused + div')).resolves.toMatch(/^\d+(,\d)? %$/);
  });

  it('says "Ved hver sidevisning" on the integrity page', async () => {
    await page.goto(`${env.url}/dpo/integrity`);
    const text = (await page.textContent('main'))!;
    expect(text).toContain('Ved hver sidevisning');
    expect(text).not.toContain('hvert sidevisning');
  });
});

describe('anomalies', () => {
  it('flags the planted anomaly and explains it in words, and flags nobody who did the usual', async () => {
    await page.goto(`${env.url}/dpo/anomalies`);
    const flagged = page.locator(`#anomalies article[data-kind="many-citizens"][data-caseworker="${SNOOP}"]`);
    await expect(flagged.count()).resolves.toBe(1);
    const text = (await flagged.textContent())!;
    expect(text).toContain('12 forskellige borgere');
    expect(text).toMatch(/typisk \(median\) [23](,5)? op/); // Danish numbers
    expect(await page.locator('#anomalies article[data-kind="many-citizens"][data-caseworker="sof-cw-0001"]').count()).toBe(0);
    await shot('anomalies');
  });

  it('flags a disclosure that relied on a consent the citizen withdrew', async () => {
    await page.goto(`${env.url}/dpo/anomalies`);
    const flagged = page.locator('#anomalies article[data-kind="withdrawn-consent"]');
    await expect(flagged.count()).resolves.toBe(1);
    await expect(flagged.textContent()).resolves.toContain('bif-jobcentre-system');
  });
});

describe("the citizen's access report", () => {
  it('makes a printable page in Danish, and downloads it as CSV and PDF', async () => {
    await page.goto(`${env.url}/dpo/citizen-report`);
    await page.fill('#r-cpr', subject.cpr);
    await page.click('#report-submit');
    await page.waitForSelector('#citizen-report');
    await expect(page.textContent('#citizen-report h1')).resolves.toBe('Oversigt over videregivelse af dine oplysninger');
    expect(Number(await page.textContent('#report-summary [data-outcome="disclosed"]'))).toBeGreaterThanOrEqual(2);
    expect(Number(await page.textContent('#report-summary [data-outcome="refused"]'))).toBeGreaterThanOrEqual(1);
    await expect(page.locator(`#citizen-report [data-audit-id="${disclosureAuditId}"]`).textContent()).resolves.toContain(
      'Koordinering af jobplan og handleplan',
    );
    expect(await page.content()).not.toContain(`>${subject.cpr}<`);
    // Who serves the citizen: the jobcentre's relations (one ended) and social services', without case references.
    const held = await page
      .locator('#report-relations section.relation')
      .evaluateAll((s) =>
        s.map((x) => `${x.getAttribute('data-administration')}:${x.getAttribute('data-capacity')}:${x.getAttribute('data-state')}`),
      );
    expect(held).toContain('BIF:sickness-benefit:ended');
    expect(held.filter((h) => h.startsWith('SOF:') && h.endsWith(':active')).length).toBeGreaterThanOrEqual(1);
    expect(held.filter((h) => h.startsWith('BIF:') && h.endsWith(':active')).length).toBeGreaterThanOrEqual(1);
    await expect(page.textContent('#report-relations')).resolves.toContain('Sagen blev afsluttet');
    for (const ref of ['SOF-DPO-1', 'BIF-DPO-S']) expect(await page.textContent('#citizen-report')).not.toContain(ref);
    await shot('citizen-report');

    const [csv] = await Promise.all([page.waitForEvent('download'), page.click('#download-csv')]);
    expect(csv.suggestedFilename()).toMatch(/^indsigt-\d{4}-\d{2}-\d{2}\.csv$/);
    const text = readFileSync((await csv.path())!, 'utf8');
    expect(text.split('\r\n')[0]).toContain('Tidspunkt');
    expect(text).toContain('Koordinering af jobplan og handleplan');
    expect(text).toContain(',Kontanthjælpssag,');
    expect(text).not.toContain(subject.cpr);
    expect(text).not.toContain('BIF-DPO-1');

    const [pdf] = await Promise.all([page.waitForEvent('download'), page.click('#download-pdf')]);
    const bytes = readFileSync((await pdf.path())!);
    expect(bytes.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    expect(bytes.subarray(-8).toString('latin1')).toContain('%%EOF');
    expect(pdf.suggestedFilename()).toMatch(/\.pdf$/);

    const reports = await env.gateway.store.audit.search({
      kind: 'dpo-access',
      subject: env.gateway.pseudonyms.pseudonym(subject.cpr),
      limit: 50,
    });
    expect(reports.records.filter((r) => r.reasons.includes('CITIZEN_REPORT')).length).toBeGreaterThanOrEqual(3);
    expect(urls.filter((u) => u.includes(subject.cpr))).toEqual([]);
  });

  it('makes it in English on request', async () => {
    await page.goto(`${env.url}/dpo/citizen-report`);
    await page.fill('#r-cpr', subject.cpr);
    await page.selectOption('#r-lang', 'en');
    await page.click('#report-submit');
    await page.waitForSelector('#citizen-report');
    await expect(page.textContent('#citizen-report h1')).resolves.toBe('Overview of disclosures of your data');
    await expect(page.textContent('#citizen-report')).resolves.toContain('Coordination of the job plan and the social action plan');
  });

  it('leaves out a notice sent again under its Idempotency-Key: no "unknown" recipient, no withheld note, on the page or in the CSV', async () => {
    const citizen = heldByBoth[2]!;
    const notices = '/v1/notifications/employment.sanction-notice.v1';
    const body = JSON.stringify({
      cpr: citizen.cpr,
      event: {
        sanctionDate: '2026-01-12',
        sanctionType: 'reduction',
        amountDkk: 900,
        benefit: 'cash-benefit',
        jobcentreUnit: 'Jobcenter København, Nørrebro',
        caseworkerContact: { name: 'Sagsbehandler 0001', phone: '+45 0000 0001', email: 'sagsbehandler.0001@example.invalid' },
        caseworkerNote: 'Intern note: må ikke videregives',
      },
    });
    const creds = tls('bif-jobcentre-system');
    const send = async () =>
      request(env.url)
        .post(notices)
        .ca(creds.ca)
        .cert(creds.cert)
        .key(creds.key)
        .set('content-type', 'application/json')
        .set('idempotency-key', 'dpo-resend-0001')
        .set('authorization', `Bearer ${await tokenFor('bif-jobcentre-system', notices, body, { purpose: 'sanction-notice' })}`)
        .send(body);
    const first = await send();
    expect(first.status).toBe(202);
    const again = await send();
    expect(again.body).toEqual(first.body);
    const { auditId } = first.body as { auditId: string };
    await waitFor('the notice is delivered', async () => {
      const { records } = await env.gateway.store.audit.search({ auditId, limit: 10 });
      return records.some((r) => r.reasons.includes('DELIVERED')) && records.some((r) => r.reasons.includes('ALREADY_ACCEPTED'));
    });

    await page.goto(`${env.url}/dpo/citizen-report`);
    await page.fill('#r-cpr', citizen.cpr);
    await page.click('#report-submit');
    await page.waitForSelector('#citizen-report');
    const entries = page.locator(`#citizen-report [data-audit-id="${auditId}"]`);
    await expect(entries.count()).resolves.toBe(1);
    await expect(entries.getAttribute('data-outcome')).resolves.toBe('disclosed');
    const text = (await page.textContent('#citizen-report'))!;
    expect(text).not.toMatch(/unknown/i);
    expect(text).not.toContain('Sagsbehandlerens interne note');
    expect(text).toContain('Sanktionsdato');

    const [csv] = await Promise.all([page.waitForEvent('download'), page.click('#download-csv')]);
    const csvText = readFileSync((await csv.path())!, 'utf8');
    expect(csvText).not.toMatch(/unknown/i);
    expect(csvText).not.toContain('Sagsbehandlerens interne note');
  });
});

describe('relations', () => {
  it("shows a citizen's relations, every administration's, with their history; audited, the CPR number never in a URL", async () => {
    await page.goto(`${env.url}/dpo/relations`);
    await page.fill('#rel-cpr', subject.cpr);
    await page.click('#relations-submit');
    await page.waitForSelector('#relations');
    const ended = page.locator(`section.relation[data-relation="${endedRelationId}"]`);
    expect(await ended.getAttribute('data-state')).toBe('ended');
    expect(await ended.locator('tr[data-event]').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-event')))).toEqual([
      'registered',
      'changed',
      'ended',
    ]);
    await expect(ended.locator('tr[data-event="changed"] td.changed').textContent()).resolves.toBe('sagsbehandler');
    await expect(ended.locator('tr[data-event="changed"]').textContent()).resolves.toContain('bif-cw-0002');
    await expect(ended.locator('tr[data-event="ended"] td.reason').textContent()).resolves.toBe('Sagen er afsluttet');
    await expect(ended.locator('.period').textContent()).resolves.toContain(addDays(today, -1));
    await expect(ended.locator('.case-ref').textContent()).resolves.toBe('BIF-DPO-S');
    expect(await page.locator('section.relation[data-administration="SOF"][data-state="active"]').count()).toBeGreaterThanOrEqual(1);
    expect(await page.content()).not.toContain(subject.cpr);
    await shot('relations');
    const { records } = await env.gateway.store.audit.search({
      kind: 'dpo-access',
      subject: env.gateway.pseudonyms.pseudonym(subject.cpr),
      reason: 'RELATION_HISTORY',
      limit: 10,
    });
    expect(records).toHaveLength(1);
    expect(records[0]!.caller?.system).toBe('dpo-console');
    expect(urls.filter((u) => u.includes(subject.cpr))).toEqual([]);
  });

  it('counts the citizens held today per combination of administrations, and says "fewer than 5" below five', async () => {
    await page.goto(`${env.url}/dpo/relations`);
    // As many as the register counts (every citizen of the traffic), at least five: shown as the number.
    const both = (await env.gateway.store.relations.sharedCitizens(today)).find((c) => c.administrations.join('+') === 'BIF+SOF');
    expect(both?.citizens).toBeGreaterThanOrEqual(5);
    await expect(page.locator('#shared-citizens tr[data-combination="BIF+SOF"] td.num').textContent()).resolves.toBe(
      String(both!.citizens),
    );
    // Two citizens are held by social services only: fewer than five.
    await expect(page.locator('#shared-citizens tr[data-combination="SOF"] td.num').textContent()).resolves.toBe('færre end 5');
    expect(await page.locator('#shared-citizens tr[data-combination="BIF"]').count()).toBe(0);
  });
});

describe('consents and notifications', () => {
  it("looks up a citizen's consents with their history", async () => {
    await page.goto(`${env.url}/dpo/consents`);
    await page.fill('#c-cpr', consenting.cpr);
    await page.click('#consent-submit');
    const section = page.locator('section.consent[data-state="withdrawn"]');
    await section.waitFor();
    expect(await section.locator('tr[data-event]').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-event')))).toEqual([
      'given',
      'withdrawn',
    ]);
    await expect(section.textContent()).resolves.toContain('SOF-FORM-2026-0007');
    await shot('consents');
  });

  it('lists the dead letters and re-drives one, audited', async () => {
    await page.goto(`${env.url}/dpo/notifications`);
    const rows = page.locator('#dead-letters tbody tr');
    expect(await rows.count()).toBe(1);
    const id = (await rows.first().getAttribute('data-delivery'))!;
    await shot('notifications');
    page.once('dialog', (d) => void d.accept());
    await Promise.all([page.waitForURL(/done=redriven/), rows.first().locator('button').click()]);
    await expect(page.locator('#redriven').isVisible()).resolves.toBe(true);
    const delivered = await waitFor('the re-driven notice is delivered', async () => {
      const d = await env.gateway.store.outbox.get(id);
      return d?.state === 'delivered' ? d : undefined;
    });
    const { records } = await env.gateway.store.audit.search({ auditId: delivered.auditId, limit: 20 });
    expect(records.find((r) => r.reasons.includes('REDRIVEN'))?.caller?.system).toBe('dpo-console');
  });
});

describe('forms and sessions', () => {
  it("refuses a state-changing form without the session's CSRF token", async () => {
    await page.goto(`${env.url}/dpo/search`);
    await page.locator('#search-form input[name="_csrf"]').evaluate((el) => {
      (el as unknown as { value: string }).value = 'A'.repeat(43);
    });
    await page.fill('#f-caseworker', SNOOP);
    const [res] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/dpo/search') && r.request().method() === 'POST'),
      page.click('#search-submit'),
    ]);
    expect(res.status()).toBe(403);
    await expect(page.locator('#csrf-refused').isVisible()).resolves.toBe(true);
  });

  it('refuses a form posted from another site, even with the right token', async () => {
    const cookies = await dpo.cookies(env.url);
    const session = cookies.find((c) => c.name === '__Host-snitflade-dpo')!;
    await page.goto(`${env.url}/dpo/search`);
    const csrf = (await page.getAttribute('#search-form input[name="_csrf"]', 'value'))!;
    const creds = tls('dpo-console');
    const post = (site: string) =>
      request(env.url)
        .post('/dpo/search')
        .ca(creds.ca)
        .cert(creds.cert)
        .key(creds.key)
        .set('cookie', `${session.name}=${session.value}`)
        .set('sec-fetch-site', site)
        .type('form')
        .send({ _csrf: csrf, caseworker: SNOOP });
    expect((await post('cross-site')).status).toBe(403);
    const same = await post('same-origin');
    expect(same.status).toBe(303);
    expect(same.headers.location).toMatch(/^\/dpo\/search\/[0-9a-f-]{36}$/);
    // the cookie is no good without the certificate it was issued with, even another DPO certificate
    const ca = {
      certPem: readFileSync(path.join(TEST_CERTS, 'ca', 'ca.crt.pem'), 'utf8'),
      keyPem: readFileSync(path.join(TEST_CERTS, 'ca', 'ca.key.pem'), 'utf8'),
    };
    const twin = issueCertificate({ ca, cn: 'dpo-console', eku: ['clientAuth'] });
    const stolen = await request(env.url)
      .get('/dpo/')
      .ca(creds.ca)
      .cert(twin.certPem)
      .key(twin.keyPem)
      .set('cookie', `${session.name}=${session.value}`);
    expect(stolen.status).toBe(303);
    expect(stolen.headers.location).toBe('/dpo/sign-in');
    const sof = tls('sof-case-system');
    expect(
      (await request(env.url).get('/dpo/').ca(sof.ca).cert(sof.cert).key(sof.key).set('cookie', `${session.name}=${session.value}`)).status,
    ).toBe(403);
  });

  it('switches the pages to English and back', async () => {
    await page.goto(`${env.url}/dpo/anomalies`);
    await Promise.all([page.waitForURL(`${env.url}/dpo/anomalies`), page.click('#lang-switch')]);
    await expect(page.textContent('h1')).resolves.toBe('Anomalies');
    await Promise.all([page.waitForURL(`${env.url}/dpo/anomalies`), page.click('#lang-switch')]);
    await expect(page.textContent('h1')).resolves.toBe('Anomalier');
  });

  it('ends a session after 15 minutes without activity, and at sign-out', async () => {
    const db = new Database(path.join(env.dataDir, 'snitflade.db'));
    try {
      db.prepare('UPDATE dpo_session SET last_seen_at = last_seen_at - ?').run(16 * 60_000);
    } finally {
      db.close();
    }
    await page.goto(`${env.url}/dpo/`);
    expect(page.url()).toBe(`${env.url}/dpo/sign-in?expired=1`);
    await expect(page.locator('#session-expired').isVisible()).resolves.toBe(true);
    await Promise.all([page.waitForURL(`${env.url}/dpo/`), page.click('#sign-in')]);
    await Promise.all([page.waitForURL(/signed-out=1/), page.click('#sign-out')]);
    await page.goto(`${env.url}/dpo/`);
    expect(page.url()).toBe(`${env.url}/dpo/sign-in`);
    await Promise.all([page.waitForURL(`${env.url}/dpo/`), page.click('#sign-in')]);
  });
});

describe('integrity', () => {
  it('turns the integrity status to failed after a record is changed in the database file', async () => {
    await page.goto(`${env.url}/dpo/integrity`);
    await waitFor(
      'intact before',
      async () => {
        await page.goto(`${env.url}/dpo/integrity`);
        return (
          (await page.getAttribute('#integrity-status', 'data-state')) === 'intact' &&
          (await page.getAttribute('#full-verification', 'data-running')) === 'no'
        );
      },
      30_000,
    );
    await shot('integrity');

    // Tamper: the caseworker of the disclosure's release record, straight in the SQLite file.
    const { records } = await env.gateway.store.audit.search({ auditId: disclosureAuditId, kind: 'release', limit: 1 });
    const target = records[0]!;
    const db = new Database(path.join(env.dataDir, 'snitflade.db'));
    try {
      const changed = db
        .prepare(
          'UPDATE audit_record SET record = replace(record, \'"caseworker":"sof-cw-0001"\', \'"caseworker":"sof-cw-0009"\') WHERE id = ?',
        )
        .run(target.id).changes;
      expect(changed).toBe(1);
    } finally {
      db.close();
    }

    await Promise.all([page.waitForURL(`${env.url}/dpo/integrity`), page.click('#verify-now')]);
    await page.waitForSelector('#integrity-status[data-state="failed"]', { timeout: 60_000 });
    const problem = (await page.textContent('tr[data-state="failed"] .integrity-problem'))!;
    expect(problem).toContain(`#${target.seq}`);
    expect(problem).toContain('Posten er ændret, efter den blev skrevet');
    expect(problem).toContain('hash-mismatch');
    await shot('integrity-failed');

    await page.goto(`${env.url}/dpo/`);
    await expect(page.locator('#integrity-alert').isVisible()).resolves.toBe(true);
    expect(await page.getAttribute('[data-integrity]', 'data-integrity')).toBe('failed');

    await page.goto(`${env.url}/dpo/records/${target.id}`);
    expect(await page.getAttribute('#verification', 'data-verified')).toBe('failed');
    await expect(page.textContent('#verification')).resolves.toContain('posten er ændret, efter den blev skrevet');
  });
});

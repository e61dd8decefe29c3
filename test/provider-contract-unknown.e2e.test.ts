/**
 * A provider system that does not offer a contract yet (its side not deployed, or the demo's
 * simulators not rebuilt and restarted after a new contract was added) answers 404 CONTRACT_UNKNOWN.
 * The caller and the audit trail must not read that as "no case for this citizen": the gateway
 * answers 502 PROVIDER_CONTRACT_UNKNOWN. The provider's body is untrusted: only its exact code in
 * a small, strict problem+json body is recognised, and none of its text reaches the caller or the log.
 */
import { jest } from '@jest/globals';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type request from 'supertest';
import { ERRORS } from '../src/errors.js';
import { population } from '../src/simulators/population.js';
import { startSimulator, type Simulator } from '../src/simulators/server.js';
import { postAs } from './support/calls.js';
import { startTestEnv, testCerts, type TestEnv } from './support/env.js';
import { SERVED_BY_BOTH, withRelations } from './support/relations.js';

jest.setTimeout(60_000);

const STATUS = '/v1/queries/employment.citizen-status.v1';
const JOB_PLAN = '/v1/queries/employment.job-plan-summary.v1';
const SUMMARY = '/v1/queries/social.coordination-summary.v1';

const citizens = population();
const shared = citizens.find((c) => c.employment && c.social)!;
const socialOnly = citizens.find((c) => !c.employment && c.social)!;
/** Text a provider might put in its body; none of it may reach the caller or the log. */
const PROVIDER_TEXT = 'Internal note from the provider';

/** What the stand-in social services system answers to every query: a status, a content type and a body. */
let stubAnswer: { status: number; type: string; body: string } = { status: 404, type: 'application/problem+json', body: '{}' };

let env: TestEnv;
let jobcentre: Simulator;
let stub: https.Server;

beforeAll(async () => {
  const certs = await testCerts();
  // The real simulated jobcentre, deployed with the citizen status only: the job plan summary is
  // a contract it does not offer yet.
  jobcentre = await startSimulator({ system: 'bif-jobcentre-system', certsDir: certs, contracts: ['employment.citizen-status.v1'] });
  // A stand-in for social services' system, answering whatever the test says.
  const read = (p: string): Buffer => readFileSync(path.join(certs, p));
  stub = https.createServer(
    { cert: read('clients/sof-case-system/tls.crt.pem'), key: read('clients/sof-case-system/tls.key.pem') },
    (req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(stubAnswer.status, { 'content-type': stubAnswer.type, 'content-length': Buffer.byteLength(stubAnswer.body) });
        res.end(stubAnswer.body);
      });
    },
  );
  await new Promise<void>((resolve) => stub.listen(0, '127.0.0.1', resolve));
  env = await startTestEnv({
    name: 'provider-contract-unknown',
    simulators: false,
    overrides: {
      endpoints: {
        'bif-jobcentre-system': jobcentre.url,
        'sof-case-system': `https://localhost:${(stub.address() as AddressInfo).port}`,
      },
    },
  });
  // Need to know: the register says both administrations serve the citizens asked about (for the
  // social-only citizen, a jobcentre case its system does not know: the provider answers 404).
  for (const c of [shared, socialOnly]) await withRelations(env, c.cpr, SERVED_BY_BOTH);
});
afterAll(async () => {
  await env?.close();
  await jobcentre?.close();
  stub?.closeAllConnections();
  await new Promise((resolve) => stub?.close(resolve));
});

async function releaseRecord(auditId: string) {
  const { records } = await env.gateway.store.audit.search({ auditId, limit: 10 });
  return records.find((r) => r.kind === 'release')!;
}

function expectProblem(res: request.Response, status: number, code: keyof typeof ERRORS): void {
  expect(res.status).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(res.body).toMatchObject({ code, status, title: ERRORS[code].title, detail: ERRORS[code].detail });
}

describe('a provider that does not offer the contract', () => {
  it('answers 502 PROVIDER_CONTRACT_UNKNOWN, not SUBJECT_NOT_FOUND, and audits it as the upstream outcome', async () => {
    const before = jobcentre.requests;
    const res = await postAs(env.url, 'sof-case-system', JOB_PLAN, { cpr: shared.cpr, fields: ['jobPlan', 'jobGoalArea'] });
    expectProblem(res, 502, 'PROVIDER_CONTRACT_UNKNOWN');
    expect(res.body.detail).toMatch(/does not offer this contract/);
    expect(res.body.detail).toMatch(/operators/);
    expect(jobcentre.requests).toBe(before + 1); // the provider was asked, and said so

    const release = await releaseRecord(res.body.auditId);
    expect(release).toMatchObject({ decision: 'permit', reasons: ['PROVIDER_CONTRACT_UNKNOWN'], status: 502 });
    expect(release.upstream?.status).toBe(404);
    expect(release.fields.released).toEqual([]);
  });

  it('still answers 404 SUBJECT_NOT_FOUND when the provider offers the contract and has no case for the citizen', async () => {
    const res = await postAs(env.url, 'sof-case-system', STATUS, { cpr: socialOnly.cpr, fields: ['targetGroup'] });
    expectProblem(res, 404, 'SUBJECT_NOT_FOUND');
    expect((await releaseRecord(res.body.auditId)).reasons).toEqual(['SUBJECT_NOT_FOUND']);
  });

  it('passes none of the provider’s words on: not to the caller, not to the log', async () => {
    stubAnswer = {
      status: 404,
      type: 'application/problem+json; charset=utf-8',
      body: JSON.stringify({
        type: 'about:blank',
        title: PROVIDER_TEXT,
        status: 404,
        code: 'CONTRACT_UNKNOWN',
        detail: `${PROVIDER_TEXT} ${shared.cpr}`,
      }),
    };
    const res = await postAs(env.url, 'bif-jobcentre-system', SUMMARY, { cpr: shared.cpr, fields: ['openSocialCase'] });
    expectProblem(res, 502, 'PROVIDER_CONTRACT_UNKNOWN');
    expect(res.text).not.toContain(PROVIDER_TEXT);
    expect(res.text).not.toContain(shared.cpr);
    expect(readFileSync(env.logFile, 'utf8')).not.toContain(PROVIDER_TEXT);
  });
});

describe('any other 404 stays "no case for this citizen", as the provider protocol says', () => {
  const contractUnknown = JSON.stringify({ status: 404, code: 'CONTRACT_UNKNOWN' });
  it.each([
    ['the code in another case', 'application/problem+json', JSON.stringify({ code: 'contract_unknown' })],
    ['the code with a space after it', 'application/problem+json', JSON.stringify({ code: 'CONTRACT_UNKNOWN ' })],
    ['the code in an array', 'application/problem+json', JSON.stringify({ code: ['CONTRACT_UNKNOWN'] })],
    ['the code only in the detail', 'application/problem+json', JSON.stringify({ code: 'NOT_FOUND', detail: 'CONTRACT_UNKNOWN' })],
    ['the code twice, the first another one', 'application/problem+json', '{"code":"SUBJECT_NOT_FOUND","code":"CONTRACT_UNKNOWN"}'],
    ['a __proto__ key beside it', 'application/problem+json', '{"__proto__":{"x":1},"code":"CONTRACT_UNKNOWN"}'],
    ['a body over 4 KiB', 'application/problem+json', JSON.stringify({ code: 'CONTRACT_UNKNOWN', detail: 'x'.repeat(5000) })],
    ['labelled as plain JSON, not problem+json', 'application/json', contractUnknown],
    ['labelled as HTML', 'text/html', contractUnknown],
    ['not JSON at all', 'application/problem+json', `<html>${contractUnknown}</html>`],
    ['no body', 'application/problem+json', ''],
  ])('%s: 404 SUBJECT_NOT_FOUND', async (_name, type, body) => {
    stubAnswer = { status: 404, type, body };
    const res = await postAs(env.url, 'bif-jobcentre-system', SUMMARY, { cpr: shared.cpr, fields: ['openSocialCase'] });
    expectProblem(res, 404, 'SUBJECT_NOT_FOUND');
    expect(res.text).not.toContain('CONTRACT_UNKNOWN');
  });

  it('a CONTRACT_UNKNOWN body with another status is an unavailable provider (502 PROVIDER_UNAVAILABLE)', async () => {
    stubAnswer = { status: 400, type: 'application/problem+json', body: contractUnknown };
    const res = await postAs(env.url, 'bif-jobcentre-system', SUMMARY, { cpr: shared.cpr, fields: ['openSocialCase'] });
    expectProblem(res, 502, 'PROVIDER_UNAVAILABLE');
  });
});

describe('the simulated system with a reduced list of contracts', () => {
  it('refuses to start with a contract it has no simulation for', async () => {
    await expect(
      startSimulator({ system: 'bif-jobcentre-system', certsDir: await testCerts(), contracts: ['youth.education-status.v1'] }),
    ).rejects.toThrow(/has no simulated contract youth\.education-status\.v1/);
  });
});

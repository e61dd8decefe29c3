import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { jest } from '@jest/globals';
import request from 'supertest';
import { runCheck } from '../src/cli/commands/check.js';
import { loadConfig } from '../src/config/config.js';
import { contractAjv } from '../src/contracts/ajv.js';
import { checkSchemaKeywords } from '../src/contracts/keywords.js';
import { LoadErrors } from '../src/lib/load-error.js';
import { loadRules } from '../src/rules/load.js';
import { captureIO } from './support/cli-io.js';
import { startTestEnv, testCerts, tls, tokenFor } from './support/env.js';

jest.setTimeout(60_000);

/**
 * What a developer is told about a broken rule set: every problem in every file at once, the
 * same from `snitflade check --cases` as at start-up and on reload (one owner: src/rules/check.ts),
 * each with the file, the line, the place and what to do about it.
 */

const ROOT = process.cwd();
let dir: string;
let schemas: string;
let policies: string;
let certs: string;

beforeEach(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'snitflade-rules-errors-'));
  schemas = path.join(dir, 'schemas');
  policies = path.join(dir, 'policies');
  cpSync(path.join(ROOT, 'schemas'), schemas, { recursive: true });
  cpSync(path.join(ROOT, 'policies'), policies, { recursive: true });
  certs = await testCerts();
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Replaces the first `from` in a copied rule file. */
function edit(file: string, from: string, to: string): void {
  const text = readFileSync(file, 'utf8');
  if (!text.includes(from)) throw new Error(`nothing to replace in ${file}`);
  writeFileSync(file, text.replace(from, to));
}

/** The 1-based line of the first line of `file` containing `text`. */
function lineOf(file: string, text: string): number {
  const i = readFileSync(file, 'utf8')
    .split('\n')
    .findIndex((l) => l.includes(text));
  if (i < 0) throw new Error(`${text} not in ${file}`);
  return i + 1;
}

interface Problem {
  file: string;
  line: number | null;
  path: string;
  problem: string;
}

/** The repository's example policies are unsigned: these tests run them as the demo does (approvals: policy-approvals.test.ts). */
const UNSIGNED = { policies: { requireApprovals: false } } as const;
const aboutApprovals = (p: Problem): boolean => p.file === 'configuration' && p.path.startsWith('/policies');

/** `snitflade check --cases --json` on the copied files (without the warning that approvals are not enforced). */
async function check(certsDir = certs): Promise<{ code: number; errors: Problem[]; warnings: Problem[] }> {
  const io = captureIO();
  const code = await runCheck(
    { json: true, cases: true, schemas, policies, certs: certsDir },
    io,
    loadConfig({ root: ROOT, env: {}, overrides: UNSIGNED }),
  );
  const report = JSON.parse(io.out()) as { errors: Problem[]; warnings: Problem[] };
  return { code, errors: report.errors, warnings: report.warnings.filter((w) => !aboutApprovals(w)) };
}

/** The problems start-up (and every reload) refuses the copied files with. */
async function loadProblems(certsDir = certs): Promise<Problem[]> {
  const config = loadConfig({ root: ROOT, env: {}, overrides: { paths: { certs: certsDir, data: dir, schemas, policies }, ...UNSIGNED } });
  const err = await loadRules(config).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(LoadErrors);
  return (err as LoadErrors).errors.map((e) => ({ file: e.file, line: e.line ?? null, path: e.path, problem: e.problem }));
}

const clientsFile = () => path.join(policies, 'clients.yaml');
const statusContract = () => path.join(schemas, 'employment.citizen-status.v1.json');

describe('a signing-key file named in clients.yaml that is not there', () => {
  it('a typo in its path: an error naming the file, the line and the path as written, in check and at start-up', async () => {
    edit(clientsFile(), 'file: clients/dpo-console/signing.pub.pem', 'file: clients/dpo-consol/signing.pub.pem');
    const expected: Problem = {
      file: clientsFile(),
      line: lineOf(clientsFile(), 'clients/dpo-consol/'),
      path: '/clients/2/signingKeys/0/file',
      problem: `signing-key file "clients/dpo-consol/signing.pub.pem" not found in the certificate folder ${path.relative(ROOT, certs)}; check the path in clients.yaml (it is relative to the certificate folder); in development, "npx snitflade certs" makes a key only at clients/dpo-console/signing.pub.pem for this client`,
    };

    const checked = await check();
    expect(checked.code).toBe(1);
    expect(checked.errors).toEqual([expected]);
    expect(checked.warnings).toEqual([]);
    expect(await loadProblems()).toEqual([expected]);

    // and in the words `check` prints
    const io = captureIO();
    expect(await runCheck({ schemas, policies, certs }, io)).toBe(1);
    expect(io.err()).toContain(
      `✘ ${clientsFile()}:${expected.line} at /clients/2/signingKeys/0/file: signing-key file "clients/dpo-consol/`,
    );
    expect(
      io
        .err()
        .split('\n')
        .filter((l) => l.startsWith('! warning:') && !l.includes('configuration at /policies')),
    ).toEqual([]);
  });

  it('a newly registered client whose development key was not made yet: "npx snitflade certs" makes it', async () => {
    edit(
      clientsFile(),
      "  # The operators' console",
      [
        '  - id: sof-intake-system',
        '    title: Intake system (not yet given keys)',
        '    administration: SOF',
        '    roles: [caseworker-system]',
        '    certificate: { subject: sof-intake-system }',
        '    signingKeys:',
        '      - { kid: sof-intake-system-1, file: clients/sof-intake-system/signing.pub.pem }',
        '',
        "  # The operators' console",
      ].join('\n'),
    );
    const expected: Problem = {
      file: clientsFile(),
      line: lineOf(clientsFile(), 'file: clients/sof-intake-system/'),
      path: '/clients/5/signingKeys/0/file',
      problem: `signing-key file "clients/sof-intake-system/signing.pub.pem" not found in the certificate folder ${path.relative(ROOT, certs)}; check the path in clients.yaml (it is relative to the certificate folder); in development, "npx snitflade certs" makes it`,
    };
    expect((await check()).errors).toEqual([expected]);
    expect(await loadProblems()).toEqual([expected]);
  });

  it('without a certificate folder (a fresh clone) check warns at a path the development keys will never be at', async () => {
    edit(clientsFile(), 'file: clients/dpo-console/signing.pub.pem', 'file: clients/dpo-consol/signing.pub.pem');
    const none = path.join(dir, 'no-certs-here');
    const checked = await check(none);
    expect(checked.code).toBe(0);
    expect(checked.warnings).toEqual([
      {
        file: clientsFile(),
        line: null,
        path: '',
        problem: `the signing-key files were not checked: there is no certificate folder at ${none} (in development, "npm start" or "npx snitflade certs" makes it, with a key for each registered client)`,
      },
      {
        file: clientsFile(),
        line: lineOf(clientsFile(), 'clients/dpo-consol/'),
        path: '/clients/2/signingKeys/0/file',
        problem: `signing-key file "clients/dpo-consol/signing.pub.pem" was not checked (there is no certificate folder at ${none}); check the path in clients.yaml: in development, "npx snitflade certs" makes a key only at clients/dpo-console/signing.pub.pem for this client`,
      },
    ]);
  });

  it('without a certificate folder check only warns that the keys were not checked; start-up refuses, naming each key', async () => {
    const none = path.join(dir, 'no-certs-here');
    const checked = await check(none);
    expect(checked.code).toBe(0);
    expect(checked.warnings).toEqual([
      expect.objectContaining({ file: clientsFile(), problem: expect.stringContaining('the signing-key files were not checked') }),
    ]);

    const problems = await loadProblems(none);
    expect(problems).toHaveLength(6); // one per registered client
    expect(problems[0]).toEqual({
      file: clientsFile(),
      line: lineOf(clientsFile(), 'file: clients/sof-case-system/'),
      path: '/clients/0/signingKeys/0/file',
      problem: `signing-key file "clients/sof-case-system/signing.pub.pem" not found (there is no certificate folder ${none}); check the path in clients.yaml (it is relative to the certificate folder); in development, "npx snitflade certs" makes it`,
    });
  });
});

describe('a contract schema keyword with a value it does not allow', () => {
  it('names the keyword, its line and what is allowed, for every such keyword, in check and at start-up', async () => {
    edit(statusContract(), '"jobcentreUnit": { "type": "string"', '"jobcentreUnit": { "type": "bool"');
    edit(statusContract(), '"maxItems": 100,', '"maxItems": "3",');
    const expected: Problem[] = [
      {
        file: statusContract(),
        line: lineOf(statusContract(), '"type": "bool"'),
        path: '/response/properties/jobcentreUnit/type',
        problem:
          '"bool" is not a type; the types are array, boolean, integer, null, number, object, string (one name, or a list of different names); did you mean "boolean"?',
      },
      {
        file: statusContract(),
        line: lineOf(statusContract(), '"maxItems": "3"'),
        path: '/response/properties/sanctions/maxItems',
        problem: '"maxItems" is "3"; it must be a non-negative integer: 0, 1, 2, ... (write 3, without quotes)',
      },
    ];
    const checked = await check();
    expect(checked.code).toBe(1);
    expect(checked.errors).toEqual(expected);
    expect(await loadProblems()).toEqual(expected);
  });

  it('checks each keyword against the JSON Schema meta-schema, and refuses unknown keywords and formats', () => {
    const ajv = contractAjv({ allErrors: true });
    expect(
      checkSchemaKeywords(
        ajv,
        {
          type: 'object',
          additionalProperties: false,
          required: ['a', 3],
          properties: {
            a: { type: ['string', 'nul'], maxLenght: 10 },
            b: 5,
            c: { type: 'integer', minimum: '0' },
            d: { type: 'string', format: 'dat' },
          },
        },
        '/response',
      ),
    ).toEqual([
      { pointer: '/response/properties/a/type', problem: expect.stringMatching(/^"nul" is not a type; the types are array, boolean, /) },
      { pointer: '/response/properties/b', problem: expect.stringMatching(/^is 5, not a schema; write an object/) },
      { pointer: '/response/properties/c/minimum', problem: '"minimum" is "0"; it must be a number (write 0, without quotes)' },
      { pointer: '/response/required', problem: '"required" must be a list of property names (strings), each named once' },
      {
        pointer: '/response/properties/a/maxLenght',
        problem: expect.stringMatching(/^unknown keyword "maxLenght"; did you mean "maxLength"\?/),
      },
      {
        pointer: '/response/properties/d/format',
        problem: expect.stringMatching(/^unknown format "dat"; did you mean "date"\? \(the formats are date, /),
      },
    ]);
    expect(checkSchemaKeywords(ajv, { type: ['string', 'null'], maxLength: 3 })).toEqual([]);
  });
});

describe('several broken files: every problem is reported, at start-up and on reload as in check', () => {
  /** One mistake in a contract, a policy, a policy test case file and the client registry. */
  function breakFourFiles() {
    const files = {
      contract: statusContract(),
      policy: path.join(policies, 'bif-reads-social-coordination-summary.policy.yaml'),
      cases: path.join(policies, 'sof-reads-employment-status.test.yaml'),
      clients: clientsFile(),
    };
    edit(files.contract, '"maxItems": 100,', '"maxItems": "3",');
    edit(files.policy, 'purpose: plan-coordination', 'purpose: plan-cordination');
    edit(files.cases, 'at: 2025-06-01', 'at: 2025-13-01');
    edit(files.clients, 'file: clients/dpo-console/signing.pub.pem', 'file: clients/dpo-consol/signing.pub.pem');
    return files;
  }

  it('start-up names all four files (by file, then line), with the same problems as check', async () => {
    const files = breakFourFiles();
    const checked = await check();
    expect(checked.code).toBe(1);
    const problems = await loadProblems();
    expect(problems).toEqual(checked.errors);
    expect(problems.map((p) => [p.file, p.line, p.path])).toEqual([
      [files.policy, lineOf(files.policy, 'plan-cordination'), '/purpose'],
      [files.clients, lineOf(files.clients, 'clients/dpo-consol/'), '/clients/2/signingKeys/0/file'],
      [files.cases, lineOf(files.cases, '2025-13-01'), '/cases/0/request/at'],
      [files.contract, lineOf(files.contract, '"maxItems": "3"'), '/response/properties/sanctions/maxItems'],
    ]);
  });

  it('POST /v1/admin/reload answers 422 listing every file and line, and the rules in force stay', async () => {
    const env = await startTestEnv({
      name: 'rules-errors',
      simulators: false,
      overrides: { paths: { certs, data: dir, schemas, policies } },
    });
    try {
      const before = env.gateway.rules().policies.digest;
      const files = breakFourFiles();
      const body = '{}';
      const creds = tls('ops-console');
      const res = await request(env.url)
        .post('/v1/admin/reload')
        .ca(creds.ca)
        .cert(creds.cert)
        .key(creds.key)
        .set('content-type', 'application/json')
        .set('authorization', `Bearer ${await tokenFor('ops-console', '/v1/admin/reload', body)}`)
        .send(body);
      expect(res.status).toBe(422);
      expect(res.body).toMatchObject({ code: 'RULES_INVALID' });
      expect(res.body.errors).toEqual([
        { path: files.policy, message: `line ${lineOf(files.policy, 'plan-cordination')}` },
        { path: files.clients, message: `line ${lineOf(files.clients, 'clients/dpo-consol/')}` },
        { path: files.cases, message: `line ${lineOf(files.cases, '2025-13-01')}` },
        { path: files.contract, message: `line ${lineOf(files.contract, '"maxItems": "3"')}` },
      ]);
      expect(env.gateway.rules().policies.digest).toBe(before);
    } finally {
      await env.close();
    }
  });
});

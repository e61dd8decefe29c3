/**
 * `snitflade audit verify` and `snitflade audit export`, run as the real command in a child
 * process against a store the gateway's configuration names (here through SNITFLADE_DATA_DIR).
 */
import { jest } from '@jest/globals';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { Checkpointer } from '../src/audit/checkpointer.js';
import { loadCheckpointKeys, loadPseudonymizer } from '../src/audit/services.js';
import { AuditTrail } from '../src/audit/trail.js';
import type { AuditEntry } from '../src/audit/types.js';
import { loadConfig } from '../src/config/config.js';
import { canonicalJson } from '../src/lib/digest.js';
import { openStore } from '../src/store/index.js';
import { postgresDatabase } from './support/databases.js';
import { ROOT, testCerts } from './support/env.js';

jest.setTimeout(120_000);
const run = promisify(execFile);

let dataDir: string;
let env: NodeJS.ProcessEnv;

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return cliWith(env, ...args);
}

async function cliWith(environment: NodeJS.ProcessEnv, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return run(process.execPath, ['--no-warnings', '--import', './test/support/register-ts.mjs', 'src/cli/snitflade.ts', ...args], {
    cwd: ROOT,
    env: environment,
  }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );
}

beforeAll(async () => {
  const certs = await testCerts();
  dataDir = mkdtempSync(path.join(tmpdir(), 'snitflade-cli-'));
  env = {
    ...process.env,
    SNITFLADE_CERTS_DIR: certs,
    SNITFLADE_DATA_DIR: dataDir,
    SNITFLADE_INSTANCE_ID: 'gw1',
    DATABASE_URL: '',
    SNITFLADE_CONFIG: '',
  };
  const config = loadConfig({ root: ROOT, env });
  const pseudonyms = loadPseudonymizer(config);
  const store = await openStore({ kind: 'sqlite', file: config.store.kind === 'sqlite' ? config.store.file : '' });
  try {
    const trail = await AuditTrail.open(store, { chain: 'gw1' });
    const { signer, verifier } = await loadCheckpointKeys(config);
    const checkpointer = new Checkpointer({ store, trail, signer, verifier, gatewayId: config.gatewayId });
    const entry = (i: number): AuditEntry => ({
      kind: 'release',
      auditId: `a-${i}`,
      requestId: `r-${i}`,
      contract: 'employment.citizen-status.v1',
      caller: { system: 'sof-case-system', administration: 'SOF' },
      caseworker: `cw-${i % 17}`,
      caseRef: 'SOF-1',
      purpose: 'plan-coordination',
      subject: pseudonyms.pseudonym('0101909901'),
      policy: { id: 'p', version: 1 },
      policySet: null,
      legalBasis: 'Art. 6(1)(e)',
      decision: 'permit',
      reasons: [],
      fields: { requested: ['benefit'], released: ['benefit'], withheld: [], dropped: [] },
      consent: null,
      tokenDigest: randomBytes(8).toString('hex'),
      upstream: null,
      responseDigest: null,
      status: 200,
      latencyMs: 1,
    });
    for (let batch = 0; batch < 3; batch++) {
      await Promise.all(Array.from({ length: 1000 }, (_, i) => trail.append(entry(batch * 1000 + i))));
      await checkpointer.checkpoint();
    }
    await trail.close();
  } finally {
    await store.close();
  }
});
afterAll(() => {
  rmSync(dataDir, { recursive: true, force: true });
});

it('audit verify checks every chain with its checkpoints, showing progress on stderr', async () => {
  const r = await cli('audit', 'verify');
  expect(r.code).toBe(0);
  expect(r.stdout).toContain('✔ chain gw1: records 1-3000 verified, 3 signed checkpoints checked, last checkpoint at seq 3000');
  expect(r.stdout).toContain(`store: SQLite file ${path.join(dataDir, 'snitflade.db')}\n`);
  expect(r.stdout).toContain(`the audit trail in SQLite file ${path.join(dataDir, 'snitflade.db')} verifies`);
  const steps = r.stderr.split('\n').filter((l) => l.startsWith('verifying gw1'));
  expect(steps[0]).toBe('verifying gw1 10% (300/3000)');
  expect(steps.at(-1)).toBe('verifying gw1 100% (3000/3000)');
  expect(steps).toHaveLength(10);

  const json = await cli('audit', 'verify', '--chain', 'gw1', '--from-checkpoint', '2000', '--json');
  expect(JSON.parse(json.stdout)).toMatchObject({
    ok: true,
    store: `SQLite file ${path.join(dataDir, 'snitflade.db')}`,
    chains: [{ chain: 'gw1', fromSeq: 2001, checked: 1000 }],
  });
});

it('audit verify checks the PostgreSQL store DATABASE_URL names, and says so without the password', async () => {
  const db = await postgresDatabase('audit_cli');
  try {
    await db.open(); // the schema, no records
    const url = new URL(db.storeConfig.kind === 'postgres' ? db.storeConfig.url : '');
    url.password = 'not-shown-pw';
    const r = await cliWith({ ...env, DATABASE_URL: url.toString() }, 'audit', 'verify');
    expect(r.code).toBe(0);
    const where = `PostgreSQL ${url.username}@${url.host}${url.pathname}`;
    expect(r.stdout).toContain(`store: ${where}\n`);
    expect(r.stdout).toContain(`the audit trail in ${where} is empty: nothing to verify`);
    expect(r.stdout).not.toContain('chain gw1'); // not the SQLite file's trail
    expect(r.stdout + r.stderr).not.toContain('not-shown-pw');
  } finally {
    await db.cleanup();
  }
});

it('audit verify refuses a SQLite file that does not exist instead of verifying an empty trail, and names what to set', async () => {
  const empty = mkdtempSync(path.join(tmpdir(), 'snitflade-cli-none-'));
  try {
    const r = await cliWith({ ...env, SNITFLADE_DATA_DIR: empty }, 'audit', 'verify');
    expect(r.code).toBe(1);
    expect(r.stdout).not.toContain('verifies');
    expect(r.stderr).toContain(`no audit trail at SQLite file ${path.join(empty, 'snitflade.db')}`);
    expect(r.stderr).toContain('DATABASE_URL');
    expect(existsSync(path.join(empty, 'snitflade.db'))).toBe(false);
  } finally {
    rmSync(empty, { recursive: true, force: true });
  }
});

it('audit export writes a folder the standalone verifier accepts', async () => {
  const out = path.join(dataDir, 'export-1');
  const r = await cli('audit', 'export', '--out', out, '--segment-records', '1500');
  expect(r.code).toBe(0);
  expect(r.stdout).toContain('chain gw1: records 1-3000 in 2 segment(s)');
  const v = await run(process.execPath, [path.join(out, 'verify-export.mjs'), out]);
  expect(v.stdout).toContain('OK   chain gw1: records 1-3000 (3000), 3 signed checkpoints');
  expect((await cli('audit', 'export', '--out', out)).code).toBe(1); // never into a folder that is not empty
});

it('audit verify names the record changed in the database and fails', async () => {
  const db = new Database(path.join(dataDir, 'snitflade.db'));
  try {
    const row = db.prepare('SELECT record FROM audit_record WHERE chain = ? AND seq = ?').get('gw1', 1234) as { record: string };
    db.prepare('UPDATE audit_record SET record = ? WHERE chain = ? AND seq = ?').run(
      canonicalJson({ ...JSON.parse(row.record), caseworker: 'someone-else' }),
      'gw1',
      1234,
    );
  } finally {
    db.close();
  }
  const r = await cli('audit', 'verify');
  expect(r.code).toBe(1);
  expect(r.stdout).toContain('✘ chain gw1: hash-mismatch at seq 1234');
  expect(r.stdout).toContain(' does NOT verify');
});

/**
 * `snitflade relations import` and `snitflade relations reconcile`, run as the real command in a
 * child process against the SQLite store the gateway's configuration names (SNITFLADE_DATA_DIR):
 * progress on stderr, the summary on stdout without a CPR number, the exit codes, one run at a
 * time, and a trail that verifies (the import's chain sealed by its own checkpoint).
 */
import { jest } from '@jest/globals';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { loadPseudonymizer } from '../src/audit/services.js';
import { loadConfig } from '../src/config/config.js';
import { mayHoldCpr } from '../src/lib/cpr.js';
import { copenhagenDate } from '../src/policy/dates.js';
import { addDays } from '../src/relations/register.js';
import { openStore } from '../src/store/index.js';
import { ROOT, testCerts } from './support/env.js';

jest.setTimeout(120_000);
const run = promisify(execFile);

let dataDir: string;
let env: NodeJS.ProcessEnv;
const FROM = addDays(copenhagenDate(new Date()), -30);
const CITIZENS = ['0101909901', '0202909902', '0303909903', '0404909904'];

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return run(process.execPath, ['--no-warnings', '--import', './test/support/register-ts.mjs', 'src/cli/snitflade.ts', ...args], {
    cwd: ROOT,
    env,
  }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );
}

function file(name: string, rows: string[]): string {
  const f = path.join(dataDir, name);
  writeFileSync(f, `\ufeffadministration,cpr,capacity,caseRef,caseworker,from,to\r\n${rows.join('\r\n')}\r\n`);
  return f;
}

beforeAll(async () => {
  const certs = await testCerts();
  dataDir = mkdtempSync(path.join(tmpdir(), 'snitflade-relations-cli-'));
  env = {
    ...process.env,
    SNITFLADE_CERTS_DIR: certs,
    SNITFLADE_DATA_DIR: dataDir,
    SNITFLADE_INSTANCE_ID: 'gw1',
    DATABASE_URL: '',
    SNITFLADE_CONFIG: '',
    // The repository's example policies are unsigned; the tool loads the rules as the gateway does.
    SNITFLADE_REQUIRE_APPROVALS: 'false',
  };
});
afterAll(() => {
  rmSync(dataDir, { recursive: true, force: true });
});

it('imports a file, says what it did by row number without a CPR number, and changes nothing the second time', async () => {
  const rows = CITIZENS.map((c, i) => `BIF,${c},cash-benefit,BIF-CLI-${i},bif-cw-1,${FROM},`);
  const f = file('bif.csv', [...rows, `BIF,0505909905,cash-benefit,BIF-${CITIZENS[0]},,${FROM},`]);
  const first = await cli('relations', 'import', f, '--administration', 'BIF');
  expect(first.stdout).toContain('relations import for BIF: 5 rows read');
  expect(first.stdout).toContain('added 4, updated 0, unchanged 0, refused 1');
  expect(first.stdout).toContain('row 6: REQUEST_INVALID: Value not valid: caseRef may hold a CPR number, which no value but cpr may');
  expect(first.code).toBe(1); // a row was refused
  for (const out of [first.stdout, first.stderr]) {
    expect(mayHoldCpr(out)).toBe(false);
    for (const c of [...CITIZENS, '0505909905']) expect(out).not.toContain(c);
  }

  const again = await cli('relations', 'import', file('bif-ok.csv', rows), '--administration', 'BIF', '--json');
  expect(again.code).toBe(0);
  expect(JSON.parse(again.stdout)).toMatchObject({ mode: 'import', rows: 4, counts: { added: 0, unchanged: 4, refused: 0 }, refused: [] });

  // The relations are there under the pseudonym, registered by the import tool.
  const config = loadConfig({ root: ROOT, env });
  const store = await openStore({ kind: 'sqlite', file: path.join(dataDir, 'snitflade.db') });
  try {
    const [found] = await store.relations.search({ subjects: loadPseudonymizer(config).all(CITIZENS[1]!) });
    expect(found?.relation).toMatchObject({ administration: 'BIF', caseRef: 'BIF-CLI-1', caseworker: 'bif-cw-1' });
    expect(found?.events[0]?.actor.system).toBe('relations-import');
  } finally {
    await store.close();
  }
  const verify = await cli('audit', 'verify', '--chain', 'relations-import');
  expect(verify.stdout).toContain('✔ chain relations-import');
  expect(verify.stdout).not.toContain('after the last checkpoint');
  expect(verify.code).toBe(0);
});

it('reconciles: ends what the file leaves out within --max-end, and says so when the guard holds the ends back (exit 2)', async () => {
  const listed = CITIZENS.slice(1).map((c, i) => `BIF,${c},cash-benefit,BIF-CLI-${i + 1},bif-cw-1,${FROM},`);
  const held = await cli('relations', 'reconcile', file('bif-3.csv', listed), '--administration', 'BIF');
  expect(held.code).toBe(2);
  expect(held.stdout).toContain('BIF holds 4 relations in force or planned; the file leaves out 1 (at most 0 may be ended)');
  expect(held.stderr).toContain('snitflade: RELATION_RECONCILE_LIMIT: Reconciliation would end too many relations.');
  const ended = await cli('relations', 'reconcile', file('bif-3.csv', listed), '--administration', 'BIF', '--max-end', '25%');
  expect(ended.stdout).toContain('unchanged 3, refused 0, ended 1');
  expect(ended.code).toBe(0);
});

it('refuses a second run while one holds the import chain, and a file that is not there (exit 2)', async () => {
  const store = await openStore({ kind: 'sqlite', file: path.join(dataDir, 'snitflade.db') });
  const lease = await store.checkpoints.lockChain('relations-import');
  try {
    const r = await cli('relations', 'import', file('x.csv', []), '--administration', 'BIF');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('snitflade: RELATION_IMPORT_IN_PROGRESS: Another import is running.');
  } finally {
    await lease.release();
    await store.close();
  }
  const missing = await cli('relations', 'import', path.join(dataDir, 'nowhere.csv'), '--administration', 'BIF');
  expect(missing.code).toBe(2);
  expect(missing.stderr).toContain('RELATION_IMPORT_FILE_UNREADABLE');
});

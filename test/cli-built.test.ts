import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { jest } from '@jest/globals';
import { openStore } from '../src/store/index.js';
import { testCerts } from './support/env.js';

jest.setTimeout(240_000);

/**
 * The built tool and the built gateway as users run them: `npm run build`, then
 * `node dist/src/cli/snitflade.js check` (what `npx snitflade check` runs), and `npm start`'s
 * main process reloading its rules on SIGHUP.
 */

const ROOT = process.cwd();
const CLI = path.join(ROOT, 'dist', 'src', 'cli', 'snitflade.js');
const MAIN = path.join(ROOT, 'dist', 'src', 'main.js');

beforeAll(() => {
  const build = spawnSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`npm run build failed:\n${build.stdout}\n${build.stderr}`);
  expect(existsSync(CLI)).toBe(true);
});

describe('the built snitflade command', () => {
  it('check passes on the repository (exit 0)', () => {
    const r = spawnSync(process.execPath, [CLI, 'check'], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, SNITFLADE_CERTS_DIR: path.join(ROOT, 'test-output', 'no-certs-here') },
    });
    expect(r.stderr).not.toContain('✘');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^check passed: \d+ contracts, \d+ policies, \d+ purposes, \d+ policy test cases, \d+ clients/);
  });

  it('check fails on a broken fixture with the file, the line and what to do (exit 1)', () => {
    const r = spawnSync(process.execPath, [CLI, 'check', '--dir', 'test/fixtures/check/unknown-purpose'], { cwd: ROOT, encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(
      `✘ ${path.join('test', 'fixtures', 'check', 'unknown-purpose', 'policies', 'sof-reads-employment-status.policy.yaml')}:11 at /purpose: unknown purpose "plan-cordination"`,
    );
  });
});

/** A base port with the four ports after it free too (the gateway, then one per simulated system). */
async function freePorts(count: number): Promise<number> {
  const free = (port: number) =>
    new Promise<boolean>((resolve) => {
      const s = net.createServer();
      s.once('error', () => resolve(false));
      s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
    });
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20000 + Math.floor(Math.random() * 30000);
    let ok = true;
    for (let i = 0; i < count && ok; i++) ok = await free(base + i);
    if (ok) return base;
  }
  throw new Error('no free run of ports');
}

/** Resolves once `predicate` holds for the child's output so far; rejects if the child exits first. */
function waitFor(child: ChildProcessWithoutNullStreams, read: () => string, predicate: (text: string) => boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = (): void => {
      if (predicate(read())) {
        cleanup();
        resolve();
      }
    };
    const exited = (code: number | null): void => {
      cleanup();
      reject(new Error(`the gateway exited (${code}) before it was ready:\n${read()}`));
    };
    const timer = setInterval(check, 100);
    const cleanup = (): void => {
      clearInterval(timer);
      child.off('exit', exited);
    };
    child.on('exit', exited);
    check();
  });
}

describe("npm start's gateway process", () => {
  let dir: string;
  let child: ChildProcessWithoutNullStreams | undefined;
  afterAll(() => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('reloads its rules on SIGHUP, refuses a broken set, and audits both', async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'snitflade-sighup-'));
    const policies = path.join(dir, 'policies');
    cpSync(path.join(ROOT, 'policies'), policies, { recursive: true });
    writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ paths: { policies } }));
    const logFile = path.join(ROOT, 'test-output', 'logs', `sighup-${process.pid}-${Date.now()}.log`);
    const port = await freePorts(5);
    child = spawn(process.execPath, [MAIN], {
      cwd: ROOT,
      env: {
        ...process.env,
        SNITFLADE_CONFIG: path.join(dir, 'config.json'),
        SNITFLADE_PORT: String(port),
        SNITFLADE_CERTS_DIR: await testCerts(),
        SNITFLADE_DATA_DIR: path.join(dir, 'data'),
        SNITFLADE_LOG_FILE: logFile,
        SNITFLADE_INSTANCE_ID: 'gw-sighup',
      },
    });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stdout += d.toString()));
    await waitFor(
      child,
      () => stdout,
      (t) => t.includes('Snitflade is running'),
    );
    expect(stdout).toContain('simulated suf-health-system');
    expect(stdout).toContain('simulated buf-youth-system');
    const log = () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '');

    // A broken set: refused, the gateway keeps running.
    const file = path.join(policies, 'sof-reads-employment-status.policy.yaml');
    const original = readFileSync(file, 'utf8');
    writeFileSync(file, original.replace('purpose: plan-coordination', 'purpose: plan-cordination'));
    child.kill('SIGHUP');
    await waitFor(child, log, (t) => t.includes('reload refused'));
    expect(child.exitCode).toBeNull();

    // A valid one: switched to.
    writeFileSync(
      file,
      original.replace(/^version: (\d+)$/m, (_, v: string) => `version: ${Number(v) + 1}`),
    );
    child.kill('SIGHUP');
    await waitFor(child, log, (t) => t.includes('rules reloaded'));

    child.kill('SIGTERM');
    const code = await new Promise<number | null>((resolve) => child!.once('exit', resolve));
    expect(code).toBe(0);

    const store = await openStore({ kind: 'sqlite', file: path.join(dir, 'data', 'snitflade.db') });
    try {
      const { records } = await store.audit.search({ kind: 'admin', limit: 10 });
      const oldestFirst = [...records].reverse();
      expect(oldestFirst.map((r) => [r.reasons, r.caller, r.status])).toEqual([
        [['RULES_INVALID'], null, null],
        [['RULES_RELOADED'], null, null],
      ]);
      expect(oldestFirst[0]!.policySet).not.toBe(oldestFirst[1]!.policySet);
    } finally {
      await store.close();
    }
  });
});

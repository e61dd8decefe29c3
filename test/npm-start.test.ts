/**
 * What `npm start` starts (src/demo.ts, run by src/main.ts), as a new user meets it: where the
 * simulated systems listen and how to move them, a port that is taken (another instance still
 * running), and a stdout that carries only JSON log lines for a log shipper, the banner on stderr.
 */
import { jest } from '@jest/globals';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { loadConfig } from '../src/config/config.js';
import { verifyArtefact } from '../src/consent/artefact.js';
import { SIMULATED, SIMULATED_CONSENT_SERVICE, SIMULATED_SYSTEMS, simulatorPorts, startDemo, type Demo } from '../src/demo.js';
import { PortInUseError } from '../src/lib/listen.js';
import { LoadError } from '../src/lib/load-error.js';
import { addDuration, copenhagenDate } from '../src/policy/dates.js';
import { population } from '../src/simulators/population.js';
import { ROOT, testCerts, tls } from './support/env.js';

jest.setTimeout(120_000);

const dirs: string[] = [];
const holders: net.Server[] = [];
const children: ChildProcessWithoutNullStreams[] = [];
const demos: Demo[] = [];

afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await Promise.all(
    demos.map(async (d) => {
      await d.close().catch(() => undefined);
      await new Promise<void>((resolve) => d.logger.on('finish', () => resolve()).end());
    }),
  );
  await Promise.all(holders.map((h) => new Promise((resolve) => h.close(resolve))));
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function tempDir(name: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), `snitflade-${name}-`));
  dirs.push(dir);
  return dir;
}

/** Whether a port on 127.0.0.1 can be listened on now. */
function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** A run of `count` free ports: the gateway's, then one per simulated system and the consent service. */
async function freePorts(count: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20000 + Math.floor(Math.random() * 30000);
    let ok = true;
    for (let i = 0; i < count && ok; i++) ok = await isFree(base + i);
    if (ok) return base;
  }
  throw new Error('no free run of ports');
}

/** Holds a port, as another program (or another instance) would. */
async function hold(port: number): Promise<void> {
  const s = net.createServer();
  await new Promise<void>((resolve, reject) => {
    s.once('error', reject);
    s.listen(port, '127.0.0.1', resolve);
  });
  holders.push(s);
}

async function release(port: number): Promise<void> {
  const s = holders.find((h) => (h.address() as net.AddressInfo | null)?.port === port)!;
  holders.splice(holders.indexOf(s), 1);
  await new Promise((resolve) => s.close(resolve));
}

/** The environment `npm start` would see: its own data folder and a log file the suite scans, nothing on the console. */
async function demoEnv(name: string, vars: Record<string, string>): Promise<NodeJS.ProcessEnv> {
  const dir = tempDir(name);
  const logFile = path.join(ROOT, 'test-output', 'logs', `${name}-${process.pid}-${Date.now()}.log`);
  writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ log: { level: 'info', console: false, file: logFile } }));
  return {
    SNITFLADE_CONFIG: path.join(dir, 'config.json'),
    SNITFLADE_CERTS_DIR: await testCerts(),
    SNITFLADE_DATA_DIR: path.join(dir, 'data'),
    SNITFLADE_INSTANCE_ID: `gw-${name}`,
    ...vars,
  };
}

describe("the simulated systems' ports", () => {
  const config = (env: NodeJS.ProcessEnv) => loadConfig({ root: ROOT, env });

  it("follow the gateway's port by default, or start at SNITFLADE_SIMULATOR_PORT; the consent service takes the last", () => {
    expect(simulatorPorts(config({}))).toEqual([8444, 8445, 8446, 8447, 8448]);
    expect(simulatorPorts(config({ SNITFLADE_PORT: '9443' }))).toEqual([9444, 9445, 9446, 9447, 9448]);
    expect(simulatorPorts(config({ SNITFLADE_SIMULATOR_PORT: '18444' }))).toEqual([18444, 18445, 18446, 18447, 18448]);
    expect(simulatorPorts(config({ SNITFLADE_PORT: '0' }))).toEqual([0, 0, 0, 0, 0]);
    expect(simulatorPorts(config({ SNITFLADE_PORT: '8443', SNITFLADE_SIMULATOR_PORT: '0' }))).toEqual([0, 0, 0, 0, 0]);
    expect(SIMULATED_SYSTEMS).toHaveLength(4);
    expect(SIMULATED).toEqual([...SIMULATED_SYSTEMS, SIMULATED_CONSENT_SERVICE]);
  });

  it('refuses a setting that is not a port, runs past 65535 or takes the gateway’s port, naming the setting', () => {
    expect(() => config({ SNITFLADE_SIMULATOR_PORT: '84a4' })).toThrow(
      new LoadError('environment SNITFLADE_SIMULATOR_PORT', '', 'must be a whole number, got "84a4"'),
    );
    expect(() => config({ SNITFLADE_SIMULATOR_PORT: '70000' })).toThrow(/\/simulators\/firstPort: must be <= 65535/);
    expect(() => simulatorPorts(config({ SNITFLADE_SIMULATOR_PORT: '65532' }))).toThrow(
      /the 5 simulated systems' ports 65532-65536 would run past 65535; set SNITFLADE_SIMULATOR_PORT to the first of 5 free consecutive ports/,
    );
    expect(() => simulatorPorts(config({ SNITFLADE_PORT: '65534' }))).toThrow(/ports 65535-65539 would run past 65535/);
    expect(() => simulatorPorts(config({ SNITFLADE_SIMULATOR_PORT: '8440' }))).toThrow(
      /ports 8440-8444 would include the gateway's port 8443; set SNITFLADE_SIMULATOR_PORT/,
    );
  });
});

describe('a port in use at start-up', () => {
  it('a second npm start beside a running one stops at the first taken port: which port, for what, the setting, another instance', async () => {
    const base = await freePorts(1 + SIMULATED.length);
    const first = await startDemo({ env: await demoEnv('start-first', { SNITFLADE_PORT: String(base) }) });
    demos.push(first);
    expect(first.running.port).toBe(base);
    expect(first.simulators.map((s) => s.port)).toEqual([base + 1, base + 2, base + 3, base + 4]);
    expect(first.consentService.port).toBe(base + 5);
    // The gateway trusts the simulated consent service, and can ask it.
    expect([...first.running.gateway.consentIssuers.keys()]).toEqual(['demo-samtykke']);
    expect(first.running.gateway.consentServices.map((s) => s.issuer)).toEqual(['demo-samtykke']);
    const cpr = population()[0]!.cpr;
    const day = copenhagenDate(new Date());
    const given = await request(first.consentService.url)
      .post('/citizen/consents')
      .ca(tls('ops-console').ca)
      .send({
        cpr,
        recipients: ['SOF'],
        sources: ['BIF'],
        purposes: ['plan-coordination'],
        categories: ['employment'],
        validFrom: day,
        validTo: addDuration(day, 'P1D'),
      });
    expect(given.status).toBe(201);
    const [artefact] = await first.running.gateway.consentServices[0]!.inForce(cpr, AbortSignal.timeout(10_000));
    expect(artefact).toBe(given.body.artefact);
    await expect(verifyArtefact(artefact!, first.running.gateway.consentIssuers, cpr, new Date())).resolves.toMatchObject({
      kid: first.consentService.kid,
    });

    const second = startDemo({ env: await demoEnv('start-second', { SNITFLADE_PORT: String(base) }) });
    await expect(second).rejects.toThrow(PortInUseError);
    const err = (await second.catch((e: unknown) => e)) as PortInUseError;
    expect(err.port).toBe(base + 1);
    expect(err.message).toBe(
      `port ${base + 1} on 127.0.0.1, for the simulated bif-jobcentre-system, is already in use. Another Snitflade may still be running ` +
        '(stop it: Ctrl-C in its terminal), or another program holds the port. To use another port, set SNITFLADE_SIMULATOR_PORT ' +
        `(or simulators.firstPort in the SNITFLADE_CONFIG file), the first of the 5 simulated systems' consecutive ports (now ${base + 1}), ` +
        `e.g. SNITFLADE_SIMULATOR_PORT=${base + 1001} npm start.`,
    );
    // The first one runs on, untouched.
    const health = await request(first.running.url).get('/healthz').ca(tls('ops-console').ca);
    expect(health.status).toBe(200);
  });

  it("the consent service's port taken: names it and the setting, and stops the simulated systems that had started", async () => {
    const base = await freePorts(1 + SIMULATED.length);
    await hold(base + SIMULATED.length);
    const err = (await startDemo({ env: await demoEnv('start-consent-port', { SNITFLADE_PORT: String(base) }) }).catch(
      (e: unknown) => e,
    )) as PortInUseError;
    expect(err).toBeInstanceOf(PortInUseError);
    expect(err.port).toBe(base + SIMULATED.length);
    expect(err.message).toContain(`port ${base + 5} on 127.0.0.1, for the simulated consent-service, is already in use.`);
    expect(err.message).toContain(`the first of the 5 simulated systems' consecutive ports (now ${base + 1})`);
    for (let i = 0; i < SIMULATED_SYSTEMS.length; i++) expect(await isFree(base + 1 + i)).toBe(true);
    await release(base + SIMULATED.length);
  });

  it("the gateway's port taken: says so and which setting moves it, and stops what had started", async () => {
    const base = await freePorts(1 + SIMULATED.length);
    await hold(base);
    const env = await demoEnv('start-gateway-port', { SNITFLADE_PORT: String(base) });
    const err = (await startDemo({ env }).catch((e: unknown) => e)) as PortInUseError;
    expect(err).toBeInstanceOf(PortInUseError);
    expect(err.port).toBe(base);
    expect(err.message).toMatch(
      new RegExp(`^port ${base} on 127\\.0\\.0\\.1, for the gateway, is already in use\\. Another Snitflade may still be running`),
    );
    expect(err.message).toContain(
      `set SNITFLADE_PORT (or listen.port in the SNITFLADE_CONFIG file), e.g. SNITFLADE_PORT=${base + 1000} npm start`,
    );
    expect(err.message).not.toMatch(/\n\s+at /);
    // The simulated systems that had started are stopped again...
    for (let i = 1; i <= SIMULATED.length; i++) expect(await isFree(base + i)).toBe(true);
    // ...and the gateway's store and audit chain released: once the port is free, the same start succeeds.
    await release(base);
    const demo = await startDemo({ env });
    demos.push(demo);
    expect(demo.running.port).toBe(base);
  });
});

interface Run {
  readonly child: ChildProcessWithoutNullStreams;
  stdout(): string;
  stderr(): string;
  readonly exited: Promise<number | null>;
}

/** `npm start`'s entry (src/main.ts, from its sources) in a child process, with only the given environment. */
function runMain(env: NodeJS.ProcessEnv): Run {
  const child = spawn(process.execPath, ['--no-warnings', '--import', './test/support/register-ts.mjs', 'src/main.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
  });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
  child.stderr.on('data', (c: Buffer) => (err += c.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, stdout: () => out, stderr: () => err, exited };
}

/** Resolves once the child's stderr says it runs; rejects if it exits first. */
async function ready(run: Run): Promise<void> {
  const until = Date.now() + 90_000;
  while (!run.stderr().includes('Ctrl-C stops everything.')) {
    if (run.child.exitCode !== null) throw new Error(`npm start ended (${run.child.exitCode}) before it ran:\n${run.stderr()}`);
    if (Date.now() > until) throw new Error(`npm start did not come up:\n${run.stderr()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Every line of stdout, parsed: each must be one JSON object. Kept for the suite's leak scan. */
function jsonLines(name: string, stdout: string): Record<string, unknown>[] {
  const logs = path.join(ROOT, 'test-output', 'logs');
  mkdirSync(logs, { recursive: true });
  writeFileSync(path.join(logs, `${name}-${process.pid}-${Date.now()}.log`), stdout);
  return stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch {
        throw new Error(`a line on stdout is not JSON: ${line.slice(0, 200)}`);
      }
      expect(parsed).toEqual(expect.objectContaining({ level: expect.any(String), message: expect.any(String) }));
      return parsed as Record<string, unknown>;
    });
}

describe("npm start's process", () => {
  const processEnv = async (name: string, vars: Record<string, string>): Promise<NodeJS.ProcessEnv> => ({
    SNITFLADE_CERTS_DIR: await testCerts(),
    SNITFLADE_DATA_DIR: path.join(tempDir(name), 'data'),
    SNITFLADE_INSTANCE_ID: `gw-${name}`,
    ...vars,
  });

  it('writes only JSON log lines to stdout; what it started and where goes to stderr', async () => {
    const run = runMain(await processEnv('stdout-json', { SNITFLADE_PORT: '0' }));
    await ready(run);
    expect(run.stderr()).toContain('Snitflade is running');
    for (const system of SIMULATED) expect(run.stderr()).toMatch(new RegExp(`simulated ${system} +https://localhost:\\d+`));
    expect(run.stderr()).toMatch(
      /simulated consent-service +https:\/\/localhost:\d+ +\(stands in for Digitalt Samtykke; trusted as issuer demo-samtykke\)/,
    );
    // One request, so that the log has a line about it.
    const url = /gateway +(https:\/\/localhost:\d+)/.exec(run.stderr())![1]!;
    const health = await request(url).get('/healthz').ca(tls('ops-console').ca);
    expect(health.status).toBe(200);

    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
    const lines = jsonLines('npm-start-stdout', run.stdout());
    expect(lines.map((l) => l.message)).toEqual(expect.arrayContaining(['request', 'stopping', 'stopped']));
    expect(run.stdout()).not.toContain('Snitflade is running');
    // The example policies are unsigned: the demo runs them, and says so in its banner and its log.
    expect(run.stderr()).toContain(
      'policy approvals        NOT REQUIRED: the example policies run unsigned (policies.requireApprovals is false; docs/POLICY-APPROVALS.md)',
    );
    expect(lines).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        message: 'rules warning',
        problem: expect.stringContaining('the policies are in force without approvals: policies.requireApprovals is false'),
      }),
    );
  });

  it('a port in use: exits 1 with one line on stderr naming the port and the setting, no stack trace, nothing else on stdout', async () => {
    const port = await freePorts(1);
    await hold(port);
    const run = runMain(await processEnv('stdout-port-in-use', { SNITFLADE_PORT: String(port), SNITFLADE_SIMULATOR_PORT: '0' }));
    expect(await run.exited).toBe(1);
    const stderr = run.stderr();
    expect(stderr.split('\n').filter((l) => l !== '')).toHaveLength(1);
    expect(stderr).toMatch(new RegExp(`^snitflade: cannot start: port ${port} on 127\\.0\\.0\\.1, for the gateway, is already in use\\.`));
    expect(stderr).toContain('Another Snitflade may still be running');
    expect(stderr).toContain('set SNITFLADE_PORT');
    expect(stderr).not.toMatch(/\bat [^\s]+ \(|\.(ts|js):\d+:\d+|node:internal/);
    jsonLines('npm-start-port-in-use', run.stdout());
  });
});

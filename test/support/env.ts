import { mkdtempSync, readFileSync } from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { registeredClientIds } from '../../src/auth/client-ids.js';
import { mintRequestToken } from '../../src/auth/mint.js';
import { loadConfig, type ConfigInput, type GatewayConfig } from '../../src/config/config.js';
import { createGateway, type Gateway, type GatewayOptions } from '../../src/gateway.js';
import { createLogger } from '../../src/log.js';
import { ensureDevPki } from '../../src/pki/devpki.js';
import { listen, type RunningGateway } from '../../src/server/https.js';
import { startSimulator, type Simulator } from '../../src/simulators/server.js';
import { startConsentService, type SimulatedConsentService } from '../../src/simulators/consent-service.js';
import { projectRoot } from '../../src/lib/root.js';

export const ROOT = projectRoot();
const worker = process.env.JEST_WORKER_ID ?? '0';
/** One development PKI per jest worker, generated once (workers run files in parallel). */
export const TEST_CERTS = path.join(ROOT, 'test-output', `certs-${worker}`);

export async function testCerts(): Promise<string> {
  await ensureDevPki(TEST_CERTS, {
    systems: registeredClientIds(path.join(ROOT, 'policies', 'clients.yaml')),
    gatewayId: 'snitflade-gateway',
    consentService: true,
  });
  return TEST_CERTS;
}

export function tls(system: string): { cert: Buffer; key: Buffer; ca: Buffer } {
  return {
    cert: readFileSync(path.join(TEST_CERTS, 'clients', system, 'tls.crt.pem')),
    key: readFileSync(path.join(TEST_CERTS, 'clients', system, 'tls.key.pem')),
    ca: readFileSync(path.join(TEST_CERTS, 'ca', 'ca.crt.pem')),
  };
}

export interface TestEnv {
  readonly gateway: Gateway;
  readonly running: RunningGateway;
  readonly url: string;
  readonly config: GatewayConfig;
  readonly simulators: Record<string, Simulator>;
  /** The simulated national consent service, trusted as its issuer, when started (option consentService). */
  readonly consentService?: SimulatedConsentService;
  readonly dataDir: string;
  readonly logFile: string;
  close(): Promise<void>;
}

/**
 * The real thing on ephemeral ports: the development PKI, both simulated provider systems and
 * the gateway over mutual TLS, with its own SQLite file (or the given store) and a log file the
 * suite's teardown scans for personal data.
 */
export async function startTestEnv(
  options: {
    name: string;
    overrides?: ConfigInput;
    gatewayOptions?: GatewayOptions;
    simulators?: boolean;
    /** Start the simulated consent service (or use this one, shared with another env) and trust it. */
    consentService?: boolean | SimulatedConsentService;
  } = { name: 'env' },
): Promise<TestEnv> {
  const certs = await testCerts();
  const ownService =
    options.consentService === true ? await startConsentService({ certsDir: certs, gatewayId: 'snitflade-gateway' }) : undefined;
  const consentService = ownService ?? (typeof options.consentService === 'object' ? options.consentService : undefined);
  const trusted = consentService
    ? {
        issuers: [
          {
            id: consentService.issuer,
            publicKeys: [{ kid: consentService.kid, file: consentService.publicKeyFile }],
            url: consentService.url,
          },
        ],
      }
    : {};
  const simulators: Record<string, Simulator> = {};
  const endpoints: Record<string, string> = {};
  if (options.simulators !== false) {
    for (const system of ['bif-jobcentre-system', 'sof-case-system', 'suf-health-system', 'buf-youth-system']) {
      const sim = await startSimulator({ system, port: 0, certsDir: certs, gatewayId: 'snitflade-gateway' });
      simulators[system] = sim;
      endpoints[system] = sim.url;
    }
  }
  const dataDir = mkdtempSync(path.join(os.tmpdir(), `snitflade-${options.name}-`));
  const logFile = path.join(ROOT, 'test-output', 'logs', `${options.name}-${worker}-${process.pid}-${Date.now()}.log`);
  const config = loadConfig({
    root: ROOT,
    env: {},
    overrides: {
      listen: { host: '127.0.0.1', port: 0 },
      paths: { certs, data: dataDir },
      store: { kind: 'sqlite', file: path.join(dataDir, 'snitflade.db') },
      endpoints,
      log: { level: 'debug', console: false, file: logFile },
      // The repository's example policies are unsigned: tests run them as the demo does.
      policies: { requireApprovals: false },
      ...options.overrides,
      ...(consentService ? { consent: { ...options.overrides?.consent, ...trusted } } : {}),
    },
  });
  const logger = createLogger({ ...config.log, service: `test-${options.name}` });
  const gateway = await createGateway(config, { logger, ...options.gatewayOptions });
  const running = await listen(gateway);
  return {
    gateway,
    running,
    url: running.url,
    config,
    simulators,
    ...(consentService ? { consentService } : {}),
    dataDir,
    logFile,
    async close() {
      await running.close();
      await Promise.all(Object.values(simulators).map((s) => s.close()));
      await ownService?.close();
      await new Promise<void>((resolve) => logger.on('finish', () => resolve()).end());
    },
  };
}

export interface TokenOverrides {
  client?: string;
  caseworker?: string;
  purpose?: string;
  caseRef?: string;
  path?: string;
  body?: string;
  lifetimeSeconds?: number;
  now?: Date;
  jti?: string;
  audience?: string;
}

/** A request token as the named demo client's system would mint it. */
export async function tokenFor(client: string, path_: string, body: string, o: TokenOverrides = {}): Promise<string> {
  const signer = o.client ?? client;
  return mintRequestToken({
    clientId: signer,
    kid: `${signer}-1`,
    key: readFileSync(path.join(TEST_CERTS, 'clients', signer, 'signing.key.pem'), 'utf8'),
    audience: o.audience ?? 'snitflade-gateway',
    caseworker: o.caseworker ?? `${client}-cw-0042`,
    purpose: o.purpose ?? 'plan-coordination',
    caseRef: o.caseRef ?? 'CASE-2026-0001',
    method: 'POST',
    path: o.path ?? path_,
    body: o.body ?? body,
    ...(o.lifetimeSeconds !== undefined ? { lifetimeSeconds: o.lifetimeSeconds } : {}),
    ...(o.now !== undefined ? { now: o.now } : {}),
    ...(o.jti !== undefined ? { jti: o.jti } : {}),
  });
}

import path from 'node:path';
import { registeredClientIds } from './auth/client-ids.js';
import { loadConfig, type ConfigInput, type GatewayConfig } from './config/config.js';
import { createGateway, type Gateway } from './gateway.js';
import { PortInUseError, type PortSetting } from './lib/listen.js';
import { LoadError } from './lib/load-error.js';
import { projectRoot } from './lib/root.js';
import { createLogger, type Logger } from './log.js';
import { ensureDevPki } from './pki/devpki.js';
import type { Policy } from './policy/types.js';
import { listen, type RunningGateway } from './server/https.js';
import { seedDemoRelations } from './simulators/relations.js';
import { DEMO_CONSENT_ISSUER, startConsentService, type SimulatedConsentService } from './simulators/consent-service.js';
import { startSimulator, type Simulator } from './simulators/server.js';

/** The simulated provider systems `npm start` runs beside the gateway, on consecutive ports in this order. */
export const SIMULATED_SYSTEMS = ['bif-jobcentre-system', 'sof-case-system', 'suf-health-system', 'buf-youth-system'] as const;
/** The simulated national consent service (src/simulators/consent-service.ts): on the port after the simulated systems. */
export const SIMULATED_CONSENT_SERVICE = 'consent-service';
/** Everything `npm start` simulates, in the order of its consecutive ports. */
export const SIMULATED = [...SIMULATED_SYSTEMS, SIMULATED_CONSENT_SERVICE] as const;

/** What `npm start` started; `close` stops it all. */
export interface Demo {
  readonly running: RunningGateway;
  readonly simulators: readonly Simulator[];
  /** The simulated consent service the gateway trusts as issuer DEMO_CONSENT_ISSUER. */
  readonly consentService: SimulatedConsentService;
  readonly logger: Logger;
  /**
   * What it started and where, for a person to read. `npm start` prints it on stderr: stdout
   * carries only the operational log's JSON lines, for a log shipper.
   */
  readonly banner: string;
  close(): Promise<void>;
}

/**
 * What the demo changes in the defaults (an operator's configuration file or environment still
 * wins): its example policies are unsigned, so it runs them without approvals, and says so in its
 * banner and its log (the rule set's warning).
 */
export const DEMO_DEFAULTS: ConfigInput = { policies: { requireApprovals: false } };

/** The banner's line about policy approvals: never silent when they are not enforced. */
function approvalsLine(config: GatewayConfig, policies: readonly Policy[]): string {
  const approved = policies.filter((p) => p.approvals !== undefined).length;
  if (!config.policies.requireApprovals)
    return approved === 0
      ? '  policy approvals        NOT REQUIRED: the example policies run unsigned (policies.requireApprovals is false; docs/POLICY-APPROVALS.md)'
      : `  policy approvals        NOT ENFORCED: ${approved} of ${policies.length} policies carry approvals (policies.requireApprovals is false; docs/POLICY-APPROVALS.md)`;
  return `  policy approvals        required and verified: every policy signed by ${config.policies.required.join(', ') || 'its approvers'}`;
}

/** Another port to suggest in a message: a thousand above, or below near the top. */
const elsewhere = (port: number): number => (port + 1000 + SIMULATED.length <= 65535 ? port + 1000 : port - 1000);

function gatewayPortSetting(port: number): PortSetting {
  return {
    what: 'the gateway',
    setting:
      `SNITFLADE_PORT (or listen.port in the SNITFLADE_CONFIG file), e.g. SNITFLADE_PORT=${elsewhere(port)} npm start; ` +
      'the simulated systems move with it unless SNITFLADE_SIMULATOR_PORT is set',
  };
}

function simulatorPortSetting(system: string, first: number): PortSetting {
  return {
    what: `the simulated ${system}`,
    setting:
      `SNITFLADE_SIMULATOR_PORT (or simulators.firstPort in the SNITFLADE_CONFIG file), the first of the ` +
      `${SIMULATED.length} simulated systems' consecutive ports (now ${first}), e.g. SNITFLADE_SIMULATOR_PORT=${elsewhere(first)} npm start`,
  };
}

/**
 * The simulated systems' ports, in the order of SIMULATED (the provider systems, then the
 * consent service): consecutive from `simulators.firstPort`, by default from the gateway's port
 * + 1; all 0 (ephemeral) when that is 0. Throws LoadError when they would run past 65535 or
 * include the gateway's port.
 */
export function simulatorPorts(config: GatewayConfig): number[] {
  const gateway = config.listen.port;
  const first = config.simulators?.firstPort ?? (gateway === 0 ? 0 : gateway + 1);
  if (first === 0) return SIMULATED.map(() => 0);
  const last = first + SIMULATED.length - 1;
  const clash = last > 65535 ? 'run past 65535' : gateway >= first && gateway <= last ? `include the gateway's port ${gateway}` : undefined;
  if (clash !== undefined) {
    throw new LoadError(
      'configuration',
      '/simulators/firstPort',
      `the ${SIMULATED.length} simulated systems' ports ${first}-${last} would ${clash}; set SNITFLADE_SIMULATOR_PORT ` +
        `to the first of ${SIMULATED.length} free consecutive ports apart from the gateway's (SNITFLADE_PORT)`,
    );
  }
  return SIMULATED.map((_, i) => first + i);
}

/** A port in use, said with what it was for and the setting that moves it; anything else as it is. */
function explainPort(setting: PortSetting): (err: unknown) => never {
  return (err) => {
    throw err instanceof PortInUseError ? err.withSetting(setting) : err;
  };
}

/**
 * `npm start` without the process around it: development certificates (generated on first
 * start), the simulated provider systems, the simulated consent service (which the gateway then
 * trusts as issuer DEMO_CONSENT_ISSUER) and the gateway with its embedded store, configured from
 * `env` as the gateway is. A port in use stops it with a PortInUseError naming the port, what it
 * was for and the setting that moves it; whatever had started is stopped again.
 *
 * @example
 *   const demo = await startDemo({ env: process.env });
 *   process.stderr.write(demo.banner);
 */
export async function startDemo(options: { env: NodeJS.ProcessEnv; root?: string }): Promise<Demo> {
  const root = options.root ?? projectRoot();
  const base = loadConfig({ root, env: options.env, defaults: DEMO_DEFAULTS });
  const ports = simulatorPorts(base);
  const systems = registeredClientIds(path.join(base.paths.policies, 'clients.yaml'));
  await ensureDevPki(base.paths.certs, { systems, gatewayId: base.gatewayId, consentService: true });

  const simulators: Simulator[] = [];
  let consentService: SimulatedConsentService | undefined;
  let logger: Logger | undefined;
  let gateway: Gateway | undefined;
  try {
    const endpoints: Record<string, string> = {};
    for (const [i, system] of SIMULATED_SYSTEMS.entries()) {
      const sim = await startSimulator({ system, port: ports[i], certsDir: base.paths.certs, gatewayId: base.gatewayId }).catch(
        explainPort(simulatorPortSetting(system, ports[0]!)),
      );
      simulators.push(sim);
      endpoints[system] = sim.url;
    }
    consentService = await startConsentService({
      port: ports[SIMULATED_SYSTEMS.length],
      certsDir: base.paths.certs,
      gatewayId: base.gatewayId,
    }).catch(explainPort(simulatorPortSetting(SIMULATED_CONSENT_SERVICE, ports[0]!)));
    // An issuer configured with the demo's id wins over the simulated one, as endpoints do.
    const demoIssuer = {
      id: DEMO_CONSENT_ISSUER,
      publicKeys: [{ kid: consentService.kid, file: consentService.publicKeyFile }],
      url: consentService.url,
    };
    const issuers = base.consent.issuers.some((i) => i.id === DEMO_CONSENT_ISSUER)
      ? base.consent.issuers
      : [...base.consent.issuers, demoIssuer];
    // Endpoints configured for a system win over its simulator's.
    const config = loadConfig({
      root,
      env: options.env,
      defaults: DEMO_DEFAULTS,
      overrides: { endpoints: { ...endpoints, ...base.endpoints }, consent: { issuers } },
    });
    logger = createLogger({ ...config.log, service: 'snitflade' });
    gateway = await createGateway(config, { logger });
    const running = await listen(gateway).catch(explainPort(gatewayPortSetting(config.listen.port)));
    // The simulated case systems declare whom they serve, through the API (need to know): in the
    // background, the README's citizens first (on a first start the rest takes a minute or so).
    // Only into the demo's embedded SQLite store: never into a PostgreSQL database that might be
    // a real one, as the development case systems.
    const stopSeeding = new AbortController();
    const log = logger;
    const seed = config.store.kind === 'sqlite';
    const seeding = (
      seed
        ? seedDemoRelations({
            gatewayUrl: running.url,
            certsDir: config.paths.certs,
            gatewayId: config.gatewayId,
            signal: stopSeeding.signal,
          })
        : Promise.resolve(undefined)
    ).then(
      (s) =>
        s === undefined ||
        log.info('demo relations registered by the simulated case systems', { registered: s.written, alreadyThere: s.unchanged }),
      (err: unknown) =>
        stopSeeding.signal.aborted ||
        log.error('the demo relations could not all be registered', { error: err instanceof Error ? err.message : String(err) }),
    );

    const rules = gateway.rules();
    const banner = [
      '',
      'Snitflade is running (development demo; synthetic citizens only)',
      `  gateway                 ${running.url}   (mutual TLS; store: ${config.store.kind === 'sqlite' ? config.store.file : 'PostgreSQL'})`,
      ...simulators.map((s) => `  simulated ${s.system.padEnd(22)} ${s.url}`),
      `  simulated ${SIMULATED_CONSENT_SERVICE.padEnd(22)} ${consentService.url}   (stands in for Digitalt Samtykke; trusted as issuer ${DEMO_CONSENT_ISSUER})`,
      `  contracts ${rules.contracts.list().length}, policies ${rules.policies.policies.length}, policy set ${rules.policies.digest.slice(0, 12)}`,
      approvalsLine(config, rules.policies.policies),
      seed
        ? '  relations register      filled by the simulated case systems through the API (the log says when it is done)'
        : '  relations register      not filled: the demo registers its relations only in its embedded SQLite store',
      `  certificates            ${config.paths.certs}`,
      `  health                  ${running.url}/healthz  ${running.url}/readyz  ${running.url}/metrics`,
      '',
      'Try the walkthrough in README.md. Ctrl-C stops everything.',
      '',
    ].join('\n');
    const service = consentService;
    return {
      running,
      simulators,
      consentService: service,
      logger,
      banner,
      async close() {
        stopSeeding.abort();
        await seeding;
        await running.close();
        await Promise.all([...simulators.map((s) => s.close()), service.close()]);
      },
    };
  } catch (err) {
    await gateway?.close().catch(() => undefined);
    await Promise.all([...simulators, ...(consentService ? [consentService] : [])].map((s) => s.close().catch(() => undefined)));
    logger?.end();
    throw err;
  }
}

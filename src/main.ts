import path from 'node:path';
import { reloadRules } from './rules/reload.js';
import { registeredClientIds } from './auth/client-ids.js';
import { loadConfig } from './config/config.js';
import { createGateway } from './gateway.js';
import { createLogger } from './log.js';
import { ensureDevPki } from './pki/devpki.js';
import { listen } from './server/https.js';
import { handleSignals } from './server/shutdown.js';
import { projectRoot } from './lib/root.js';
import { startSimulator, type Simulator } from './simulators/server.js';

/** The simulated provider systems `npm start` runs beside the gateway, on the next ports. */
export const SIMULATED_SYSTEMS = ['bif-jobcentre-system', 'sof-case-system', 'suf-health-system', 'buf-youth-system'] as const;

/**
 * `npm start`: development certificates (generated on first start), the simulated provider systems
 * and the gateway with its embedded SQLite store. Prints what it started and where.
 */
async function main(): Promise<void> {
  const base = loadConfig({ root: projectRoot(), env: process.env });
  const logger = createLogger({ ...base.log, service: 'snitflade' });
  const systems = registeredClientIds(path.join(base.paths.policies, 'clients.yaml'));
  await ensureDevPki(base.paths.certs, { systems, gatewayId: base.gatewayId });

  const simulators: Simulator[] = [];
  const endpoints: Record<string, string> = {};
  for (const [i, system] of SIMULATED_SYSTEMS.entries()) {
    const sim = await startSimulator({ system, port: base.listen.port + 1 + i, certsDir: base.paths.certs, gatewayId: base.gatewayId });
    simulators.push(sim);
    endpoints[system] = sim.url;
  }
  const config = loadConfig({ root: projectRoot(), env: process.env, overrides: { endpoints: { ...endpoints, ...base.endpoints } } });
  const gateway = await createGateway(config, { logger });
  const running = await listen(gateway);

  const rules = gateway.rules();
  const lines = [
    '',
    'Snitflade is running (development demo; synthetic citizens only)',
    `  gateway                 ${running.url}   (mutual TLS; store: ${config.store.kind === 'sqlite' ? config.store.file : 'PostgreSQL'})`,
    ...simulators.map((s) => `  simulated ${s.system.padEnd(22)} ${s.url}`),
    `  contracts ${rules.contracts.list().length}, policies ${rules.policies.policies.length}, policy set ${rules.policies.digest.slice(0, 12)}`,
    `  certificates            ${config.paths.certs}`,
    `  health                  ${running.url}/healthz  ${running.url}/readyz  ${running.url}/metrics`,
    '',
    'Try the walkthrough in README.md. Ctrl-C stops everything.',
    '',
  ];
  process.stdout.write(lines.join('\n'));

  handleSignals({
    logger,
    stop: async () => {
      await running.close();
      await Promise.all(simulators.map((s) => s.close()));
    },
    reload: () => reloadRules(gateway, { via: 'SIGHUP' }),
    hardLimitMs: config.limits.shutdownGraceMs + 15_000,
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`snitflade: cannot start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});

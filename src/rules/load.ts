import path from 'node:path';
import { loadClients } from '../auth/clients.js';
import type { GatewayConfig } from '../config/config.js';
import { loadContracts } from '../contracts/registry.js';
import { LoadErrors, type LoadError } from '../lib/load-error.js';
import { loadPolicySet } from '../policy/loader.js';
import { loadCapacities } from '../relations/capacities.js';
import { checkLoadedRules } from './check.js';
import type { Rules } from './types.js';

/**
 * Loading the rule set: the one path start-up and every reload take. The contracts, policies,
 * capacities and clients are loaded by their own loaders (each validates its files), then checked as one
 * set (check.ts: the client registry's references, the policy test cases) and frozen. A set
 * that would be refused on reload is refused at start-up too.
 */

export interface LoadRulesOptions {
  /** Told each warning (a problem that stops nothing, e.g. a policy nobody can use yet). */
  readonly warn?: (warning: LoadError) => void;
}

/**
 * Loads, checks and freezes the rule set named by the configuration, or throws LoadErrors
 * naming every file, line and problem.
 *
 * @example
 *   const rules = await loadRules(config, { warn: (w) => logger.warn('rules warning', { problem: w.message }) });
 */
export async function loadRules(config: Pick<GatewayConfig, 'paths' | 'endpoints'>, options: LoadRulesOptions = {}): Promise<Rules> {
  const clientsFile = path.join(config.paths.policies, 'clients.yaml');
  const contracts = loadContracts(config.paths.schemas);
  const policies = loadPolicySet({ dir: config.paths.policies, contracts });
  const capacities = loadCapacities(config.paths.policies, new Set(policies.administrations.keys()));
  const clients = await loadClients(clientsFile, config.paths.certs, config.endpoints);
  const checked = await checkLoadedRules({
    contracts,
    policies,
    clients: clients.clients,
    clientsFile,
    policiesDir: config.paths.policies,
  });
  if (checked.errors.length > 0) throw new LoadErrors(checked.errors);
  for (const w of checked.warnings) options.warn?.(w);
  return Object.freeze({ contracts, policies, clients, capacities });
}

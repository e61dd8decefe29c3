import type { GatewayConfig } from '../config/config.js';
import { LoadErrors, type LoadError } from '../lib/load-error.js';
import { checkRules } from './check.js';
import type { Rules } from './types.js';

/**
 * Loading the rule set: the one path start-up and every reload take. The files are checked as
 * `snitflade check --cases` checks them (check.ts: every contract, policy, purpose, capacity,
 * policy case and client file, the references between them, the policy test cases), with every problem of
 * every file reported at once, and the signing-key files required. Each policy must carry the
 * approvals it requires (policies.requireApprovals; policy/approvals/), and the policies in force
 * carry them to the decisions' audit records. A set that would be refused on reload is refused at
 * start-up too; a set that loads is frozen.
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
export async function loadRules(
  config: Pick<GatewayConfig, 'paths' | 'endpoints' | 'policies'>,
  options: LoadRulesOptions = {},
): Promise<Rules> {
  const report = await checkRules(
    {
      schemas: config.paths.schemas,
      policies: config.paths.policies,
      certs: config.paths.certs,
      endpoints: config.endpoints,
      approvals: config.policies,
    },
    { runCases: true, requireKeys: true, strictApprovals: true },
  );
  if (report.errors.length > 0) throw new LoadErrors(report.errors);
  const { contracts, policies, clients, capacities } = report;
  if (!contracts || !policies || !clients || !capacities)
    throw new TypeError('loadRules: a rule set without errors must have been loaded whole');
  for (const w of report.warnings) options.warn?.(w);
  return Object.freeze({ contracts, policies, clients, capacities });
}

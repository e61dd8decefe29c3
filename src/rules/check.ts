import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { developmentKeyFile, isDevelopmentKeyFile, keyFileIn, loadClients, type ClientRegistry } from '../auth/clients.js';
import { displayPath, loadContracts } from '../contracts/registry.js';
import { byFileAndLine, parseJsonSource, parseYamlSource, type SourceFile } from '../contracts/source.js';
import type { ContractRegistry } from '../contracts/types.js';
import { LoadError, loadErrorsIn } from '../lib/load-error.js';
import { projectRoot } from '../lib/root.js';
import type { ApprovalSettings } from '../policy/approvals/approvers.js';
import { approvalsInForce, checkApprovals, type ApprovalsReport } from '../policy/approvals/check.js';
import type { SignedRegistry, SignedRegistryName } from '../policy/approvals/registries.js';
import { ADMINISTRATIONS_FILE, loadPolicySet, withApprovals } from '../policy/loader.js';
import { CAPACITIES_FILE, loadCapacities, type CapacityRegistry } from '../relations/capacities.js';
import { ROLES } from '../policy/roles.js';
import {
  describeOutcome,
  loadPolicyCases,
  runPolicyCases,
  type PolicyCase,
  type PolicyCaseResult,
  type PolicyCoverage,
} from '../policy/testing.js';
import type { LoadedPolicySet, Policy } from '../policy/types.js';

/**
 * The rule set's checks: what `snitflade check` reports, and what start-up and a reload
 * (load.ts) refuse. Every contract, policy, purpose, policy case and client file, and the
 * references between them, checked at once. Every problem is a LoadError naming the file, the
 * line and what to do; nothing stops at the first problem.
 */

/** Where the rule files are. */
export interface RuleFiles {
  readonly schemas: string;
  /** The policies folder: administrations.yaml, purposes.yaml, *.policy.yaml, *.test.yaml. */
  readonly policies: string;
  /** The client registry; default <policies>/clients.yaml. */
  readonly clients?: string;
  /** The certificate folder the clients' signing-key files are relative to. */
  readonly certs: string;
  /** Endpoints that override the registry's (configuration), as the gateway would use them. */
  readonly endpoints?: Readonly<Record<string, string>>;
  /** Signed policies (configuration `policies`): the approvers, what each policy requires, and whether it is enforced. */
  readonly approvals?: ApprovalSettings;
}

export interface CheckOptions {
  /** Also run the policy test cases; a failing case is an error. Default false. */
  readonly runCases?: boolean;
  /**
   * The signing-key files must be there (start-up and reload). By default a missing certificate
   * folder (a fresh clone, a machine that only checks the files) is a warning that the key files
   * were not checked; a key file missing from a certificate folder that exists is an error either way.
   */
  readonly requireKeys?: boolean;
  /**
   * Start-up and reload: with approvals required, no approver configured is an error, and the
   * approvers' key files must be there (policy/approvals/check.ts). By default those are warnings
   * that the approvals were not checked, as for the signing keys.
   */
  readonly strictApprovals?: boolean;
}

export interface CheckReport {
  /** Problems that stop start-up or a reload. */
  readonly errors: readonly LoadError[];
  /** Things to look at that do not stop anything (e.g. a policy no registered client can use). */
  readonly warnings: readonly LoadError[];
  readonly contracts?: ContractRegistry;
  readonly policies?: LoadedPolicySet;
  /** The client registry with its keys imported, when it loaded. */
  readonly clients?: ClientRegistry;
  /** The capacities a relation may be registered in (policies/capacities.yaml), when they loaded. */
  readonly capacities?: CapacityRegistry;
  readonly cases?: readonly PolicyCase[];
  readonly caseResults?: readonly PolicyCaseResult[];
  readonly coverage?: PolicyCoverage;
  /** The policies' approvals, when `files.approvals` was given and the policies loaded. */
  readonly approvals?: ApprovalsReport;
  /** What was checked, for the summary line. */
  readonly counts: {
    readonly contracts: number;
    readonly policies: number;
    readonly purposes: number;
    readonly cases: number;
    readonly clients: number;
  };
}

const NO_CONTRACTS: ContractRegistry = Object.freeze({ get: () => undefined, list: () => [] });

/** The load errors `err` carries; anything else is not a problem in the files and is thrown on. */
function asLoadErrors(err: unknown): LoadError[] {
  const found = loadErrorsIn(err);
  if (found === undefined) throw err;
  return found;
}

/** One registered client as the cross-checks see it (read from the file, with its place in it). */
export interface ClientEntry {
  readonly id: string;
  readonly administration: string;
  readonly roles: readonly string[];
  readonly endpoint: string | undefined;
  /** Where it stands in the registry file, for messages. */
  readonly pointer: string;
  readonly src?: SourceFile;
}

/**
 * Checks everything and returns every problem found. Never throws for a problem in the files;
 * throws only for a programming mistake.
 *
 * @example
 *   const report = await checkRules({ schemas: 'schemas', policies: 'policies', certs: 'certs' });
 *   if (report.errors.length > 0) process.exitCode = 1;
 */
export async function checkRules(files: RuleFiles, options: CheckOptions = {}): Promise<CheckReport> {
  const errors: LoadError[] = [];
  const warnings: LoadError[] = [];

  let contracts: ContractRegistry | undefined;
  try {
    contracts = loadContracts(files.schemas);
  } catch (err) {
    errors.push(...asLoadErrors(err));
  }

  let policies: LoadedPolicySet | undefined;
  try {
    policies = loadPolicySet({ dir: files.policies, contracts: contracts ?? NO_CONTRACTS });
  } catch (err) {
    // With broken contracts every policy's contract is "unknown": those follow from the contract errors.
    errors.push(
      ...asLoadErrors(err).filter((e) => contracts !== undefined || !(e.path === '/contract' && e.problem.startsWith('unknown contract'))),
    );
  }
  if (contracts === undefined) {
    policies = undefined;
    warnings.push(
      new LoadError(
        displayPath(files.policies),
        '',
        'the policies could not be checked against their contracts (fields, categories, providers); fix the contract errors and run the check again',
      ),
    );
  }

  let capacities: CapacityRegistry | undefined;
  try {
    capacities = loadCapacities(files.policies, policies ? new Set(policies.administrations.keys()) : undefined);
  } catch (err) {
    errors.push(...asLoadErrors(err));
  }

  if (policies && capacities && contracts) {
    const found = crossCheckRelationClauses(policies, capacities, contracts);
    errors.push(...found.errors);
    warnings.push(...found.warnings);
  }

  let cases: PolicyCase[] | undefined;
  try {
    cases = loadPolicyCases(files.policies);
  } catch (err) {
    errors.push(...asLoadErrors(err));
  }
  if (cases && policies) errors.push(...casesAboutUnknownPolicies(cases, policies));

  const clientsFile = files.clients ?? path.join(files.policies, 'clients.yaml');
  const { entries: clients, registry } = await checkClientFile(
    clientsFile,
    files.certs,
    files.endpoints ?? {},
    options.requireKeys === true,
    errors,
    warnings,
  );
  if (clients && contracts && policies) {
    const found = crossCheckClients(clients, contracts, policies);
    errors.push(...found.errors);
    warnings.push(...found.warnings);
  }

  let approvals: ApprovalsReport | undefined;
  if (policies && files.approvals) {
    // The registries a policy depends on are approved as loaded: the digests of the very documents in force.
    const registries: SignedRegistry[] = [];
    const add = (id: SignedRegistryName, file: string, contentDigest: string | undefined): void => {
      if (contentDigest !== undefined) registries.push({ id, file: displayPath(file), contentDigest });
    };
    add('administrations', path.join(files.policies, ADMINISTRATIONS_FILE), policies.administrationsDigest);
    add('capacities', path.join(files.policies, CAPACITIES_FILE), capacities?.contentDigest);
    add('clients', clientsFile, registry?.contentDigest);
    approvals = await checkApprovals(policies.policies, {
      dir: files.policies,
      settings: files.approvals,
      certs: files.certs,
      strict: options.strictApprovals === true,
      registries,
    });
    errors.push(...approvals.errors);
    warnings.push(...approvals.warnings);
    // A decision names the approvals of its policy: the policies in force carry them.
    policies = withApprovals(policies, approvalsInForce(approvals));
  }

  let caseResults: PolicyCaseResult[] | undefined;
  let coverage: PolicyCoverage | undefined;
  if (options.runCases && cases && contracts && policies) {
    ({ results: caseResults, coverage } = await runPolicyCases(policies, contracts, cases));
    errors.push(...failingCases(caseResults, '; run "npx snitflade explain" with the case\'s request to see why'));
  }

  return {
    errors: byFileAndLine(errors),
    warnings: byFileAndLine(warnings),
    ...(contracts ? { contracts } : {}),
    ...(policies ? { policies } : {}),
    ...(registry ? { clients: registry } : {}),
    ...(capacities ? { capacities } : {}),
    ...(cases ? { cases } : {}),
    ...(caseResults ? { caseResults } : {}),
    ...(coverage ? { coverage } : {}),
    ...(approvals ? { approvals } : {}),
    counts: {
      contracts: contracts?.list().length ?? 0,
      policies: policies?.policies.length ?? 0,
      purposes: policies?.purposes.size ?? 0,
      cases: cases?.length ?? 0,
      clients: clients?.length ?? 0,
    },
  };
}

/** A failing policy test case is an error: the lawyers' intent no longer holds. */
function failingCases(results: readonly PolicyCaseResult[], hint = ''): LoadError[] {
  return results
    .filter((r) => !r.ok)
    .map(
      (r) =>
        new LoadError(
          r.file,
          '',
          `policy test case "${r.name}" fails: expected ${describeOutcome(r.expected)}, the policies decide ${describeOutcome(r.actual)}${hint}`,
          r.line,
        ),
    );
}

function casesAboutUnknownPolicies(cases: readonly PolicyCase[], policies: LoadedPolicySet): LoadError[] {
  const ids = new Set(policies.policies.map((p) => p.id));
  const seen = new Set<string>();
  const out: LoadError[] = [];
  for (const c of cases) {
    if (ids.has(c.policy) || seen.has(c.file)) continue;
    seen.add(c.file);
    out.push(
      new LoadError(
        c.file,
        '/policy',
        `the cases are about policy "${c.policy}", which does not exist; rename the file after an existing policy or delete it`,
        1,
      ),
    );
  }
  for (const c of cases) {
    if (c.expect.decision === 'permit' && !ids.has(c.expect.policy)) {
      out.push(new LoadError(c.file, '', `case "${c.name}" expects a permit by policy "${c.expect.policy}", which does not exist`, c.line));
    }
  }
  return out;
}

/** Reads a file as a source with lines (for messages), or the problems reading or parsing it. */
function sourceOf(file: string): SourceFile | LoadError[] {
  const shown = displayPath(file);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    return [new LoadError(shown, '', `cannot read the client registry: ${(err as Error).message}`)];
  }
  return file.endsWith('.json') ? parseJsonSource(shown, text) : parseYamlSource(shown, text);
}

/** A signing-key file's place in the client registry: the loader's errors about key files stand there. */
const KEY_FILE = /^\/clients\/([0-9]+)\/signingKeys\/([0-9]+)\/file$/;

/** A client as written in the registry, once its schema has checked it. */
interface RawClient {
  readonly id: string;
  readonly administration: string;
  readonly roles: string[];
  readonly endpoint?: string;
  readonly signingKeys: readonly { readonly file?: string }[];
}

/**
 * The client registry: its syntax, its schema and its signing keys, through the gateway's own
 * loader (which names the file, line and key path). Without a certificate folder (a fresh clone)
 * and unless `requireKeys`, the key files cannot be checked: that is one warning, not an error.
 */
async function checkClientFile(
  file: string,
  certs: string,
  endpoints: Readonly<Record<string, string>>,
  requireKeys: boolean,
  errors: LoadError[],
  warnings: LoadError[],
): Promise<{ entries?: ClientEntry[]; registry?: ClientRegistry }> {
  const src = sourceOf(file);
  if (Array.isArray(src)) {
    errors.push(...src);
    return {};
  }
  const raw = (src.value as { clients?: RawClient[] } | null)?.clients ?? [];
  let registry: ClientRegistry | undefined;
  let schemaOk = true;
  try {
    registry = await loadClients(file, certs, endpoints);
  } catch (err) {
    const keysUnchecked = !requireKeys && !existsSync(certs);
    let skipped = false;
    for (const e of asLoadErrors(err)) {
      const key = KEY_FILE.exec(e.path);
      const client = key ? raw[Number(key[1])]! : undefined;
      const written = key ? client!.signingKeys[Number(key[2])]!.file! : undefined;
      // A path out of the certificate folder is refused whether or not the folder is there.
      if (keysUnchecked && client && written !== undefined && keyFileIn(certs, written) !== undefined) {
        // Not an error yet; but a path the development keys will never be at is worth naming now.
        if (isDevelopmentKeyFile(written, client.id)) skipped = true;
        else
          warnings.push(
            src.error(
              e.path,
              `signing-key file "${written}" was not checked (there is no certificate folder at ${displayPath(certs)}); check the path in ${path.basename(file)}: in development, "npx snitflade certs" makes a key only at ${developmentKeyFile(client.id)} for this client`,
            ),
          );
        continue;
      }
      if (!/\/signingKeys\//.test(e.path)) schemaOk = false;
      errors.push(e);
    }
    if (skipped) {
      warnings.push(
        new LoadError(
          src.file,
          '',
          `the signing-key files were not checked: there is no certificate folder at ${displayPath(certs)} (in development, "npm start" or "npx snitflade certs" makes it, with a key for each registered client)`,
        ),
      );
    }
  }
  if (!schemaOk) return {};
  const entries = raw.map((c, i) => ({
    id: c.id,
    administration: c.administration,
    roles: c.roles,
    endpoint: endpoints[c.id] ?? c.endpoint,
    pointer: `/clients/${i}`,
    src,
  }));
  return { entries, ...(registry ? { registry } : {}) };
}

/** A file as Contract.file and Policy.file name it (relative to the project root) to read it again. */
function readShown(file: string): string {
  if (path.isAbsolute(file)) return readFileSync(file, 'utf8');
  try {
    return readFileSync(path.join(projectRoot(), file), 'utf8');
  } catch {
    return readFileSync(file, 'utf8');
  }
}

/** An error at a JSON pointer of a contract file, with its line. */
function contractError(file: string, pointer: string, problem: string): LoadError {
  try {
    const src = parseJsonSource(file, readShown(file));
    if (!Array.isArray(src)) return src.error(pointer, problem);
  } catch {
    // the file name alone will do
  }
  return new LoadError(file, pointer, problem);
}

/**
 * The references between the client registry and the rest:
 * - a client's administration is in administrations.yaml and its roles are roles the gateway knows;
 * - every contract's provider system is registered, belongs to the contract's administration and
 *   holds the provider role, and (for queries) has an endpoint the gateway can call;
 * - every policy can be used: some registered client of each administration it names holds one
 *   of its roles (a warning: the policy may be written before the system is registered).
 */
/**
 * The policies' `relation:` clauses against the capacities registry: every capacity named exists
 * and belongs to an administration that could hold it on that side (the receiving
 * administrations for `requester`/`recipient`, the contract's provider for `provider`/`sender`).
 * A receiving administration that can hold none of the capacities named is a warning: the policy
 * can never permit for it.
 */
export function crossCheckRelationClauses(
  policies: LoadedPolicySet,
  capacities: CapacityRegistry,
  contracts: ContractRegistry,
): { errors: LoadError[]; warnings: LoadError[] } {
  const errors: LoadError[] = [];
  const warnings: LoadError[] = [];
  const known = [...capacities.capacities.keys()].join(', ') || '(none: policies/capacities.yaml is missing)';
  for (const p of policies.policies) {
    const clause = p.relation;
    if (clause === undefined) continue;
    const [mine, other] = p.recipient !== undefined ? ['recipient', 'sender'] : ['requester', 'provider'];
    const check = (list: readonly string[], side: string, administrations: readonly string[]): void =>
      list.forEach((id, i) => {
        const capacity = capacities.capacities.get(id);
        if (capacity === undefined)
          errors.push(
            new LoadError(p.file, `/relation/${side}/${i}`, `unknown capacity "${id}"; policies/capacities.yaml lists: ${known}`),
          );
        else if (!administrations.some((a) => capacity.administrations.includes(a)))
          errors.push(
            new LoadError(
              p.file,
              `/relation/${side}/${i}`,
              `capacity "${id}" belongs to ${capacity.administrations.join(', ')}, not to ${administrations.join(', ') || '(no administration)'}: no relation could ever satisfy it`,
            ),
          );
      });
    check(clause.requester, mine, p.requester.administrations);
    for (const a of p.requester.administrations) {
      if (!clause.requester.some((id) => capacities.capacities.get(id)?.administrations.includes(a) === true))
        warnings.push(
          new LoadError(
            p.file,
            `/relation/${mine}`,
            `${a} can hold none of the capacities ${clause.requester.join(', ')}: this policy never permits for ${a}`,
          ),
        );
    }
    const provider = contracts.get(p.contract)?.provider.administration;
    if (Array.isArray(clause.provider) && provider !== undefined) check(clause.provider, other, [provider]);
    if (clause.provider !== undefined && provider !== undefined && p.requester.administrations.includes(provider))
      warnings.push(
        new LoadError(
          p.file,
          `/relation/${other}`,
          `${provider} is both the ${mine} and the ${other} of ${p.contract}: for a request from ${provider}, its own relation satisfies "${other}" too`,
        ),
      );
  }
  return { errors, warnings };
}

export function crossCheckClients(
  clients: readonly ClientEntry[],
  contracts: ContractRegistry,
  policies: LoadedPolicySet,
): { errors: LoadError[]; warnings: LoadError[] } {
  const errors: LoadError[] = [];
  const warnings: LoadError[] = [];
  const at = (c: ClientEntry, sub: string, problem: string): LoadError =>
    c.src ? c.src.error(`${c.pointer}${sub}`, problem) : new LoadError('clients.yaml', `${c.pointer}${sub}`, problem);
  const admins = [...policies.administrations.keys()];
  const roles: readonly string[] = ROLES;
  for (const c of clients) {
    if (!policies.administrations.has(c.administration)) {
      errors.push(
        at(
          c,
          '/administration',
          `client "${c.id}" belongs to administration "${c.administration}", which is not in administrations.yaml (${admins.join(', ')}); add it there or fix the client`,
        ),
      );
    }
    c.roles.forEach((role, i) => {
      if (!roles.includes(role)) errors.push(at(c, `/roles/${i}`, `unknown role "${role}"; the roles are: ${roles.join(', ')}`));
    });
  }
  const byId = new Map(clients.map((c) => [c.id, c]));
  for (const contract of contracts.list()) {
    const system = contract.provider.system;
    const provider = byId.get(system);
    if (!provider) {
      errors.push(
        contractError(
          contract.file,
          '/provider/system',
          `the provider system "${system}" is not registered in clients.yaml; register it (id, administration ${contract.provider.administration}, roles [provider], certificate, signing key${contract.kind === 'query' ? ', endpoint' : ''})`,
        ),
      );
      continue;
    }
    if (provider.administration !== contract.provider.administration) {
      errors.push(
        contractError(
          contract.file,
          '/provider/administration',
          `the provider system "${system}" belongs to ${provider.administration} in clients.yaml, not ${contract.provider.administration}; make them agree`,
        ),
      );
    }
    if (!provider.roles.includes('provider')) {
      errors.push(at(provider, '/roles', `"${system}" provides ${contract.id} but does not hold the role "provider"; add it to its roles`));
    }
    if (contract.kind === 'query' && provider.endpoint === undefined) {
      errors.push(
        at(
          provider,
          '',
          `"${system}" provides ${contract.id} but has no endpoint; add "endpoint: https://..." (where the gateway calls it)`,
        ),
      );
    }
  }
  for (const policy of policies.policies) {
    const notification = contracts.get(policy.contract)?.kind === 'notification';
    for (const admin of policy.requester.administrations) {
      const parties = clients.filter((c) => c.administration === admin && c.roles.some((r) => policy.requester.roles.includes(r)));
      const roles = `${policy.requester.roles.length === 1 ? 'the role' : 'one of the roles'} ${policy.requester.roles.join(', ')}`;
      if (parties.length === 0) {
        warnings.push(
          policyWarning(
            policy,
            `no registered client of ${admin} holds ${roles}, so nobody can use this policy yet; register one in clients.yaml (or remove ${admin} from the policy)`,
          ),
        );
      } else if (notification && !parties.some((c) => c.endpoint !== undefined)) {
        warnings.push(
          policyWarning(
            policy,
            `no registered client of ${admin} holding ${roles} has an endpoint, so the notifications cannot be delivered; add "endpoint: https://..." to the recipient system in clients.yaml`,
          ),
        );
      }
    }
  }
  return { errors, warnings };
}

function policyWarning(policy: Policy, problem: string): LoadError {
  const party = policy.recipient !== undefined ? 'recipient' : 'requester';
  try {
    const src = parseYamlSource(policy.file, readShown(policy.file));
    if (!Array.isArray(src)) return src.error(`/${party}`, problem);
  } catch {
    // the file name alone will do
  }
  return new LoadError(policy.file, `/${party}`, problem);
}

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { InvalidArgumentError } from 'commander';
import { parse } from 'yaml';
import { loadConfig, type GatewayConfig } from '../../config/config.js';
import { loadContracts } from '../../contracts/registry.js';
import type { ContractRegistry } from '../../contracts/types.js';
import { LoadError, LoadErrors } from '../../lib/load-error.js';
import { projectRoot } from '../../lib/root.js';
import { loadPolicySet } from '../../policy/loader.js';
import type { LoadedPolicySet } from '../../policy/types.js';

/**
 * What every command shares: where its output goes (so tests can capture it), where the rule
 * files are, and loading them with messages that say what to do.
 */

/** Where a command writes. process.stdout and process.stderr fit; so does a test's collector. */
export interface CliIO {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
  /** For interactive prompts (contract new); absent or not a TTY means no prompts. */
  readonly stdin?: NodeJS.ReadableStream & { isTTY?: boolean };
}

export const processIO: CliIO = { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin };

/** The options naming the rule files; every command that reads them accepts these. */
export interface DirOptions {
  /** A folder holding schemas/ and policies/ (and certs/), e.g. a fixture or a checkout. */
  readonly dir?: string;
  readonly schemas?: string;
  readonly policies?: string;
  readonly clients?: string;
  readonly certs?: string;
}

export interface RulePaths {
  readonly schemas: string;
  readonly policies: string;
  readonly clients: string;
  readonly certs: string;
}

/** The configuration, from the project root and the environment (SNITFLADE_*). */
export function cliConfig(): GatewayConfig {
  return loadConfig({ root: projectRoot(), env: process.env });
}

/** The rule files: the options, else the configuration's folders (the repository by default). */
export function rulePaths(o: DirOptions, config: Pick<GatewayConfig, 'paths'> = cliConfig()): RulePaths {
  const base = o.dir !== undefined ? path.resolve(o.dir) : undefined;
  const schemas = path.resolve(o.schemas ?? (base ? path.join(base, 'schemas') : config.paths.schemas));
  const policies = path.resolve(o.policies ?? (base ? path.join(base, 'policies') : config.paths.policies));
  return {
    schemas,
    policies,
    clients: path.resolve(o.clients ?? path.join(policies, 'clients.yaml')),
    certs: path.resolve(o.certs ?? (base ? path.join(base, 'certs') : config.paths.certs)),
  };
}

/** Adds --dir, --schemas, --policies, --clients and --certs to a command. */
export function withDirOptions<T extends { option(flags: string, description: string): T }>(command: T): T {
  return command
    .option('--dir <folder>', 'a folder holding schemas/ and policies/ (default: the configured ones)')
    .option('--schemas <folder>', 'the contracts folder')
    .option('--policies <folder>', 'the policies folder (purposes, administrations, policies, policy tests)')
    .option('--clients <file>', 'the client registry (default: <policies>/clients.yaml)')
    .option('--certs <folder>', "the certificate folder the clients' key files are relative to");
}

/** Prints load errors, one per line, with a hint; returns exit code 1. */
export function reportLoadErrors(io: CliIO, err: unknown): number {
  const errors = err instanceof LoadErrors ? err.errors : err instanceof LoadError ? [err] : undefined;
  if (!errors) throw err;
  for (const e of errors) io.stderr.write(`✘ ${e.message}\n`);
  io.stderr.write(`${errors.length} problem(s) in the rule files; "npx snitflade check" lists them all.\n`);
  return 1;
}

/** Contracts and policies, or LoadErrors. */
export function loadContractsAndPolicies(paths: Pick<RulePaths, 'schemas' | 'policies'>): {
  contracts: ContractRegistry;
  policies: LoadedPolicySet;
} {
  const contracts = loadContracts(paths.schemas);
  const policies = loadPolicySet({ dir: paths.policies, contracts });
  return { contracts, policies };
}

/** The registered clients' administration and roles, read without their keys. */
export function readClientRoles(file: string): Map<string, { administration: string; roles: readonly string[] }> {
  let data: unknown;
  try {
    data = parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new LoadError(file, '', `cannot read the client registry: ${(err as Error).message}`);
  }
  const clients = (data as { clients?: unknown } | null)?.clients;
  const out = new Map<string, { administration: string; roles: readonly string[] }>();
  if (!Array.isArray(clients)) return out;
  for (const c of clients as { id?: unknown; administration?: unknown; roles?: unknown }[]) {
    if (typeof c.id !== 'string' || typeof c.administration !== 'string' || !Array.isArray(c.roles)) continue;
    out.set(c.id, { administration: c.administration, roles: c.roles.filter((r): r is string => typeof r === 'string') });
  }
  return out;
}

/** A comma-separated list option, repeatable: "--fields a,b --fields c". */
export function list(value: string, previous: string[] = []): string[] {
  return [
    ...previous,
    ...value
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s.length > 0),
  ];
}

/** A calendar date option (YYYY-MM-DD). */
export function calendarDate(value: string): string {
  if (!/^[0-9]{4}-[0-9]{2}-[0-9]{2}$/.test(value) || Number.isNaN(Date.parse(`${value}T00:00:00Z`))) {
    throw new InvalidArgumentError('must be a date, YYYY-MM-DD');
  }
  return value;
}

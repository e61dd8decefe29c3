import { InvalidArgumentError, Option, type Command } from 'commander';
import type { AssumedRelation } from '../../policy/evaluate.js';
import { explain, formatExplanation } from '../../policy/explain.js';
import type { ConsentStatus } from '../../policy/types.js';
import {
  calendarDate,
  list,
  loadContractsAndPolicies,
  processIO,
  readClientRoles,
  reportLoadErrors,
  rulePaths,
  withDirOptions,
  type CliIO,
  type DirOptions,
} from './shared.js';

export interface ExplainOptions extends DirOptions {
  readonly contract: string;
  readonly purpose: string;
  /** A registered client: its administration and roles. */
  readonly client?: string;
  readonly administration?: string;
  readonly roles?: string[];
  readonly fields?: string[];
  readonly consent?: ConsentStatus;
  /** ADMINISTRATION:CAPACITY[:CASEWORKER], each a relation taken as in force. */
  readonly relation?: AssumedRelation[];
  readonly caseworker?: string;
  /** The citizen's age on the day; default 40 (an adult). */
  readonly subjectAge?: number;
  /** YYYY-MM-DD; default today. */
  readonly at?: string;
  readonly json?: boolean;
}

/** --relation ADMINISTRATION:CAPACITY[:CASEWORKER], repeatable. */
function relationOption(value: string, previous: AssumedRelation[] | undefined): AssumedRelation[] {
  const [administration, capacity, caseworker, ...rest] = value.split(':');
  if (!administration || !capacity || rest.length > 0)
    throw new InvalidArgumentError('give ADMINISTRATION:CAPACITY or ADMINISTRATION:CAPACITY:CASEWORKER, e.g. SOF:social-case');
  return [...(previous ?? []), { administration, capacity, ...(caseworker ? { caseworker } : {}) }];
}

/** --subject-age N: whole years, 0 to 150. */
function ageOption(value: string): number {
  if (!/^[0-9]{1,3}$/.test(value) || Number(value) > 150) throw new InvalidArgumentError('give the age in whole years, 0 to 150');
  return Number(value);
}

const CONSENT: readonly ConsentStatus[] = ['active', 'missing', 'withdrawn', 'expired', 'scope', 'unavailable'];

/**
 * `snitflade explain`: the decision for a request context and why, policy by policy. The caller
 * is a registered client (--client, whose administration and roles are used) or an
 * administration with roles (--administration, --roles).
 */
export async function runExplain(o: ExplainOptions, io: CliIO = processIO): Promise<number> {
  const paths = rulePaths(o);
  let administration = o.administration;
  let roles = o.roles ?? [];
  if (o.client !== undefined) {
    let clients;
    try {
      clients = readClientRoles(paths.clients);
    } catch (err) {
      return reportLoadErrors(io, err);
    }
    const client = clients.get(o.client);
    if (!client) {
      io.stderr.write(`✘ no client "${o.client}" in ${paths.clients}; registered: ${[...clients.keys()].join(', ')}\n`);
      return 2;
    }
    administration ??= client.administration;
    if (o.roles === undefined) roles = [...client.roles];
  }
  if (administration === undefined) {
    io.stderr.write('✘ say who asks: --client <id> (a registered system) or --administration <id> with --roles <role,...>\n');
    return 2;
  }
  let loaded;
  try {
    loaded = loadContractsAndPolicies(paths);
  } catch (err) {
    return reportLoadErrors(io, err);
  }
  const at = o.at !== undefined ? new Date(`${o.at}T12:00:00Z`) : new Date();
  const e = await explain(loaded.policies, loaded.contracts, {
    contract: o.contract,
    administration,
    roles,
    purpose: o.purpose,
    ...(o.fields !== undefined ? { fields: o.fields } : {}),
    at,
    consent: o.consent ?? 'missing',
    relations: o.relation ?? [],
    ...(o.caseworker !== undefined ? { caseworker: o.caseworker } : {}),
    ...(o.subjectAge !== undefined ? { subjectAge: o.subjectAge } : {}),
  });
  io.stdout.write(o.json ? `${JSON.stringify(e, null, 2)}\n` : formatExplanation(e));
  return 0;
}

export function registerExplain(program: Command, io: CliIO = processIO): void {
  withDirOptions(
    program
      .command('explain')
      .description('print the decision for a request context and why, policy by policy')
      .requiredOption('--contract <id>', 'the contract, e.g. social.coordination-summary.v1')
      .requiredOption('--purpose <id>', 'the purpose from the purpose registry')
      .option('--client <id>', 'the calling client system (its administration and roles from the client registry)')
      .option('--administration <id>', 'the requesting administration (instead of, or overriding, --client)')
      .option('--roles <roles>', "the caller's roles, comma-separated (instead of the client's)", list)
      .option('--fields <fields>', "the fields asked for, comma-separated (default: all of the contract's)", list)
      .addOption(new Option('--consent <status>', 'what the consent registry answers').choices(CONSENT).default('missing'))
      .option(
        '--relation <admin:capacity[:caseworker]>',
        'a relation with the citizen taken as in force, e.g. SOF:social-case:sof-cw-0042 (repeat for more)',
        relationOption,
      )
      .option('--caseworker <id>', "the request's caseworker (for a policy with sameCaseworker)")
      .option('--subject-age <years>', "the citizen's age on the day, for a policy's subject clause (default 40, an adult)", ageOption)
      .option('--at <date>', 'the day of the request, YYYY-MM-DD (default today)', calendarDate)
      .option('--json', 'print the explanation as JSON'),
  ).action(async (o: ExplainOptions) => {
    process.exitCode = await runExplain(o, io);
  });
}

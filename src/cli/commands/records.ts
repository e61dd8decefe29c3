import { writeFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import type { GatewayConfig } from '../../config/config.js';
import { checkApprovals } from '../../policy/approvals/check.js';
import { processingRecord, processingRecordMarkdown } from '../../policy/records.js';
import {
  cliConfig,
  loadContractsAndPolicies,
  processIO,
  reportLoadErrors,
  rulePaths,
  withDirOptions,
  type CliIO,
  type DirOptions,
} from './shared.js';

export interface RecordsOptions extends DirOptions {
  readonly format: 'markdown' | 'json';
  readonly out?: string;
  readonly controller?: string;
}

/**
 * `snitflade records`: the GDPR Art. 30 record of processing for the exchanges, generated from
 * the purposes, policies and contracts, as Markdown or JSON, with each policy's approvers and the
 * dates they signed (checked as the gateway checks them; what is wrong goes to stderr).
 */
export async function runRecords(o: RecordsOptions, io: CliIO = processIO, config: GatewayConfig = cliConfig()): Promise<number> {
  const paths = rulePaths(o, config);
  let loaded;
  try {
    loaded = loadContractsAndPolicies(paths);
  } catch (err) {
    return reportLoadErrors(io, err);
  }
  const approvals = await checkApprovals(loaded.policies.policies, {
    dir: paths.policies,
    settings: config.policies,
    certs: paths.certs,
    strict: false,
  });
  for (const e of [...approvals.errors, ...approvals.warnings])
    io.stderr.write(`! ${e.message}
`);
  const record = processingRecord(loaded.policies, loaded.contracts, {
    approvals,
    approvers: config.policies.approvers.map((a) => ({ id: a.id, title: a.title })),
    ...(o.controller !== undefined ? { controller: o.controller } : {}),
  });
  const text = o.format === 'json' ? `${JSON.stringify(record, null, 2)}\n` : processingRecordMarkdown(record);
  if (o.out !== undefined) {
    writeFileSync(o.out, text);
    io.stderr.write(`wrote the record of processing (${record.activities.length} purposes) to ${o.out}\n`);
  } else {
    io.stdout.write(text);
  }
  return 0;
}

export function registerRecords(program: Command, io: CliIO = processIO): void {
  withDirOptions(
    program.command('records').description('generate the GDPR Art. 30 record of processing from purposes, policies and contracts'),
  )
    .addOption(new Option('--format <format>', 'output format').choices(['markdown', 'json']).default('markdown'))
    .option('--out <file>', 'write to a file (default: standard output)')
    .option('--controller <text>', "the controller's name and contact details")
    .action(async (o: RecordsOptions) => {
      process.exitCode = await runRecords(o, io);
    });
}

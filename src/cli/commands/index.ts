import type { Command } from 'commander';
import { registerCheck } from './check.js';
import { registerContractNew } from './contract-new.js';
import { registerExplain } from './explain.js';
import { registerImpact } from './impact.js';
import { registerOpenApi } from './openapi.js';
import { registerPolicyApprovals } from './policy-approvals.js';
import { registerPolicySign } from './policy-sign.js';
import { registerPolicyTest } from './policy-test.js';
import { registerRecords } from './records.js';
import { processIO, type CliIO } from './shared.js';

/**
 * The commands for adding an exchange safely: check, policy test, policy sign and approvals,
 * explain, impact, contract new, openapi and records (docs/ADDING-AN-EXCHANGE.md walks through them).
 */
export function registerExchangeCommands(program: Command, io: CliIO = processIO): void {
  registerCheck(program, io);
  const policy = program.command('policy').description('policy tools: test cases, signatures and approvals');
  registerPolicyTest(policy, io);
  registerPolicySign(policy, io);
  registerPolicyApprovals(policy, io);
  registerExplain(program, io);
  registerImpact(program, io);
  registerContractNew(program, io);
  registerOpenApi(program, io);
  registerRecords(program, io);
}

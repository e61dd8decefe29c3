import type { Command } from 'commander';
import { registerCheck } from './check.js';
import { registerContractNew } from './contract-new.js';
import { registerExplain } from './explain.js';
import { registerImpact } from './impact.js';
import { registerOpenApi } from './openapi.js';
import { registerPolicyTest } from './policy-test.js';
import { registerRecords } from './records.js';
import { processIO, type CliIO } from './shared.js';

/**
 * The commands for adding an exchange safely: check, policy test, explain, impact, contract new,
 * openapi and records (docs/ADDING-AN-EXCHANGE.md walks through them).
 */
export function registerExchangeCommands(program: Command, io: CliIO = processIO): void {
  registerCheck(program, io);
  registerPolicyTest(program, io);
  registerExplain(program, io);
  registerImpact(program, io);
  registerContractNew(program, io);
  registerOpenApi(program, io);
  registerRecords(program, io);
}

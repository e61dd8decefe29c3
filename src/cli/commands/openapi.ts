import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { loadContracts } from '../../contracts/registry.js';
import { gatewayOpenApiDocument } from '../../server/openapi.js';
import { processIO, reportLoadErrors, rulePaths, withDirOptions, type CliIO, type DirOptions } from './shared.js';

export interface OpenApiCommandOptions extends DirOptions {
  /** Write to this file instead of standard output. */
  readonly out?: string;
  readonly server: string;
}

/** `snitflade openapi`: the OpenAPI 3.1 document of the contracts and the gateway's own API (the same as GET /openapi.json). */
export async function runOpenApi(o: OpenApiCommandOptions, io: CliIO = processIO): Promise<number> {
  let contracts;
  try {
    contracts = loadContracts(rulePaths(o).schemas);
  } catch (err) {
    return reportLoadErrors(io, err);
  }
  const text = `${JSON.stringify(gatewayOpenApiDocument(contracts, { serverUrl: o.server }), null, 2)}\n`;
  if (o.out !== undefined) {
    writeFileSync(o.out, text);
    io.stderr.write(`wrote the OpenAPI document of ${contracts.list().length} contracts and the gateway's own API to ${o.out}\n`);
  } else {
    io.stdout.write(text);
  }
  return 0;
}

export function registerOpenApi(program: Command, io: CliIO = processIO): void {
  withDirOptions(
    program
      .command('openapi')
      .description("write the OpenAPI 3.1 document of the contracts and the gateway's own API (as served at GET /openapi.json)"),
  )
    .option('--out <file>', 'write to a file (default: standard output)')
    .option('--server <url>', "the gateway's base URL in the document", 'https://localhost:8443')
    .action(async (o: OpenApiCommandOptions) => {
      process.exitCode = await runOpenApi(o, io);
    });
}

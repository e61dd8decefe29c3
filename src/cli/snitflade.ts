#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { registeredClientIds } from '../auth/client-ids.js';
import { mintRequestToken } from '../auth/mint.js';
import { loadConfig } from '../config/config.js';
import { projectRoot } from '../lib/root.js';
import { ensureDevPki } from '../pki/devpki.js';
import { registerExchangeCommands } from './commands/index.js';
import { registerAuditCommands } from '../audit/cli.js';
import { registerRelationsCommands } from '../relations/cli.js';

/** `snitflade`: the command-line tool for developers and the DPO. */
const program = new Command();
program.name('snitflade').description('Snitflade gateway: development and DPO tools').showHelpAfterError();

function config() {
  return loadConfig({ root: projectRoot(), env: process.env });
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive whole number');
  return n;
}

program
  .command('certs')
  .description('generate the development PKI into the certificate folder (only what is missing)')
  .action(async () => {
    const c = config();
    const systems = registeredClientIds(path.join(c.paths.policies, 'clients.yaml'));
    await ensureDevPki(c.paths.certs, { systems, gatewayId: c.gatewayId, consentService: true });
    process.stdout.write(
      `development certificates are in ${c.paths.certs} (systems: ${systems.join(', ')}; and the simulated consent service)\n`,
    );
  });

program
  .command('token')
  .description('mint a request token for a demo client, signed with its development key; prints the JWT')
  .requiredOption('--path <path>', 'the request path, e.g. /v1/queries/employment.citizen-status.v1')
  .option('--client <id>', 'the calling client system', 'sof-case-system')
  .option('--caseworker <id>', 'the caseworker (sub claim)', 'sof-cw-0042')
  .option('--purpose <id>', 'the purpose from policies/purposes.yaml', 'plan-coordination')
  .option('--case <ref>', 'the case reference', 'SOF-2026-0001')
  .option('--method <method>', 'the HTTP method', 'POST')
  .option('--body <json>', 'the exact request body the token is bound to', '')
  .option('--body-file <file>', 'read the exact request body from a file instead')
  .option('--lifetime <seconds>', 'token lifetime in seconds (at most 300)', positiveInt, 120)
  .action(
    async (o: {
      path: string;
      client: string;
      caseworker: string;
      purpose: string;
      case: string;
      method: string;
      body: string;
      bodyFile?: string;
      lifetime: number;
    }) => {
      const c = config();
      const keyFile = path.join(c.paths.certs, 'clients', o.client, 'signing.key.pem');
      let key: string;
      try {
        key = readFileSync(keyFile, 'utf8');
      } catch {
        throw new InvalidArgumentError(
          `no signing key for client "${o.client}" at ${keyFile}; run "npx snitflade certs" or "npm start" first`,
        );
      }
      const body = o.bodyFile !== undefined ? readFileSync(o.bodyFile) : o.body;
      const token = await mintRequestToken({
        clientId: o.client,
        kid: `${o.client}-1`,
        key,
        audience: c.gatewayId,
        caseworker: o.caseworker,
        purpose: o.purpose,
        caseRef: o.case,
        method: o.method.toUpperCase(),
        path: o.path,
        body,
        lifetimeSeconds: o.lifetime,
      });
      process.stdout.write(`${token}\n`);
    },
  );

registerExchangeCommands(program);
registerAuditCommands(program);
registerRelationsCommands(program);

program
  .command('simulate')
  .description('the simulated jobcentre system sends a notification through the running gateway: sanction-notice or summons-copy')
  .argument('<event>', 'sanction-notice | summons-copy')
  .requiredOption('--cpr <cpr>', 'a citizen of the synthetic population with a jobcentre case')
  .option('--gateway <url>', 'the gateway (default: https://localhost:<configured port>)')
  .option('--idempotency-key <key>', 'sent as Idempotency-Key: the same event sent again with the same key gets the first answer')
  .action(async (event: string, o: { cpr: string; gateway?: string; idempotencyKey?: string }) => {
    const { emitNotification, EVENT_CONTRACTS } = await import('../simulators/emit.js');
    if (!Object.hasOwn(EVENT_CONTRACTS, event))
      throw new InvalidArgumentError(`unknown event "${event}"; use ${Object.keys(EVENT_CONTRACTS).join(' or ')}`);
    const c = config();
    const answer = await emitNotification(event as keyof typeof EVENT_CONTRACTS, o.cpr, {
      gatewayUrl: o.gateway ?? `https://localhost:${c.listen.port}`,
      certsDir: c.paths.certs,
      gatewayId: c.gatewayId,
      ...(o.idempotencyKey !== undefined ? { idempotencyKey: o.idempotencyKey } : {}),
    });
    process.stdout.write(`${answer.status} ${JSON.stringify(answer.body, null, 2)}\n`);
    if (answer.status >= 400) process.exitCode = 1;
  });

program.parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(`snitflade: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});

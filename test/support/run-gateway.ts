/**
 * A gateway in a child process, as `npm start` runs it but without the simulators: for tests
 * that kill it (SIGKILL), stop it (SIGTERM) or restart it. Configuration comes from the
 * environment as for `npm start` (SNITFLADE_CONFIG names a JSON file, SNITFLADE_* variables).
 * Prints one JSON line {"event":"listening","port":N,"pid":N} once it accepts requests.
 *
 *   node --import ./test/support/register-ts.mjs test/support/run-gateway.ts
 *
 * Signals are handled by the same code as `npm start` (src/server/shutdown.ts).
 * SNITFLADE_TEST_HOSTNAME, when set, is the host name the process sees (os.hostname), as in a
 * recreated container.
 */
import { syncBuiltinESMExports } from 'node:module';
import os from 'node:os';
import { loadConfig } from '../../src/config/config.js';
import { createGateway } from '../../src/gateway.js';
import { createLogger } from '../../src/log.js';
import { projectRoot } from '../../src/lib/root.js';
import { listen } from '../../src/server/https.js';
import { handleSignals } from '../../src/server/shutdown.js';

const testHostname = process.env.SNITFLADE_TEST_HOSTNAME;
if (testHostname !== undefined) {
  os.hostname = () => testHostname;
  syncBuiltinESMExports();
}

const config = loadConfig({ root: projectRoot(), env: process.env });
const logger = createLogger({ ...config.log, service: 'snitflade-child' });
const gateway = await createGateway(config, { logger });
const running = await listen(gateway);
handleSignals({ logger, stop: () => running.close(), reload: () => gateway.reload(), hardLimitMs: config.limits.shutdownGraceMs + 15_000 });
process.stdout.write(`${JSON.stringify({ event: 'listening', port: running.port, pid: process.pid })}\n`);

/**
 * A gateway in a process of its own, for tests that must kill it (SIGKILL, no graceful stop):
 *
 *   node --import ./test/support/register-ts.mjs test/support/gateway-process.ts
 *
 * Configuration: SNITFLADE_TEST_OVERRIDES, the JSON of a ConfigInput applied over the defaults
 * (no other environment is read). Prints one line "READY <url>" once it listens.
 */
import { loadConfig, type ConfigInput } from '../../src/config/config.js';
import { createGateway } from '../../src/gateway.js';
import { projectRoot } from '../../src/lib/root.js';
import { createLogger } from '../../src/log.js';
import { listen } from '../../src/server/https.js';

const overrides = JSON.parse(process.env.SNITFLADE_TEST_OVERRIDES ?? '{}') as ConfigInput;
const config = loadConfig({ root: projectRoot(), env: {}, overrides });
const logger = createLogger({ ...config.log, service: `test-process-${config.instanceId}` });
const gateway = await createGateway(config, { logger });
const running = await listen(gateway);
process.stdout.write(`READY ${running.url}\n`);
process.on('SIGTERM', () => {
  void running.close().then(() => process.exit(0));
});

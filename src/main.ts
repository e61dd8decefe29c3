import { reloadRules } from './rules/reload.js';
import { startDemo } from './demo.js';
import { handleSignals } from './server/shutdown.js';

/**
 * `npm start`: development certificates (generated on first start), the simulated provider systems
 * and the gateway with its embedded SQLite store (src/demo.ts). What it started and where goes to
 * stderr, as do start-up failures (one line, no stack trace): stdout carries only the operational
 * log's JSON lines.
 */
async function main(): Promise<void> {
  const demo = await startDemo({ env: process.env });
  process.stderr.write(demo.banner);
  const gateway = demo.running.gateway;
  handleSignals({
    logger: demo.logger,
    stop: () => demo.close(),
    reload: () => reloadRules(gateway, { via: 'SIGHUP' }),
    hardLimitMs: gateway.config.limits.shutdownGraceMs + 15_000,
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`snitflade: cannot start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});

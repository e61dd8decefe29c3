import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import path from 'node:path';
import { defaultConfig, loadConfig, type ConfigInput } from '../src/config/config.js';
import { randomUUID } from 'node:crypto';
import { createGateway, type Gateway } from '../src/gateway.js';
import { registerRelation, type RelationCaller } from '../src/relations/register.js';
import { createLogger } from '../src/log.js';
import { listen } from '../src/server/https.js';
import { eventLoopDelaySinceLast, failStartup, serveParent, usageNow } from './ipc.js';
import { CERTS, PROVIDER, ROOT, employmentCitizens } from './setup.js';

/**
 * Targets (c) and (d): the full gateway, as `npm start` runs it (mutual TLS, request tokens,
 * contract, policy, durable audit before forwarding and before answering, minimisation, an
 * operational log line per request), in a process of its own so that its CPU and memory can be
 * measured and the load generator does not share its event loop.
 *
 * Environment: BENCH_STORE (sqlite | postgres), BENCH_DATA_DIR (sqlite), BENCH_DATABASE_URL
 * (postgres), BENCH_PROVIDER_URL, BENCH_LOG_FILE.
 */
/** Social services and the jobcentre declare that they serve every citizen the benchmark asks about. */
async function registerBenchRelations(gateway: Gateway): Promise<void> {
  if ((await gateway.store.relations.search({ caseRef: 'SOF-BENCH-00000' })).length > 0) return; // a data folder used before
  const rules = gateway.rules();
  const deps = { relations: gateway.store.relations, trail: gateway.trail, pseudonyms: gateway.pseudonyms, rules: () => gateway.rules() };
  const caller = (system: string) => ({
    requestId: randomUUID(),
    client: rules.clients.byId(system)!,
    token: { caseworker: `${system}-bench`, caseRef: null, purpose: 'plan-coordination', digest: 'b'.repeat(43) },
  });
  const from = `${new Date().toISOString().slice(0, 4)}-01-01`;
  const bodies = employmentCitizens().flatMap((cpr, i) => {
    const n = String(i).padStart(5, '0');
    return [
      { system: 'sof-case-system', body: { cpr, capacity: 'social-case', caseRef: `SOF-BENCH-${n}`, from } },
      { system: 'bif-jobcentre-system', body: { cpr, capacity: 'cash-benefit', caseRef: `BIF-BENCH-${n}`, from } },
    ];
  });
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < bodies.length) {
      const { system, body } = bodies[next++]!;
      await registerRelation(deps, caller(system) as unknown as RelationCaller, body);
    }
  };
  await Promise.all(Array.from({ length: 64 }, worker));
}

async function main(): Promise<void> {
  const env = process.env;
  const kind = env.BENCH_STORE === 'postgres' ? 'postgres' : 'sqlite';
  const dataDir = env.BENCH_DATA_DIR ?? path.join(ROOT, 'bench', 'results', 'tmp', 'data');
  const logFile = env.BENCH_LOG_FILE ?? path.join(ROOT, 'bench', 'results', 'tmp', 'logs', `gateway-${kind}.log`);
  // One client system sends all of the benchmark's load to one provider: the per-client admission
  // limits and the per-provider bulkhead (policies of the deployment, not capacities) are raised
  // so that they do not shape the result. (Each only if this version has it, for A/B runs.)
  const defaults = defaultConfig(ROOT) as unknown as { limits: Record<string, unknown> };
  const bulkhead = 'providerConcurrency' in defaults.limits ? { providerConcurrency: 100_000 } : {};
  const limits =
    'ratePerSecond' in defaults.limits ? { limits: { ratePerSecond: 1_000_000, burst: 1_000_000, concurrency: 100_000, ...bulkhead } } : {};
  const config = loadConfig({
    root: ROOT,
    env: {},
    overrides: {
      listen: { host: '127.0.0.1', port: 0 },
      paths: { certs: CERTS, data: dataDir },
      store:
        kind === 'sqlite'
          ? { kind: 'sqlite', file: path.join(dataDir, 'snitflade.db') }
          : { kind: 'postgres', url: env.BENCH_DATABASE_URL! },
      endpoints: { [PROVIDER]: env.BENCH_PROVIDER_URL! },
      log: { level: 'info', console: false, file: logFile },
      // The repository's example policies are unsigned (as in npm start). Only if this version has approvals, for A/B runs.
      ...('policies' in defaults ? { policies: { requireApprovals: false } } : {}),
      ...(limits as ConfigInput),
    },
  });
  const logger = createLogger({ ...config.log, service: `bench-gateway-${kind}` });
  const gateway = await createGateway(config, { logger });
  const running = await listen(gateway);
  // The query measured (social services asking the jobcentre) needs both to serve the citizen
  // (need to know): registered here through the register's own path, each audited, before any load.
  await registerBenchRelations(gateway);

  // Profiling on request (BENCH_PROFILE=1 in bench/load.ts): the measured windows only, not start-up.
  let session: Session | undefined;
  serveParent(
    async (msg) => {
      if (msg.type === 'profile-start') {
        session = new Session();
        session.connect();
        await session.post('Profiler.enable');
        await session.post('Profiler.setSamplingInterval', { interval: 200 });
        await session.post('Profiler.start');
        return {};
      }
      if (msg.type === 'profile-stop' && session) {
        const { profile } = await session.post('Profiler.stop');
        writeFileSync(String(msg.file), JSON.stringify(profile));
        session.disconnect();
        session = undefined;
        return {};
      }
      if (msg.type === 'usage') {
        return {
          usage: usageNow({
            store: gateway.store.stats,
            trail: gateway.trail.stats,
            head: gateway.trail.head.seq,
            eventLoop: eventLoopDelaySinceLast(),
          }),
        };
      }
      throw new Error(`unknown request ${String(msg.type)}`);
    },
    async () => {
      await running.close();
      await new Promise<void>((resolve) => {
        logger.on('finish', () => resolve());
        logger.end();
        setTimeout(resolve, 2000).unref();
      });
    },
  );
  eventLoopDelaySinceLast();
  process.send?.({ type: 'ready', port: running.port });
}

main().catch(failStartup);

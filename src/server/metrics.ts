import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { RevocationList } from '../auth/crl.js';
import type { PipelineObserver } from '../exchange/deps.js';

/**
 * Prometheus metrics. Labels hold only bounded, non-personal values: a registered contract id
 * (or "unknown"), a decision, a stable error code, a registered system id.
 */
export class Metrics implements PipelineObserver {
  readonly registry = new Registry();
  private readonly requests: Counter<'route' | 'contract' | 'outcome' | 'code'>;
  private readonly duration: Histogram<'route'>;
  private readonly providerCalls: Counter<'system' | 'status'>;
  private readonly providerDuration: Histogram<'system'>;
  private readonly auditWrites: Histogram;

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'snitflade_process_' });
    this.requests = new Counter({
      name: 'snitflade_requests_total',
      help: 'Requests by route, contract, outcome (permit/deny/error) and code',
      labelNames: ['route', 'contract', 'outcome', 'code'],
      registers: [this.registry],
    });
    this.duration = new Histogram({
      name: 'snitflade_request_duration_seconds',
      help: 'Request latency at the gateway',
      labelNames: ['route'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [this.registry],
    });
    this.providerCalls = new Counter({
      name: 'snitflade_provider_calls_total',
      help: 'Calls to provider systems by status or error code',
      labelNames: ['system', 'status'],
      registers: [this.registry],
    });
    this.providerDuration = new Histogram({
      name: 'snitflade_provider_duration_seconds',
      help: 'Provider call latency',
      labelNames: ['system'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [this.registry],
    });
    this.auditWrites = new Histogram({
      name: 'snitflade_audit_write_duration_seconds',
      help: 'Time until an audit record is durable',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers: [this.registry],
    });
  }

  request(route: string, contract: string, outcome: string, code: string, seconds: number): void {
    this.requests.inc({ route, contract, outcome, code });
    this.duration.observe({ route }, seconds);
  }

  auditWrite(seconds: number): void {
    this.auditWrites.observe(seconds);
  }

  /**
   * The revocation list's nextUpdate (Unix seconds; absent without a CRL), read at each scrape:
   * alert when it is in the past, as the readiness detail's `revocation.current` says.
   */
  watchRevocations(current: () => RevocationList): void {
    new Gauge({
      name: 'snitflade_crl_next_update_timestamp_seconds',
      help: 'nextUpdate of the certificate revocation list in force (Unix time)',
      registers: [this.registry],
      collect() {
        this.reset();
        const next = current().nextUpdate;
        if (next !== undefined) this.set(Math.floor(next.getTime() / 1000));
      },
    });
  }

  provider(system: string, status: string, seconds: number): void {
    this.providerCalls.inc({ system, status });
    this.providerDuration.observe({ system }, seconds);
  }
}

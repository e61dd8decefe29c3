import type { Client } from '../auth/clients.js';
import type { AuditTrail } from '../audit/trail.js';
import type { Pseudonymizer } from '../audit/pseudonym.js';
import type { AuditWriteObserver } from '../audit/write.js';
import type { ConsentSource } from '../consent/types.js';
import type { RelationStore } from '../relations/types.js';
import type { Rules } from '../rules/types.js';
import type { ReplayCache } from '../store/types.js';
import type { ReplayGuard } from '../auth/replay-guard.js';
import type { UpstreamIdentity } from '../upstream/provider.js';
import type { ProviderSlots } from '../upstream/provider-slots.js';

/** Observations the pipeline reports; implemented by the metrics module. */
export interface PipelineObserver extends AuditWriteObserver {
  provider(system: string, status: string, seconds: number): void;
}

export interface ExchangeDeps {
  /** The rules in force; read once per request so one request sees one consistent set. */
  readonly rules: () => Rules;
  readonly trail: AuditTrail;
  /** A ReplayGuard defers each token's durable claim to the exchange's first audit commit (TokenCheck.replay). */
  readonly replay: ReplayCache | ReplayGuard;
  readonly pseudonyms: Pseudonymizer;
  readonly consent: ConsentSource;
  /** The relations register, for the need-to-know step (relation-check.ts): read on every request that needs it, never cached. */
  readonly relations: Pick<RelationStore, 'active'>;
  readonly upstream: UpstreamIdentity;
  /** The bulkheads between provider systems (limits.providerConcurrency). */
  readonly providerSlots: ProviderSlots;
  readonly tokens: { readonly audience: string; readonly maxLifetimeSeconds: number; readonly clockToleranceSeconds: number };
  readonly observe?: PipelineObserver;
}

/** One incoming exchange request, as the HTTP shell hands it over. */
export interface ExchangeRequest {
  readonly requestId: string;
  readonly contractId: string;
  readonly client: Client;
  readonly authorization: string | undefined;
  readonly method: string;
  readonly path: string;
  readonly body: Uint8Array;
  readonly receivedAt: number; // performance.now() at arrival
  /** The Idempotency-Key header as sent, if any (notifications use it; queries ignore it). */
  readonly idempotencyKey?: string;
}

import type { ClientRegistry } from '../auth/clients.js';
import type { ContractRegistry } from '../contracts/types.js';
import type { PolicySet } from '../policy/types.js';
import type { CapacityRegistry } from '../relations/capacities.js';

/**
 * The rule set: the contracts, policies (with purposes and administrations), the capacities of the
 * relations register and the clients in force.
 * src/rules/ owns its life: loaded and checked as one (load.ts, check.ts), frozen, and swapped
 * whole (in-force.ts, reload.ts).
 */
export interface Rules {
  readonly contracts: ContractRegistry;
  readonly policies: PolicySet;
  readonly clients: ClientRegistry;
  /** policies/capacities.yaml: the capacities a relation in the relations register may name. */
  readonly capacities: CapacityRegistry;
}

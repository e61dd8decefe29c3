import type { Rules } from './types.js';

/**
 * The rule set in force. A request reads it once and keeps that set to its end; a reload swaps
 * in a new, checked and frozen set whole, so no request ever sees half of one and half of another.
 */
export class RulesInForce {
  #current: Rules;

  constructor(initial: Rules) {
    this.#current = RulesInForce.#frozen(initial);
  }

  current(): Rules {
    return this.#current;
  }

  /** Puts `next` in force and returns the set it replaces. */
  swap(next: Rules): Rules {
    const previous = this.#current;
    this.#current = RulesInForce.#frozen(next);
    return previous;
  }

  static #frozen(rules: Rules): Rules {
    if (!Object.isFrozen(rules)) throw new TypeError('RulesInForce: a rule set must be frozen (loadRules) before it is put in force');
    return rules;
  }
}

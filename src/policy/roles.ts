/**
 * The roles a client system can hold (policies/clients.yaml) and a policy can name. A policy
 * naming an unknown role would silently never match, so the loaders refuse it.
 *
 * - caseworker-system: a backend case system acting for a named caseworker
 * - rehabilitation-team: the jobcentre's rehabilitation team (rehabiliteringsteam)
 * - coordinating-caseworker: the citizen's coordinating caseworker across administrations
 * - provider: a system that answers queries or sends notifications for its administration
 * - dpo: the data protection officer's console (audit search, verification, access reports)
 * - operations: operators (reload the rules, the readiness detail, dead letters); no personal data
 */
export const ROLES = ['caseworker-system', 'rehabilitation-team', 'coordinating-caseworker', 'provider', 'dpo', 'operations'] as const;

export type Role = (typeof ROLES)[number];

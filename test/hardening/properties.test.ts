/**
 * Properties (fast-check), over the policy evaluator and minimisation with the real contracts
 * and policies, and over the request body against the running gateway:
 *   - whatever is asked and answered, released fields ⊆ policy ∩ schema ∩ requested;
 *   - a deny never releases anything (no field set; nothing forwarded to the provider);
 *   - no body, JSON or not, produces a 5xx.
 */
import { jest } from '@jest/globals';
import path from 'node:path';
import fc from 'fast-check';
import { loadContracts } from '../../src/contracts/registry.js';
import type { Contract } from '../../src/contracts/types.js';
import { ERRORS } from '../../src/errors.js';
import { minimise } from '../../src/exchange/minimise.js';
import { assumedRelations, decide, otherSide, type AssumedRelation } from '../../src/policy/evaluate.js';
import { loadPolicySet } from '../../src/policy/loader.js';
import type { ConsentEvidence, ConsentStatus } from '../../src/policy/types.js';
import { SIMULATED_CONTRACTS } from '../../src/simulators/contracts.js';
import { population } from '../../src/simulators/population.js';
import { demoRelations } from '../../src/simulators/relations.js';
import { ROOT, startTestEnv, type TestEnv } from '../support/env.js';
import { registerRelation } from '../support/relations.js';
import { STACK_TRACE, clientCreds, evidence, send, tokenWith } from './support.js';

jest.setTimeout(120_000);

const contracts = loadContracts(path.join(ROOT, 'schemas'));
const policies = loadPolicySet({ dir: path.join(ROOT, 'policies'), contracts });
const queryContracts = contracts.list().filter((c) => c.kind === 'query');
const citizens = population();

const administrations = [...new Set(policies.policies.flatMap((p) => p.requester.administrations))];
const roles = [...new Set(policies.policies.flatMap((p) => p.requester.roles))];
const purposes = [...policies.purposes.keys()];
const CONSENT: readonly ConsentStatus[] = ['active', 'missing', 'withdrawn', 'expired', 'scope', 'unavailable'];

/** The simulated provider's real record for a contract (so answers often pass the schema), if there is one. */
function recordFor(contract: Contract, cpr: string): Record<string, unknown> | undefined {
  for (const system of Object.values(SIMULATED_CONTRACTS)) {
    const sim = system[contract.id];
    if (sim) {
      const found = sim.lookup(cpr);
      return found ? { ...(found.record as Record<string, unknown>), ...found.extras } : undefined;
    }
  }
  return undefined;
}

const subset = <T>(xs: readonly T[]): fc.Arbitrary<T[]> => fc.subarray([...xs]);
/** The request's caseworker, and relations the register might hold with the citizen (need to know), some naming that caseworker. */
const CASEWORKER = 'cw-0042';
const RELATIONS: readonly AssumedRelation[] = [
  ...['cash-benefit', 'sickness-benefit', 'rehabilitation-case'].map((capacity) => ({ administration: 'BIF', capacity })),
  ...['social-case', 'housing-support', 'support-contact-person'].map((capacity) => ({ administration: 'SOF', capacity })),
  ...['BIF', 'SOF'].flatMap((administration) => [
    { administration, capacity: 'coordinating-caseworker', caseworker: CASEWORKER },
    { administration, capacity: 'coordinating-caseworker', caseworker: 'cw-0043' },
  ]),
];
const junkName = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.constantFrom('__proto__', 'constructor', 'toString', 'internalNote', 'bankAccount', 'diagnosisCode'),
);

describe('the policy evaluator and minimisation', () => {
  // Requests aimed at a policy (so permits happen), each part sometimes replaced by anything.
  const queryPolicies = policies.policies.filter((p) => contracts.get(p.contract)?.kind === 'query');
  const aimed = fc.constantFrom(...queryPolicies).chain((p) =>
    fc.record({
      contract: fc.oneof(
        { weight: 4, arbitrary: fc.constant(contracts.get(p.contract)!) },
        { weight: 1, arbitrary: fc.constantFrom(...queryContracts) },
      ),
      administration: fc.oneof(
        { weight: 4, arbitrary: fc.constantFrom(...p.requester.administrations) },
        { weight: 1, arbitrary: fc.oneof(fc.constantFrom(...administrations), fc.string({ maxLength: 6 })) },
      ),
      roles: fc.oneof(
        { weight: 4, arbitrary: fc.uniqueArray(fc.constantFrom(...p.requester.roles, ...roles), { minLength: 1, maxLength: 3 }) },
        { weight: 1, arbitrary: fc.uniqueArray(fc.oneof(fc.constantFrom(...roles), fc.string({ maxLength: 8 })), { maxLength: 4 }) },
      ),
      purpose: fc.oneof(
        { weight: 4, arbitrary: fc.constant(p.purpose) },
        { weight: 1, arbitrary: fc.oneof(fc.constantFrom(...purposes), fc.string({ maxLength: 10 })) },
      ),
    }),
  );
  const request = fc
    .record({
      aim: aimed,
      at: fc.date({ min: new Date('2020-01-01T00:00:00Z'), max: new Date('2032-12-31T00:00:00Z'), noInvalidDate: true }),
      consent: fc.oneof(fc.constantFrom(...CONSENT), fc.constant('throws' as const)),
      relations: subset(RELATIONS),
      citizen: fc.integer({ min: 0, max: citizens.length - 1 }),
      extraRequested: fc.uniqueArray(junkName, { maxLength: 3 }),
      extraAnswered: fc.dictionary(junkName, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }),
      drop: fc.array(fc.nat(), { maxLength: 3 }),
      mutate: fc.option(fc.tuple(fc.nat(), fc.jsonValue({ maxDepth: 2 })), { nil: undefined }),
    })
    .map(({ aim, ...rest }) => ({ ...aim, ...rest }))
    .chain((r) => fc.record({ base: fc.constant(r), requested: subset(r.contract.fieldNames) }));

  it('releases only fields in policy ∩ schema ∩ requested, and a deny carries no field set', async () => {
    let permits = 0;
    let released = 0;
    await fc.assert(
      fc.asyncProperty(request, async ({ base: r, requested: known }) => {
        const contract = r.contract;
        const requested = [...new Set([...known, ...r.extraRequested])];
        const decision = await decide(
          policies,
          contracts,
          {
            contract: contract.id,
            administration: r.administration,
            roles: r.roles,
            purpose: r.purpose,
            requestedFields: requested,
            at: r.at,
            ...otherSide(contracts, contract.id),
            caseworker: CASEWORKER,
            subjectAge: 40, // an adult, in the age range of the adult policies
          },
          async (): Promise<ConsentEvidence> => {
            if (r.consent === 'throws') throw new Error('consent source down');
            return { status: r.consent };
          },
          assumedRelations(r.relations),
        );
        if (decision.decision === 'deny') {
          expect(decision.reasons.length).toBeGreaterThan(0);
          expect('fields' in decision).toBe(false);
          return;
        }
        permits++;
        const policy = decision.policy;
        expect(policy.contract).toBe(contract.id);
        expect(policy.purpose).toBe(r.purpose);
        expect(policy.requester.administrations).toContain(r.administration);
        expect(policy.requester.roles.some((role) => r.roles.includes(role))).toBe(true);
        if (policy.consent.required) expect(decision.consent?.status).toBe('active');
        // Need to know: a permit under a relation clause relies on the requester's relation in force.
        if (policy.relation !== undefined)
          expect(
            decision.relations?.some((x) => x.administration === r.administration && policy.relation!.requester.includes(x.capacity)),
          ).toBe(true);
        expect(decision.fields.length).toBeGreaterThan(0);
        for (const f of decision.fields) {
          expect(policy.fields).toContain(f);
          expect(contract.fieldNames).toContain(f);
          expect(requested).toContain(f);
        }

        // The provider's answer: the real record (if any), some fields removed or broken, extras added.
        const record = recordFor(contract, citizens[r.citizen]!.cpr) ?? {};
        const answer: Record<string, unknown> = { ...record };
        const names = Object.keys(answer);
        for (const i of r.drop) if (names.length > 0) delete answer[names[i % names.length]!];
        if (r.mutate && names.length > 0) answer[names[r.mutate[0] % names.length]!] = r.mutate[1];
        for (const [k, v] of Object.entries(r.extraAnswered))
          if (!Object.hasOwn(contract.fields, k))
            Object.defineProperty(answer, k, { value: v, enumerable: true, configurable: true, writable: true });

        const kept = minimise(contract, decision.fields, requested, answer);
        if (!kept.ok) {
          expect('data' in kept).toBe(false);
          return;
        }
        released += kept.released.length;
        expect(Object.keys(kept.data).sort()).toEqual([...kept.released].sort());
        for (const f of kept.released) {
          expect(decision.fields).toContain(f);
          expect(policy.fields).toContain(f);
          expect(contract.fieldNames).toContain(f);
          expect(requested).toContain(f);
          expect(kept.data[f]).toBe(answer[f]);
        }
        expect([...kept.released, ...kept.withheld].sort()).toEqual([...requested].sort());
        for (const f of kept.dropped) expect(Object.hasOwn(kept.data, f)).toBe(false);
      }),
      { numRuns: 1500 },
    );
    // The generators reach permits and releases, so the property is not vacuous.
    expect(permits).toBeGreaterThan(20);
    expect(released).toBeGreaterThan(20);
  });

  it('minimisation keeps nothing outside permitted ∩ requested ∩ schema, for any permitted set and any answer', () => {
    const answer = fc.oneof(
      fc.jsonValue({ maxDepth: 3 }),
      fc.dictionary(fc.oneof(fc.constantFrom(...queryContracts.flatMap((c) => c.fieldNames)), junkName), fc.jsonValue({ maxDepth: 2 }), {
        maxKeys: 8,
      }),
    );
    fc.assert(
      fc.property(
        fc.constantFrom(...queryContracts),
        fc.array(fc.oneof(fc.constantFrom(...queryContracts.flatMap((c) => c.fieldNames)), junkName), { maxLength: 8 }),
        fc.array(fc.oneof(fc.constantFrom(...queryContracts.flatMap((c) => c.fieldNames)), junkName), { maxLength: 8 }),
        answer,
        fc.integer({ min: 0, max: citizens.length - 1 }),
        fc.boolean(),
        (contract, permitted, requested, junk, citizen, real) => {
          const given = real ? (recordFor(contract, citizens[citizen]!.cpr) ?? junk) : junk;
          const kept = minimise(contract, permitted, requested, given);
          if (!kept.ok) return;
          for (const f of Object.keys(kept.data)) {
            expect(permitted).toContain(f);
            expect(requested).toContain(f);
            expect(Object.hasOwn(contract.fields, f)).toBe(true);
          }
          expect(Object.keys(kept.data).sort()).toEqual([...kept.released].sort());
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('the request body against the running gateway', () => {
  let env: TestEnv;
  const STATUS = '/v1/queries/employment.citizen-status.v1';
  const SUMMARY = '/v1/queries/social.coordination-summary.v1';
  const routes = [
    { client: 'sof-case-system', path: STATUS, contract: 'employment.citizen-status.v1' },
    { client: 'bif-jobcentre-system', path: SUMMARY, contract: 'social.coordination-summary.v1' },
    { client: 'sof-case-system', path: SUMMARY, contract: 'social.coordination-summary.v1' },
    { client: 'bif-jobcentre-system', path: STATUS, contract: 'employment.citizen-status.v1' },
  ] as const;

  beforeAll(async () => {
    env = await startTestEnv({
      name: 'hardening-properties',
      overrides: { limits: { ratePerSecond: 100_000, burst: 100_000, concurrency: 1000 } },
    });
    // Need to know: the relations the demo's case systems register for the citizens asked about
    // (the jobcentre's cases, social services' open cases), so some requests are served and
    // others about a citizen one side does not serve are denied.
    const asked = new Set(citizens.slice(0, 200).map((c) => c.cpr));
    for (const r of demoRelations(new Date(), citizens).filter((x) => asked.has(x.body.cpr))) await registerRelation(env, r.system, r.body);
  });
  afterAll(async () => {
    await env?.close();
  });

  const providerRequests = (): number => Object.values(env.simulators).reduce((n, s) => n + s.requests, 0);

  async function post(route: (typeof routes)[number], body: string | Buffer, purpose = 'plan-coordination') {
    return send(env.url, {
      path: route.path,
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${tokenWith(route.client, route.path, body, { claims: { purpose } })}`,
      },
      body,
      creds: clientCreds(route.client),
    });
  }

  function expectNo5xx(res: Awaited<ReturnType<typeof post>>): void {
    expect(res.status).toBeLessThan(500);
    if (res.status >= 400) {
      evidence('properties', 'error-response', res.text);
      expect(String(res.headers['content-type'])).toMatch(/^application\/problem\+json/);
      expect(Object.hasOwn(ERRORS, res.json.code)).toBe(true);
      expect(res.text).not.toMatch(STACK_TRACE);
    }
  }

  it('never answers 5xx to an arbitrary JSON body', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...routes), fc.jsonValue({ maxDepth: 5 }), async (route, value) => {
        expectNo5xx(await post(route, JSON.stringify(value)));
      }),
      { numRuns: 150 },
    );
  });

  it('never answers 5xx to arbitrary bytes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...routes), fc.uint8Array({ maxLength: 512 }), async (route, bytes) => {
        expectNo5xx(await post(route, Buffer.from(bytes)));
      }),
      { numRuns: 100 },
    );
  });

  it('for query-shaped bodies: never 5xx, a 200 releases only policy ∩ schema ∩ requested, a 403 forwards nothing', async () => {
    const fieldNames = [...new Set(routes.map((r) => contracts.get(r.contract)!.fieldNames).flat())];
    const cpr = fc.oneof(
      { weight: 6, arbitrary: fc.constantFrom(...citizens.slice(0, 200).map((c) => c.cpr)) },
      { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
      { weight: 1, arbitrary: fc.stringMatching(/^[0-9]{10}$/) },
    );
    const fields = fc.oneof(
      { weight: 6, arbitrary: fc.uniqueArray(fc.constantFrom(...fieldNames), { minLength: 1, maxLength: 4 }) },
      { weight: 1, arbitrary: fc.uniqueArray(fc.oneof(fc.constantFrom(...fieldNames), junkName), { maxLength: 7 }) },
    );
    const extra = fc.option(fc.dictionary(junkName, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 2 }), { nil: undefined, freq: 6 });
    const purpose = fc.oneof(
      { weight: 6, arbitrary: fc.constant('plan-coordination') },
      { weight: 1, arbitrary: fc.constantFrom(...purposes, 'curiosity') },
    );
    let served = 0;
    let denied = 0;
    const seen: Record<string, number> = {}; // status and code of every answer, shown if the counts below fail
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...routes), cpr, fields, extra, purpose, async (route, c, f, x, p) => {
        const value: Record<string, unknown> = { cpr: c, fields: f };
        if (x)
          for (const [k, v] of Object.entries(x))
            Object.defineProperty(value, k, { value: v, enumerable: true, configurable: true, writable: true });
        const before = providerRequests();
        const res = await post(route, JSON.stringify(value), p);
        expectNo5xx(res);
        const key = `${res.status} ${res.json?.code ?? ''}`;
        seen[key] = (seen[key] ?? 0) + 1;
        if (res.status === 200) {
          served++;
          const policy = env.gateway.rules().policies.policies.find((p) => p.id === res.json.disclosure.policy.id)!;
          const contract = contracts.get(route.contract)!;
          expect(Object.keys(res.json.data).sort()).toEqual([...res.json.disclosure.released].sort());
          for (const name of res.json.disclosure.released) {
            expect(policy.fields).toContain(name);
            expect(contract.fieldNames).toContain(name);
            expect(f).toContain(name);
          }
        } else {
          expect(res.json.data).toBeUndefined();
        }
        if (res.status === 403) {
          denied++;
          expect(providerRequests()).toBe(before);
        }
      }),
      { numRuns: 200 },
    );
    // On failure the answers seen are printed, to tell why none was served (or denied).
    expect({ served: served > 0 ? 'some' : seen, denied: denied > 0 ? 'some' : seen }).toEqual({ served: 'some', denied: 'some' });
  });
});

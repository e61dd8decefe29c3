import { localText } from '../src/lib/local-text.js';
import { createPublicKey, randomBytes, randomUUID, verify as cryptoVerify } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { importPKCS8 } from 'jose';
import { AuditTrail } from '../src/audit/trail.js';
import { GENESIS, recordHash } from '../src/audit/chain.js';
import { newAuditId, recordId } from '../src/audit/id.js';
import { Pseudonymizer } from '../src/audit/pseudonym.js';
import type { AuditEntry, AuditRecord } from '../src/audit/types.js';
import { verifyChain } from '../src/audit/verify.js';
import { loadClients } from '../src/auth/clients.js';
import { mintRequestToken } from '../src/auth/mint.js';
import { verifyRequestToken } from '../src/auth/token.js';
import { loadContracts } from '../src/contracts/registry.js';
import { auditEntry } from '../src/audit/entry.js';
import { checkContract } from '../src/exchange/contract-check.js';
import { minimise } from '../src/exchange/minimise.js';
import { sha256b64url } from '../src/lib/digest.js';
import { assumedRelations, decide } from '../src/policy/evaluate.js';
import { loadPolicySet, policySetFrom } from '../src/policy/loader.js';
import type { Policy, Purpose } from '../src/policy/types.js';
import { SIMULATED_CONTRACTS } from '../src/simulators/contracts.js';
import { postgresBulkLoader, sqliteBulkLoader, type AuditBulkLoader } from '../src/store/bulk-load.js';
import { openStore } from '../src/store/index.js';
import type { ReplayCache, Store } from '../src/store/types.js';
import type { BenchOptions } from './options.js';
import {
  CALLER,
  CERTS,
  CONTRACT,
  FIELDS,
  GATEWAY_ID,
  PROVIDER,
  PURPOSE,
  QUERY_PATH,
  ROOT,
  WORK,
  createScratchDatabase,
  employmentCitizens,
  type ScratchDatabase,
} from './setup.js';
import { round, roundSummary, summarize, timeEach, type Summary } from './stats.js';

/**
 * Micro-benchmarks of the steps of the request path and of the audit trail, each against the
 * target the issue sets. Timings are per call, in microseconds unless the name says ms.
 */

export interface MicroReport {
  readonly token: { readonly verifyRequestTokenUs: Summary; readonly cryptoVerifyUs: Summary; readonly ratio: number };
  readonly schema: { readonly validateRequestUs: Summary; readonly checkContractUs: Summary };
  readonly policy: readonly { readonly policies: number; readonly buildMs: number; readonly decideUs: Summary }[];
  readonly minimise: { readonly us: Summary };
  readonly append: readonly AppendResult[];
  readonly search: readonly SearchResult[];
  readonly verify: readonly VerifyResult[];
  /** The need-to-know read (RelationStore.active), per store; absent in reports of earlier versions. */
  readonly relation?: readonly RelationCheckResult[];
  readonly notes: readonly string[];
}

export interface RelationCheckResult {
  readonly store: 'sqlite' | 'postgres';
  /** Relations in the register when measured (two administrations' for each citizen). */
  readonly relations: number;
  /** One RelationStore.active read: a citizen, two administrations, today (the query path's relation check). */
  readonly activeUs: Summary;
}

export interface AppendResult {
  readonly store: 'sqlite' | 'postgres';
  readonly concurrency: number;
  readonly seconds: number;
  readonly records: number;
  readonly recordsPerSecond: number;
  readonly commits: number;
  readonly meanBatch: number;
  readonly appendLatencyMs: Summary;
}

export interface SearchResult {
  readonly store: 'sqlite' | 'postgres';
  readonly records: number;
  readonly citizens: number;
  /** Seconds spent growing the trail to `records` in this step (both stores loaded together). */
  readonly loadSeconds: number;
  /** Search by one citizen (pseudonym), newest first, one page of at most 100. */
  readonly byCitizenMs: Summary;
  /** The same for the citizen with the most records (1 % of the trail), one page of 100. */
  readonly busiestCitizenMs: Summary;
}

export interface VerifyResult {
  readonly store: 'sqlite' | 'postgres';
  readonly records: number;
  readonly seconds: number;
  readonly recordsPerSecond: number;
  readonly ok: boolean;
}

const noReplay: ReplayCache = { claim: async () => true, prune: async () => 0 };

async function tokenBench(quick: boolean): Promise<MicroReport['token']> {
  const registry = await loadClients(path.join(ROOT, 'policies', 'clients.yaml'), CERTS);
  const client = registry.byId(CALLER)!;
  const key = await importPKCS8(readFileSync(path.join(CERTS, 'clients', CALLER, 'signing.key.pem'), 'utf8'), 'ES256');
  const publicKey = createPublicKey(readFileSync(path.join(CERTS, 'clients', CALLER, 'signing.pub.pem'), 'utf8'));
  const cprs = employmentCitizens();
  const n = quick ? 500 : 2000;
  const items = await Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const body = Buffer.from(JSON.stringify({ cpr: cprs[i % cprs.length], fields: FIELDS }));
      const token = await mintRequestToken({
        clientId: CALLER,
        kid: `${CALLER}-1`,
        key,
        audience: GATEWAY_ID,
        caseworker: 'sof-cw-0042',
        purpose: PURPOSE,
        caseRef: 'SOF-2026-0001',
        method: 'POST',
        path: QUERY_PATH,
        body,
        lifetimeSeconds: 240,
      });
      const [h, p, s] = token.split('.') as [string, string, string];
      return { body, authorization: `Bearer ${token}`, input: Buffer.from(`${h}.${p}`), signature: Buffer.from(s, 'base64url') };
    }),
  );
  const verifyOne = (i: number): Promise<unknown> => {
    const it = items[i % n]!;
    return verifyRequestToken({
      authorization: it.authorization,
      client,
      method: 'POST',
      path: QUERY_PATH,
      body: it.body,
      audience: GATEWAY_ID,
      maxLifetimeSeconds: 300,
      clockToleranceSeconds: 30,
      replay: noReplay,
    });
  };
  const nodeOne = (i: number): boolean => {
    const it = items[i % n]!;
    const ok = cryptoVerify('sha256', it.input, { key: publicKey, dsaEncoding: 'ieee-p1363' }, it.signature);
    if (!ok) throw new Error('crypto.verify refused a good signature');
    return ok;
  };
  await timeEach(1000, verifyOne);
  await timeEach(1000, nodeOne);
  // Interleaved blocks, so that a change in the machine's background load hits both alike.
  const fullSamples: number[] = [];
  const bareSamples: number[] = [];
  const BLOCK = 500;
  for (let b = 0; b < (quick ? 4 : 20); b++) {
    const full = await timeEach(BLOCK, (i) => verifyOne(b * BLOCK + i), true);
    const bare = await timeEach(BLOCK, (i) => nodeOne(b * BLOCK + i), true);
    fullSamples.push(...full);
    bareSamples.push(...bare);
  }
  const full = summarize(fullSamples);
  const bare = summarize(bareSamples);
  return { verifyRequestTokenUs: roundSummary(full), cryptoVerifyUs: roundSummary(bare), ratio: round(full.mean / bare.mean) };
}

async function schemaBench(quick: boolean): Promise<MicroReport['schema']> {
  const contracts = loadContracts(path.join(ROOT, 'schemas'));
  const contract = contracts.get(CONTRACT)!;
  const cprs = employmentCitizens();
  const raw = cprs.map((cpr) => Buffer.from(JSON.stringify({ cpr, fields: FIELDS })));
  const parsed = raw.map((b) => JSON.parse(b.toString('utf8')) as unknown);
  const iterations = quick ? 20_000 : 100_000;
  await timeEach(5000, (i) => contract.validateRequest(parsed[i % parsed.length]));
  const validate = await timeEach(iterations, (i) => {
    if (!contract.validateRequest(parsed[i % parsed.length])) throw new Error('a valid body was refused');
  });
  await timeEach(5000, (i) => checkContract(contracts, CONTRACT, 'query', raw[i % raw.length]!));
  const check = await timeEach(iterations, (i) => checkContract(contracts, CONTRACT, 'query', raw[i % raw.length]!));
  return { validateRequestUs: roundSummary(validate), checkContractUs: roundSummary(check) };
}

/**
 * N policies that all sit on the measured request's index entry (same contract, same
 * administration), so the index cannot skip them: nine older versions of the real policy
 * (disjoint past validity periods, same purpose and role: the evaluator must check each), and
 * the rest spread over synthetic purposes and roles.
 */
function syntheticPolicySet(base: ReturnType<typeof loadPolicySet>, contracts: ReturnType<typeof loadContracts>, total: number) {
  // The real policy the measured request matches; the other real policies are left out so that
  // the set holds exactly `total` policies whatever is in policies/.
  const template = base.policies.find(
    (p) =>
      p.contract === CONTRACT &&
      p.purpose === PURPOSE &&
      p.requester.administrations.includes('SOF') &&
      p.requester.roles.includes('caseworker-system'),
  )!;
  const policies: Policy[] = [template];
  const purposes: Purpose[] = [...base.purposes.values()];
  const add = (p: Partial<Policy> & { id: string }): void => {
    policies.push({
      ...template,
      example: false,
      legalBasis: { ...template.legalBasis, description: localText('Synthetic benchmark policy.') },
      ...p,
      file: `bench/${p.id}.policy.yaml`,
    });
  };
  for (let year = 2010; year < 2019 && policies.length < total; year++) {
    add({ id: `bench-old-${year}`, validity: { from: `${year}-01-01`, to: `${year}-12-31` } });
  }
  const rest = total - policies.length;
  const purposeCount = Math.max(1, Math.ceil(rest / 10));
  for (let k = 0; k < Math.min(purposeCount, rest); k++) {
    purposes.push({
      id: `bench-purpose-${k}`,
      title: { da: `Formål ${k}`, en: `Purpose ${k}` },
      description: localText('Synthetic benchmark purpose.'),
      legalBases: ['Art. 6(1)(e)'],
      retention: 'P5Y',
    });
  }
  for (let i = 0; i < rest; i++) {
    add({
      id: `bench-policy-${i}`,
      purpose: `bench-purpose-${i % purposeCount}`,
      requester: { administrations: ['SOF'], roles: [`bench-role-${Math.floor(i / purposeCount)}`] },
      fields: ['targetGroup', 'incomeSupport'],
    });
  }
  const started = performance.now();
  const set = policySetFrom({ administrations: [...base.administrations.values()], purposes, policies, contracts });
  return { set, buildMs: round(performance.now() - started) };
}

async function policyBench(quick: boolean): Promise<MicroReport['policy']> {
  const contracts = loadContracts(path.join(ROOT, 'schemas'));
  const base = loadPolicySet({ dir: path.join(ROOT, 'policies'), contracts });
  const out: { policies: number; buildMs: number; decideUs: Summary }[] = [];
  const request = {
    contract: CONTRACT,
    administration: 'SOF',
    roles: ['caseworker-system'],
    purpose: PURPOSE,
    requestedFields: [...FIELDS],
    at: new Date(),
    provider: 'BIF',
    caseworker: 'sof-cw-0042',
    subjectAge: 40,
  };
  const consent = async () => ({ status: 'active' as const });
  // The policy asked requires a shared citizen: the relations as the register would answer them (the read is measured apart).
  const relations = assumedRelations([
    { administration: 'SOF', capacity: 'social-case' },
    { administration: 'BIF', capacity: 'cash-benefit' },
  ]);
  for (const total of [10, 1000, 10_000]) {
    const { set, buildMs } = syntheticPolicySet(base, contracts, total);
    if (set.policies.length !== total) throw new Error(`policy set has ${set.policies.length} policies, wanted ${total}`);
    const once = await decide(set, contracts, request, consent, relations);
    if (once.decision !== 'permit') throw new Error('the benchmark request should be permitted');
    await timeEach(5000, () => decide(set, contracts, request, consent, relations));
    const decideUs = await timeEach(quick ? 20_000 : 100_000, () => decide(set, contracts, request, consent, relations));
    out.push({ policies: total, buildMs, decideUs: roundSummary(decideUs) });
  }
  return out;
}

async function minimiseBench(quick: boolean): Promise<MicroReport['minimise']> {
  const contracts = loadContracts(path.join(ROOT, 'schemas'));
  const contract = contracts.get(CONTRACT)!;
  const simulated = SIMULATED_CONTRACTS[PROVIDER]![CONTRACT]!;
  const permitted = contract.fieldNames.filter((f) => (FIELDS as readonly string[]).includes(f));
  // The provider's answers as the gateway parses them: requested fields and any extras.
  const answers = employmentCitizens().map((cpr) => {
    const found = simulated.lookup(cpr)!;
    const record = found.record as Record<string, unknown>;
    const data: Record<string, unknown> = {};
    for (const f of permitted) data[f] = record[f];
    return JSON.parse(JSON.stringify({ ...data, ...found.extras })) as unknown;
  });
  await timeEach(5000, (i) => minimise(contract, permitted, FIELDS, answers[i % answers.length]));
  const us = await timeEach(quick ? 20_000 : 100_000, (i) => {
    if (!minimise(contract, permitted, FIELDS, answers[i % answers.length]).ok) throw new Error('a valid answer was refused');
  });
  return { us: roundSummary(us) };
}

// ---------------------------------------------------------------------------------------------
// The audit trail

const POLICY_SET_DIGEST = 'a'.repeat(64);
const LEGAL_BASIS =
  "Art. 6(1)(e); Retssikkerhedsloven § 11 c; Forvaltningsloven § 28 (example: to be confirmed by the municipality's lawyers)";

/** A decision record as the query pipeline writes it, for a citizen's pseudonym. */
function decisionEntry(subject: string, n: number): AuditEntry {
  const serial = String(n % 10_000).padStart(4, '0');
  return auditEntry('decision', {
    auditId: newAuditId(),
    requestId: randomUUID(),
    caller: { system: CALLER, administration: 'SOF' },
    contract: CONTRACT,
    caseworker: `sof-cw-${serial}`,
    caseRef: `SOF-2026-${serial}`,
    purpose: PURPOSE,
    subject,
    policy: { id: 'sof-reads-employment-status', version: 1 },
    policySet: POLICY_SET_DIGEST,
    legalBasis: LEGAL_BASIS,
    decision: 'permit',
    tokenDigest: sha256b64url(serial + subject),
    fields: { requested: [...FIELDS], released: [...FIELDS] },
  });
}

function releaseEntry(decision: AuditEntry): AuditEntry {
  return auditEntry('release', {
    ...decision,
    fields: { requested: [...FIELDS], released: [...FIELDS] },
    upstream: { status: 200, latencyMs: 1.234 },
    responseDigest: sha256b64url(decision.auditId),
    status: 200,
    latencyMs: 4.321,
  });
}

/** Synthetic citizens' pseudonyms: CPR numbers of the form DDMMYY99NN (never real), keyed with a bench-only key. */
function pseudonymsOf(count: number): string[] {
  const key = { id: 'kbench', secret: randomBytes(32) };
  const p = new Pseudonymizer({ keys: [key], current: key.id });
  const out: string[] = [];
  const day = 86_400_000;
  for (let d = 0; out.length < count; d++) {
    const date = new Date(Date.UTC(1950, 0, 1) + d * day);
    const ddmmyy = `${String(date.getUTCDate()).padStart(2, '0')}${String(date.getUTCMonth() + 1).padStart(2, '0')}${String(date.getUTCFullYear() % 100).padStart(2, '0')}`;
    for (let s = 0; s < 100 && out.length < count; s++) out.push(p.pseudonym(`${ddmmyy}99${String(s).padStart(2, '0')}`));
  }
  return out;
}

interface MicroStore {
  readonly kind: 'sqlite' | 'postgres';
  readonly store: Store;
  /** A bulk loader on the same database (its own connection). */
  loader(): Promise<AuditBulkLoader>;
  close(): Promise<void>;
}

async function openMicroStore(kind: 'sqlite' | 'postgres', label: string, options: BenchOptions): Promise<MicroStore> {
  if (kind === 'sqlite') {
    const file = path.join(WORK, `micro-${label}-${process.pid}.db`);
    const store = await openStore({ kind: 'sqlite', file });
    return {
      kind,
      store,
      loader: async () => sqliteBulkLoader(file),
      async close() {
        await store.close();
        for (const suffix of ['', '-wal', '-shm']) rmSync(file + suffix, { force: true });
      },
    };
  }
  const db: ScratchDatabase = await createScratchDatabase(options.postgresUrl, label);
  const store = await openStore({ kind: 'postgres', url: db.url });
  return {
    kind,
    store,
    loader: () => postgresBulkLoader(db.url),
    async close() {
      await store.close();
      await db.drop();
    },
  };
}

/**
 * The need-to-know read a query with a relation clause costs: RelationStore.active for one
 * citizen and two administrations, on a register holding `citizens` × 2 relations, read as the
 * query path reads it (one call, awaited).
 */
async function relationBench(kind: 'sqlite' | 'postgres', options: BenchOptions): Promise<RelationCheckResult> {
  const micro = await openMicroStore(kind, 'relations', options);
  try {
    const citizens = options.quick ? 2_000 : 20_000;
    const subjects = pseudonymsOf(citizens);
    const now = new Date().toISOString();
    const actor = { system: 'bench', administration: 'SOF', caseworker: null };
    let next = 0;
    const write = async (): Promise<void> => {
      while (next < citizens * 2) {
        const i = next++;
        const administration = i % 2 === 0 ? 'SOF' : 'BIF';
        await micro.store.relations.save(
          {
            id: randomUUID(),
            subject: subjects[i >> 1]!,
            administration,
            capacity: administration === 'SOF' ? 'social-case' : 'cash-benefit',
            caseRef: `${administration}-BENCH-${i}`,
            caseworker: null,
            from: '2026-01-01',
            to: null,
            endReason: null,
            version: 1,
            registeredAt: now,
            updatedAt: now,
          },
          { type: 'registered', at: now, actor: { ...actor, administration }, auditId: randomUUID(), changed: [], reason: null },
          0,
        );
      }
    };
    await Promise.all(Array.from({ length: 16 }, write));
    const day = now.slice(0, 10);
    const reads = options.quick ? 500 : 5_000;
    const activeUs = await timeEach(reads, (i) => micro.store.relations.active([subjects[(i * 7919) % citizens]!], ['SOF', 'BIF'], day));
    return { store: kind, relations: citizens * 2, activeUs: roundSummary(activeUs) };
  } finally {
    await micro.close();
  }
}

/** Durable appends through the AuditTrail (group commit), from `concurrency` writers at once. */
async function appendBench(kind: 'sqlite' | 'postgres', options: BenchOptions, concurrency: number): Promise<AppendResult> {
  const s = await openMicroStore(kind, 'append', options);
  try {
    const trail = await AuditTrail.open(s.store, { chain: 'bench-append' });
    const subjects = pseudonymsOf(1000);
    const entries = subjects.map((subject, i) => decisionEntry(subject, i));
    // Warm-up: a second of appends.
    const run = async (seconds: number, samples: number[] | undefined): Promise<number> => {
      const deadline = performance.now() + seconds * 1000;
      let n = 0;
      await Promise.all(
        Array.from({ length: concurrency }, async (_, w) => {
          let i = w;
          while (performance.now() < deadline) {
            const t0 = performance.now();
            // Each request has an audit id of its own, as in the gateway.
            await trail.append({ ...entries[i % entries.length]!, auditId: newAuditId() });
            samples?.push(performance.now() - t0);
            i += concurrency;
            n += 1;
          }
        }),
      );
      return n;
    };
    await run(1, undefined);
    const commitsBefore = s.store.stats.commits;
    const samples: number[] = [];
    const started = performance.now();
    const records = await run(options.appendSeconds, samples);
    const seconds = (performance.now() - started) / 1000;
    const commits = s.store.stats.commits - commitsBefore;
    await trail.close();
    return {
      store: kind,
      concurrency,
      seconds: round(seconds),
      records,
      recordsPerSecond: Math.round(records / seconds),
      commits,
      meanBatch: round(records / Math.max(1, commits)),
      appendLatencyMs: roundSummary(summarize(samples)),
    };
  } finally {
    await s.close();
  }
}

/** Makes `count` well-formed records continuing a chain: real pairs of decision and release records, hashed and linked. */
class ChainWriter {
  seq = 0;
  hash = GENESIS;
  readonly #chain: string;
  readonly #subjects: readonly string[];
  readonly #busiest: string;
  readonly #t0: number;
  readonly #stepMs: number;
  readonly #hashes = new Map<number, string>();
  readonly #keep: ReadonlySet<number>;

  constructor(chain: string, subjects: readonly string[], total: number, keepHashAt: readonly number[]) {
    this.#chain = chain;
    this.#subjects = subjects;
    this.#busiest = subjects[0]!;
    // Spread over the last two years, in order.
    this.#stepMs = (2 * 365 * 86_400_000) / total;
    this.#t0 = Date.now() - 2 * 365 * 86_400_000;
    this.#keep = new Set(keepHashAt);
  }

  hashAt(seq: number): string | undefined {
    return seq === 0 ? GENESIS : this.#hashes.get(seq);
  }

  #pending: AuditEntry | undefined;

  batch(count: number): AuditRecord[] {
    const out: AuditRecord[] = [];
    for (let i = 0; i < count; i++) {
      let entry: AuditEntry;
      if (this.#pending) {
        entry = this.#pending;
        this.#pending = undefined;
      } else {
        const n = this.seq + 1;
        // 1 % of all records belong to one citizen (the "busiest" DPO search); the rest spread evenly.
        // A fixed stride through the citizens: each gets a record in turn, spread over time.
        const k = (n - 1) / 2;
        const subject = n % 100 === 1 ? this.#busiest : this.#subjects[1 + ((k * 7919) % (this.#subjects.length - 1))]!;
        entry = decisionEntry(subject, n);
        this.#pending = releaseEntry(entry);
      }
      this.seq += 1;
      const ms = this.#t0 + this.seq * this.#stepMs;
      const unhashed = {
        ...entry,
        id: recordId(Math.floor(ms)),
        chain: this.#chain,
        seq: this.seq,
        time: new Date(ms).toISOString(),
        prevHash: this.hash,
      };
      this.hash = recordHash(this.hash, unhashed);
      if (this.#keep.has(this.seq)) this.#hashes.set(this.seq, this.hash);
      out.push({ ...unhashed, hash: this.hash });
    }
    return out;
  }
}

async function searchOnce(store: Store, subject: string): Promise<number> {
  const t0 = performance.now();
  const page = await store.audit.search({ subject, limit: 100 });
  const ms = performance.now() - t0;
  if (page.records.length === 0) throw new Error('a citizen with records was not found');
  return ms;
}

/**
 * Grows one chain in every store to each size in `steps` (bulk-loaded in transactions of 5,000
 * well-formed, hash-chained records through src/store/bulk-load.ts, the stores loaded side by
 * side), and after each step times
 * searches by citizen; at the end, times verifyChain over the last `verifyRecords` records.
 */
async function trailBench(
  stores: readonly MicroStore[],
  steps: readonly number[],
  options: BenchOptions,
  log: (l: string) => void,
): Promise<{ search: SearchResult[]; verify: VerifyResult[] }> {
  const total = steps[steps.length - 1]!;
  const citizens = Math.max(1000, Math.floor(steps[0]! / 10));
  const subjects = pseudonymsOf(citizens);
  const verifyFrom = Math.max(0, total - options.verifyRecords);
  const writer = new ChainWriter('bench-gw1', subjects, total, [verifyFrom]);
  const BATCH = 5000;
  const search: SearchResult[] = [];
  const queries = options.quick ? 100 : 300;
  let lastReport = performance.now();
  const loaders = await Promise.all(stores.map((s) => s.loader()));
  try {
    for (const step of steps) {
      const started = performance.now();
      let records = writer.batch(Math.min(BATCH, step - writer.seq));
      while (records.length > 0) {
        // PostgreSQL works in its own process while SQLite (synchronous) loads this batch and
        // the next batch is made in this one.
        const loading = Promise.all(loaders.map((l) => l.load(records)));
        const next = writer.batch(Math.min(BATCH, step - writer.seq));
        await loading;
        records = next;
        if (performance.now() - lastReport > 15_000) {
          lastReport = performance.now();
          log(
            `    loaded ${writer.seq.toLocaleString('en')} of ${step.toLocaleString('en')} records (${Math.round(writer.seq / ((performance.now() - started) / 1000) || 0)}/s this step)`,
          );
        }
      }
      const loadSeconds = round((performance.now() - started) / 1000);
      for (const s of stores) {
        for (let i = 0; i < 20; i++) await searchOnce(s.store, subjects[1 + i]!);
        const by: number[] = [];
        for (let i = 0; i < queries; i++) by.push(await searchOnce(s.store, subjects[1 + ((i * 7919) % (subjects.length - 1))]!));
        const busiest: number[] = [];
        for (let i = 0; i < Math.min(50, queries); i++) busiest.push(await searchOnce(s.store, subjects[0]!));
        search.push({
          store: s.kind,
          records: step,
          citizens,
          loadSeconds,
          byCitizenMs: roundSummary(summarize(by)),
          busiestCitizenMs: roundSummary(summarize(busiest)),
        });
        log(
          `    ${s.kind} at ${step.toLocaleString('en')} records: search by citizen p50 ${round(summarize(by).p50)} ms, p99 ${round(summarize(by).p99)} ms (loaded in ${loadSeconds} s)`,
        );
      }
    }
  } finally {
    for (const l of loaders) await l.close();
  }
  const verify: VerifyResult[] = [];
  for (const s of stores) {
    const anchorHash = writer.hashAt(verifyFrom);
    const started = performance.now();
    const result = await verifyChain(
      s.store,
      'bench-gw1',
      verifyFrom > 0 && anchorHash !== undefined ? { anchor: { seq: verifyFrom, hash: anchorHash }, pageSize: 5000 } : { pageSize: 5000 },
    );
    const seconds = (performance.now() - started) / 1000;
    verify.push({
      store: s.kind,
      records: result.checked,
      seconds: round(seconds),
      recordsPerSecond: Math.round(result.checked / seconds),
      ok: result.ok,
    });
    log(
      `    ${s.kind}: verified ${result.checked.toLocaleString('en')} records in ${round(seconds)} s (${Math.round(result.checked / seconds)}/s)${result.ok ? '' : ` PROBLEM: ${result.problem?.kind}`}`,
    );
  }
  return { search, verify };
}

export async function runMicro(options: BenchOptions, log: (line: string) => void): Promise<MicroReport> {
  const notes: string[] = [];
  log('  token verification');
  const token = await tokenBench(options.quick);
  log(
    `    verifyRequestToken (no replay claim) mean ${token.verifyRequestTokenUs.mean} µs; crypto.verify ES256 mean ${token.cryptoVerifyUs.mean} µs; ratio ${token.ratio}`,
  );
  log('  schema validation');
  const schema = await schemaBench(options.quick);
  log(
    `    validateRequest p50 ${schema.validateRequestUs.p50} µs, p99 ${schema.validateRequestUs.p99} µs; checkContract (decode, strict parse, validate) p50 ${schema.checkContractUs.p50} µs`,
  );
  log('  policy evaluation');
  const policy = await policyBench(options.quick);
  for (const p of policy)
    log(`    ${p.policies} policies: decide p50 ${p.decideUs.p50} µs, p99 ${p.decideUs.p99} µs (set built in ${p.buildMs} ms)`);
  log('  minimisation');
  const min = await minimiseBench(options.quick);
  log(`    minimise p50 ${min.us.p50} µs, p99 ${min.us.p99} µs`);

  const kinds: ('sqlite' | 'postgres')[] = options.postgres ? ['sqlite', 'postgres'] : ['sqlite'];
  const append: AppendResult[] = [];
  log('  durable audit append (group commit)');
  for (const kind of kinds) {
    for (const concurrency of [64, 256]) {
      const r = await appendBench(kind, options, concurrency);
      append.push(r);
      log(
        `    ${kind}, ${concurrency} writers: ${r.recordsPerSecond} records/s, ${r.meanBatch} records per commit, append p99 ${r.appendLatencyMs.p99} ms`,
      );
    }
  }

  const relation: RelationCheckResult[] = [];
  log('  the need-to-know read (relations register)');
  for (const kind of kinds) {
    const r = await relationBench(kind, options);
    relation.push(r);
    log(`    ${kind}, ${r.relations.toLocaleString('en')} relations: active() p50 ${r.activeUs.p50} µs, p99 ${r.activeUs.p99} µs`);
  }

  log(
    `  audit search and verification (${options.searchRecords.toLocaleString('en')} records${options.search10m ? ', then 10,000,000' : ''})`,
  );
  const stores: MicroStore[] = [];
  let trail: { search: SearchResult[]; verify: VerifyResult[] };
  try {
    for (const kind of kinds) stores.push(await openMicroStore(kind, 'search', options));
    const steps = [options.searchRecords];
    if (options.search10m && options.searchRecords < 10_000_000) steps.push(10_000_000);
    else if (!options.search10m)
      notes.push(
        'The 10,000,000-record search step is optional (--search-10m): loading 10 M records into both stores takes 35 minutes or more here (about 4,500 records/s at 1 M, slowing as the PostgreSQL indexes outgrow its buffer cache), beyond the 15-minute budget.',
      );
    trail = await trailBench(stores, steps, options, log);
  } finally {
    for (const s of stores) await s.close().catch(() => undefined);
  }
  return { token, schema, policy, minimise: min, append, search: trail.search, verify: trail.verify, relation, notes };
}

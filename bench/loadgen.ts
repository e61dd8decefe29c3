import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { importPKCS8, type CryptoKey } from 'jose';
import { mintRequestToken } from '../src/auth/mint.js';
import { signGatewayToken, type UpstreamIdentity } from '../src/upstream/provider.js';
import { failStartup, serveParent } from './ipc.js';
import { CALLER, CERTS, FIELDS, GATEWAY_ID, POLICY, PROVIDER, PURPOSE, employmentCitizens, tlsFiles } from './setup.js';
import { roundSummary, summarize, type Summary } from './stats.js';

/**
 * The load generator, a process of its own. Every request carries its own freshly signed token,
 * minted before the timed window (tokens are bound to body and path, and a jti is good once),
 * for a citizen drawn from the synthetic population; connections are kept alive.
 *
 * Open loop: requests are sent at fixed intended times (start + i / rate) whatever the target
 * does, and latency runs from the intended send time, not from when the request actually left
 * (coordinated omission corrected, as wrk2 and k6 do): a stalled target is charged for the
 * requests it kept waiting. Closed loop: `concurrency` requests in flight, each sent when the
 * previous one came back, for the maximum throughput.
 */

export interface LoadJob {
  readonly target: string;
  readonly host: string;
  readonly port: number;
  readonly path: string;
  /** Whose client certificate the connection presents. */
  readonly cert: 'caller' | 'gateway';
  /** 'client': the caller's request token for the gateway; 'provider': the gateway's token for the provider. */
  readonly tokens: 'client' | 'provider';
  readonly mode: 'open' | 'closed';
  readonly rate: number;
  readonly concurrency: number;
  readonly warmupSeconds: number;
  readonly durationSeconds: number;
  readonly connections: number;
  /** Closed loop: tokens minted per second of window (the window ends early if they run out). */
  readonly tokensPerSecond: number;
  readonly timeoutMs: number;
}

export interface LoadResult {
  readonly target: string;
  readonly mode: 'open' | 'closed';
  readonly rate: number | null;
  readonly concurrency: number | null;
  /** Measured window, seconds (open loop: first intended send to last answer). */
  readonly windowSeconds: number;
  readonly sent: number;
  readonly ok: number;
  readonly errors: number;
  readonly statuses: Readonly<Record<string, number>>;
  readonly errorSamples: readonly string[];
  /** Successful answers per second in the window. */
  readonly throughput: number;
  /** Latency of successful requests, ms (open loop: from the intended send time). */
  readonly latencyMs: Summary;
  readonly warmup: { readonly sent: number; readonly ok: number; readonly errors: number };
  readonly mintedTokens: number;
  readonly mintSeconds: number;
  readonly tokensExhausted: boolean;
  /** Answers whose body was checked (a few per window) and found as expected. */
  readonly checked: number;
}

interface Prepared {
  readonly body: Buffer;
  readonly authorization: string;
}

const citizens = employmentCitizens();
let draw = 0x2545f491;
/** xorshift32: a reproducible draw from the population. */
function nextCitizen(): string {
  draw ^= draw << 13;
  draw ^= draw >>> 17;
  draw ^= draw << 5;
  return citizens[(draw >>> 0) % citizens.length]!;
}

let callerKey: CryptoKey | undefined;
let upstreamIdentity: UpstreamIdentity | undefined;

async function keys(): Promise<void> {
  callerKey ??= await importPKCS8(readFileSync(path.join(CERTS, 'clients', CALLER, 'signing.key.pem'), 'utf8'), 'ES256');
  upstreamIdentity ??= {
    gatewayId: GATEWAY_ID,
    signingKey: await importPKCS8(readFileSync(path.join(CERTS, 'gateway', 'signing.key.pem'), 'utf8'), 'ES256'),
    agent: new https.Agent(), // not used: the identity only signs here
    timeoutMs: 5000,
    maxResponseBytes: 1 << 20,
  };
}

let caseSerial = 0;

async function mintOne(job: LoadJob): Promise<Prepared> {
  const cpr = nextCitizen();
  const body = JSON.stringify({ cpr, fields: FIELDS });
  let token: string;
  if (job.tokens === 'client') {
    const n = String(caseSerial++ % 10_000).padStart(4, '0');
    token = await mintRequestToken({
      clientId: CALLER,
      kid: `${CALLER}-1`,
      key: callerKey!,
      audience: GATEWAY_ID,
      caseworker: `sof-cw-${n}`,
      purpose: PURPOSE,
      caseRef: `SOF-2026-${n}`,
      method: 'POST',
      path: job.path,
      body,
      lifetimeSeconds: 240,
    });
  } else {
    token = await signGatewayToken(upstreamIdentity!, {
      audience: PROVIDER,
      purpose: PURPOSE,
      policy: POLICY,
      auditId: randomUUID(),
      path: job.path,
      body,
    });
  }
  return { body: Buffer.from(body), authorization: `Bearer ${token}` };
}

/** Mints `count` requests, many signatures in flight at once (WebCrypto signs on the thread pool). */
async function mint(job: LoadJob, count: number): Promise<Prepared[]> {
  await keys();
  const out: Prepared[] = [];
  const CHUNK = 256;
  for (let i = 0; i < count; i += CHUNK) {
    const n = Math.min(CHUNK, count - i);
    out.push(...(await Promise.all(Array.from({ length: n }, () => mintOne(job)))));
  }
  return out;
}

const agents = new Map<string, https.Agent>();

function agentFor(job: LoadJob): https.Agent {
  const key = `${job.host}:${job.port}:${job.cert}:${job.connections}`;
  let agent = agents.get(key);
  if (!agent) {
    const files = tlsFiles(job.cert === 'gateway' ? GATEWAY_ID : CALLER);
    agent = new https.Agent({
      keepAlive: true,
      maxSockets: job.connections,
      maxFreeSockets: job.connections,
      cert: readFileSync(files.cert),
      key: readFileSync(files.key),
      ca: readFileSync(files.ca),
      servername: 'localhost',
    });
    agents.set(key, agent);
  }
  return agent;
}

interface Outcome {
  readonly status: number; // 0 for a transport error or timeout
  readonly error?: string;
  readonly body?: string;
}

/** Sends one prepared request; calls back exactly once. Keeps the body only when asked (or on failure). */
function send(job: LoadJob, agent: https.Agent, item: Prepared, keepBody: boolean, done: (o: Outcome) => void): void {
  let finished = false;
  const finish = (o: Outcome): void => {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    done(o);
  };
  const req = https.request({
    host: job.host,
    port: job.port,
    method: 'POST',
    path: job.path,
    agent,
    headers: { 'content-type': 'application/json', 'content-length': item.body.length, authorization: item.authorization },
  });
  const timer = setTimeout(() => {
    finish({ status: 0, error: 'timeout' });
    req.destroy();
  }, job.timeoutMs);
  req.on('error', (err) => finish({ status: 0, error: err.message }));
  req.on('response', (res) => {
    const status = res.statusCode ?? 0;
    const wanted = keepBody || status !== 200;
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => {
      if (wanted) chunks.push(c);
    });
    res.on('error', (err) => finish({ status: 0, error: err.message }));
    res.on('end', () => finish(wanted ? { status, body: Buffer.concat(chunks).toString('utf8') } : { status }));
  });
  req.end(item.body);
}

/** The answer is what this target should give for FIELDS: the gateway's disclosure, or the provider's record. */
function expected(job: LoadJob, body: string): boolean {
  try {
    const v = JSON.parse(body) as Record<string, unknown>;
    if (job.tokens === 'client') {
      const d = v.disclosure as { released?: unknown } | undefined;
      return (
        typeof v.data === 'object' &&
        Array.isArray(d?.released) &&
        d.released.length > 0 &&
        (d.released as string[]).every((f) => (FIELDS as readonly string[]).includes(f))
      );
    }
    return typeof v.targetGroup === 'string';
  } catch {
    return false;
  }
}

const CHECKS_PER_WINDOW = 5;

class Tally {
  sent = 0;
  ok = 0;
  errors = 0;
  checked = 0;
  readonly statuses: Record<string, number> = {};
  readonly samples: string[] = [];
  readonly latencies: Float64Array;
  constructor(capacity: number) {
    this.latencies = new Float64Array(Math.max(1, capacity));
  }
  record(job: LoadJob, o: Outcome, latencyMs: number): void {
    let ok = o.status === 200;
    if (ok && o.body !== undefined) {
      if (expected(job, o.body)) this.checked += 1;
      else ok = false;
    }
    const key = o.status === 0 ? (o.error === 'timeout' ? 'timeout' : 'transport') : String(o.status);
    this.statuses[key] = (this.statuses[key] ?? 0) + 1;
    if (ok) {
      this.latencies[this.ok] = latencyMs;
      this.ok += 1;
    } else {
      this.errors += 1;
      if (this.samples.length < 5) {
        let code = o.error ?? '';
        try {
          const answered = (JSON.parse(o.body ?? '') as { code?: unknown }).code;
          if (typeof answered === 'string') code = answered;
        } catch {
          // not JSON
        }
        this.samples.push(`${key}${code ? ` ${code}` : ''}`.slice(0, 200));
      }
    }
  }
}

function notify(phase: 'start' | 'end'): void {
  process.send?.({ type: 'window', phase });
}

async function openLoop(job: LoadJob): Promise<LoadResult> {
  const warmCount = Math.round(job.rate * job.warmupSeconds);
  const count = Math.round(job.rate * job.durationSeconds);
  const mintStart = performance.now();
  const items = await mint(job, warmCount + count);
  const mintSeconds = (performance.now() - mintStart) / 1000;
  const agent = agentFor(job);
  const warm = new Tally(0);
  const tally = new Tally(count);
  const interval = 1000 / job.rate;
  const total = warmCount + count;

  return new Promise<LoadResult>((resolve) => {
    const start = performance.now() + 20;
    const windowStart = start + warmCount * interval;
    let next = 0;
    let pending = 0;
    let lastAnswer = windowStart;
    let started = false;
    let checks = 0;
    const complete = (): void => {
      const windowSeconds = Math.max(job.durationSeconds, (lastAnswer - windowStart) / 1000);
      notify('end');
      resolve({
        target: job.target,
        mode: 'open',
        rate: job.rate,
        concurrency: null,
        windowSeconds,
        sent: tally.sent,
        ok: tally.ok,
        errors: tally.errors,
        statuses: tally.statuses,
        errorSamples: tally.samples,
        throughput: tally.ok / windowSeconds,
        latencyMs: roundSummary(summarize(tally.latencies, tally.ok)),
        warmup: { sent: warm.sent, ok: warm.ok, errors: warm.errors },
        mintedTokens: total,
        mintSeconds,
        tokensExhausted: false,
        checked: tally.checked,
      });
    };
    const tick = (): void => {
      const now = performance.now();
      while (next < total && start + next * interval <= now) {
        const i = next++;
        const intended = start + i * interval;
        const inWindow = i >= warmCount;
        if (inWindow && !started) {
          started = true;
          notify('start');
        }
        const t = inWindow ? tally : warm;
        t.sent += 1;
        pending += 1;
        const keepBody = inWindow && checks < CHECKS_PER_WINDOW;
        if (keepBody) checks += 1;
        send(job, agent, items[i]!, keepBody, (o) => {
          const at = performance.now();
          t.record(job, o, at - intended);
          if (inWindow) lastAnswer = Math.max(lastAnswer, at);
          pending -= 1;
          if (next >= total && pending === 0) complete();
        });
      }
      if (next < total) setTimeout(tick, Math.max(0, start + next * interval - performance.now()));
    };
    setTimeout(tick, Math.max(0, start - performance.now()));
  });
}

async function closedLoop(job: LoadJob): Promise<LoadResult> {
  const mintStart = performance.now();
  const warmItems = await mint(job, Math.round(job.tokensPerSecond * job.warmupSeconds));
  const items = await mint(job, Math.round(job.tokensPerSecond * job.durationSeconds));
  const mintSeconds = (performance.now() - mintStart) / 1000;
  const agent = agentFor(job);

  const run = (list: Prepared[], seconds: number, t: Tally, measured: boolean): Promise<{ elapsed: number; exhausted: boolean }> =>
    new Promise((resolve) => {
      const begin = performance.now();
      const deadline = begin + seconds * 1000;
      let next = 0;
      let active = job.concurrency;
      let checks = 0;
      let exhausted = false;
      const worker = (): void => {
        if (performance.now() >= deadline || next >= list.length) {
          if (next >= list.length && performance.now() < deadline) exhausted = true;
          active -= 1;
          if (active === 0) resolve({ elapsed: (performance.now() - begin) / 1000, exhausted });
          return;
        }
        const item = list[next++]!;
        const sentAt = performance.now();
        t.sent += 1;
        const keepBody = measured && checks < CHECKS_PER_WINDOW;
        if (keepBody) checks += 1;
        send(job, agent, item, keepBody, (o) => {
          t.record(job, o, performance.now() - sentAt);
          worker();
        });
      };
      for (let i = 0; i < job.concurrency; i++) worker();
    });

  const warm = new Tally(0);
  if (warmItems.length > 0) await run(warmItems, job.warmupSeconds, warm, false);
  const tally = new Tally(items.length);
  notify('start');
  const { elapsed, exhausted } = await run(items, job.durationSeconds, tally, true);
  notify('end');
  return {
    target: job.target,
    mode: 'closed',
    rate: null,
    concurrency: job.concurrency,
    windowSeconds: elapsed,
    sent: tally.sent,
    ok: tally.ok,
    errors: tally.errors,
    statuses: tally.statuses,
    errorSamples: tally.samples,
    throughput: tally.ok / elapsed,
    latencyMs: roundSummary(summarize(tally.latencies, tally.ok)),
    warmup: { sent: warm.sent, ok: warm.ok, errors: warm.errors },
    mintedTokens: warmItems.length + items.length,
    mintSeconds,
    tokensExhausted: exhausted,
    checked: tally.checked,
  };
}

async function main(): Promise<void> {
  await keys();
  serveParent(
    async (msg) => {
      if (msg.type !== 'run') throw new Error(`unknown request ${String(msg.type)}`);
      const job = msg.job as LoadJob;
      const result = job.mode === 'open' ? await openLoop(job) : await closedLoop(job);
      return { result };
    },
    async () => {
      for (const a of agents.values()) a.destroy();
    },
  );
  process.send?.({ type: 'ready' });
}

main().catch(failStartup);

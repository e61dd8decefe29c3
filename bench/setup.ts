import { randomBytes } from 'node:crypto';
import { closeSync, fdatasyncSync, mkdirSync, openSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { registeredClientIds } from '../src/auth/client-ids.js';
import { projectRoot } from '../src/lib/root.js';
import { ensureDevPki } from '../src/pki/devpki.js';
import { population } from '../src/simulators/population.js';

export const ROOT = projectRoot();
/** Scratch space: certificates, SQLite files, logs. Git-ignored (bench/results/tmp/). */
export const WORK = path.join(ROOT, 'bench', 'results', 'tmp');
export const CERTS = path.join(WORK, 'certs');
export const GATEWAY_ID = 'snitflade-gateway';

/** The exchange the load runs measure: SOF asks the jobcentre about a shared citizen. */
export const CALLER = 'sof-case-system';
export const PROVIDER = 'bif-jobcentre-system';
export const CONTRACT = 'employment.citizen-status.v1';
export const QUERY_PATH = `/v1/queries/${CONTRACT}`;
export const PROVIDER_PATH = `/snitflade/v1/queries/${CONTRACT}`;
export const PURPOSE = 'plan-coordination';
export const POLICY = 'sof-reads-employment-status@1';
/** Requested fields, in the contract's order (the gateway forwards policy ∩ requested in that order). */
export const FIELDS = ['targetGroup', 'incomeSupport', 'caseworkerContact', 'nextMeetingDate'] as const;

export async function ensureWorkspace(): Promise<void> {
  mkdirSync(path.join(WORK, 'logs'), { recursive: true });
  await ensureDevPki(CERTS, { systems: registeredClientIds(path.join(ROOT, 'policies', 'clients.yaml')), gatewayId: GATEWAY_ID });
}

export function tlsFiles(system: string): { cert: string; key: string; ca: string } {
  const dir = system === GATEWAY_ID ? path.join(CERTS, 'gateway') : path.join(CERTS, 'clients', system);
  return { cert: path.join(dir, 'tls.crt.pem'), key: path.join(dir, 'tls.key.pem'), ca: path.join(CERTS, 'ca', 'ca.crt.pem') };
}

/** CPR numbers of the synthetic citizens the jobcentre has a case for (serial 99NN, never real). */
export function employmentCitizens(): string[] {
  return population()
    .filter((c) => c.employment !== null)
    .map((c) => c.cpr);
}

/** A fresh PostgreSQL database on the bench server; `drop` removes it (and its connections). */
export interface ScratchDatabase {
  readonly url: string;
  readonly name: string;
  drop(): Promise<void>;
}

export async function createScratchDatabase(adminUrl: string, label: string): Promise<ScratchDatabase> {
  const name = `snitflade_bench_${label}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 5000 });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  let dropped = false;
  return {
    url: url.toString(),
    name,
    async drop() {
      if (dropped) return;
      dropped = true;
      const c = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 5000 });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

/**
 * The disk's durable-write latency right now: median µs of 100 × (write 4 KiB + fdatasync) in
 * the workspace. Every audit commit pays one of these, so the report states it.
 */
export function fsyncProbe(): number {
  const file = path.join(WORK, `fsync-probe-${process.pid}`);
  const fd = openSync(file, 'w');
  const block = Buffer.alloc(4096, 1);
  const samples: number[] = [];
  try {
    for (let i = 0; i < 100; i++) {
      const t0 = process.hrtime.bigint();
      writeSync(fd, block);
      fdatasyncSync(fd);
      samples.push(Number(process.hrtime.bigint() - t0) / 1000);
    }
  } finally {
    closeSync(fd);
    rmSync(file, { force: true });
  }
  samples.sort((a, b) => a - b);
  return Math.round(samples[50]!);
}

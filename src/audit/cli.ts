import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { loadConfig, type GatewayConfig } from '../config/config.js';
import { projectRoot } from '../lib/root.js';
import { describeStore, openStore } from '../store/index.js';
import type { Store } from '../store/types.js';
import { CheckpointVerifier, publicKeyOf } from './checkpoint.js';
import { exportTrail } from './export.js';
import { verifySealedChain, type ChainVerification } from './verify-trail.js';

/**
 * `snitflade audit verify` and `snitflade audit export`, reading the store the gateway's
 * configuration names (SNITFLADE_CONFIG, DATABASE_URL, ...), like the gateway itself.
 */

export interface AuditCliIO {
  out(text: string): void;
  err(text: string): void;
  /** Whether stderr is a terminal (the progress bar redraws in place). */
  readonly tty: boolean;
}

const processIO: AuditCliIO = {
  out: (t) => void process.stdout.write(t),
  err: (t) => void process.stderr.write(t),
  get tty() {
    return process.stderr.isTTY === true;
  },
};

/** The checkpoint verifier from public keys only: the gateway's signing.pub.pem and the retired keys configured. */
export async function loadCheckpointVerifier(config: GatewayConfig): Promise<CheckpointVerifier> {
  const certs = config.paths.certs;
  const files = ['gateway/signing.pub.pem', ...config.audit.previousSigningKeys];
  return new CheckpointVerifier(await Promise.all(files.map((f) => publicKeyOf(readFileSync(path.resolve(certs, f), 'utf8')))));
}

/**
 * Opens the store the configuration names, the gateway's (SNITFLADE_CONFIG, DATABASE_URL, ...),
 * and never another: a SQLite file that does not exist is not created (it would verify as an empty
 * trail while the gateway writes elsewhere, such as PostgreSQL), it is refused with what to set.
 */
function openConfiguredStore(config: GatewayConfig): Promise<Store> {
  if (config.store.kind === 'sqlite' && config.store.file !== ':memory:' && !existsSync(config.store.file))
    throw new InvalidArgumentError(
      `no audit trail at ${describeStore(config.store)}: the file does not exist. Run this with the gateway's configuration: ` +
        'DATABASE_URL for a PostgreSQL store, SNITFLADE_CONFIG for its configuration file, SNITFLADE_DATA_DIR for another SQLite folder.',
    );
  return openStore(
    config.store.kind === 'sqlite' ? { kind: 'sqlite', file: config.store.file } : { kind: 'postgres', url: config.store.url },
  );
}

/** Progress on stderr in steps of 1%: a bar redrawn in place on a terminal, a line every 10% otherwise. */
export function progressBar(io: AuditCliIO, label: string): { update(done: number, total: number): void; end(): void } {
  let shown = -1;
  return {
    update(done, total) {
      if (total < 1000) return; // small trails are done before a bar helps
      const pct = Math.min(100, Math.floor((done / total) * 100));
      if (pct === shown) return;
      shown = pct;
      if (io.tty) {
        const width = 30;
        const filled = Math.round((pct / 100) * width);
        io.err(`\r${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(pct).padStart(3)}% ${done}/${total}`);
      } else if (pct % 10 === 0) {
        io.err(`${label} ${pct}% (${done}/${total})\n`);
      }
    },
    end() {
      if (io.tty && shown >= 0) io.err('\n');
    },
  };
}

function describeResult(r: ChainVerification): string {
  const range = r.checked > 0 ? `records ${r.fromSeq}-${r.fromSeq + r.checked - 1}` : 'no records';
  const sealed =
    r.lastCheckpoint !== undefined ? `last checkpoint at seq ${r.lastCheckpoint.seq} (${r.lastCheckpoint.time})` : 'no checkpoint yet';
  const retained =
    r.retained !== undefined ? `; records 1-${r.retained.throughSeq} deleted under the retention rule (${r.retained.time})` : '';
  const erased =
    r.erased !== undefined ? `; ${r.erased} of them with their content erased under their purpose's retention (documented and due)` : '';
  const unsealed = r.unsealed > 0 ? `; ${r.unsealed} records after the last checkpoint (sealed at the next one)` : '';
  if (r.ok)
    return `✔ chain ${r.chain}: ${range} verified, ${r.checkpoints} signed checkpoints checked, ${sealed}${retained}${erased}${unsealed}\n`;
  const p = r.problem!;
  return `✘ chain ${r.chain}: ${p.kind} at seq ${p.seq}: ${p.message} (${r.checked} records before it verified)\n`;
}

/** `snitflade audit verify`: exit code 0 when every chain verifies, 1 when one does not. */
export async function auditVerify(
  config: GatewayConfig,
  o: { chain?: string; fromCheckpoint?: number; json?: boolean },
  io: AuditCliIO = processIO,
): Promise<number> {
  if (o.fromCheckpoint !== undefined && o.chain === undefined) throw new InvalidArgumentError('--from-checkpoint needs --chain');
  const store = await openConfiguredStore(config);
  const where = describeStore(config.store);
  try {
    if (o.json !== true) io.out(`store: ${where}\n`);
    const verifier = await loadCheckpointVerifier(config);
    const chains =
      o.chain !== undefined ? [o.chain] : [...new Set([...(await store.audit.chains()), ...(await store.checkpoints.chains())])].sort();
    if (chains.length === 0 && o.json !== true) io.out(`the audit trail in ${where} is empty: nothing to verify\n`);
    const results: ChainVerification[] = [];
    for (const chain of chains) {
      const bar = progressBar(io, `verifying ${chain}`);
      const r = await verifySealedChain({ store, verifier }, chain, {
        ...(o.fromCheckpoint !== undefined ? { fromCheckpoint: o.fromCheckpoint } : {}),
        onProgress: (p) => bar.update(p.done, p.total),
      });
      bar.end();
      results.push(r);
      if (o.json !== true) io.out(describeResult(r));
    }
    const ok = results.every((r) => r.ok);
    if (o.json === true)
      io.out(`${JSON.stringify({ ok, store: where, verifiedAt: new Date().toISOString(), chains: results }, null, 2)}\n`);
    else io.out(ok ? `the audit trail in ${where} verifies\n` : `the audit trail in ${where} does NOT verify\n`);
    return ok ? 0 : 1;
  } finally {
    await store.close();
  }
}

/** `snitflade audit export`: writes the export folder and records it (the retention rule needs it). */
export async function auditExport(
  config: GatewayConfig,
  o: { out: string; chain?: string; fromSeq?: number; segmentRecords?: number },
  io: AuditCliIO = processIO,
): Promise<number> {
  const store = await openConfiguredStore(config);
  try {
    io.out(`store: ${describeStore(config.store)}\n`);
    const verifier = await loadCheckpointVerifier(config);
    let bar: ReturnType<typeof progressBar> | undefined;
    let current = '';
    const { manifest, manifestDigest } = await exportTrail(
      { store, verifier, gatewayId: config.gatewayId },
      {
        out: o.out,
        ...(o.chain !== undefined ? { chains: [o.chain] } : {}),
        ...(o.fromSeq !== undefined ? { fromSeq: o.fromSeq } : {}),
        ...(o.segmentRecords !== undefined ? { segmentRecords: o.segmentRecords } : {}),
        onProgress: (p) => {
          if (p.chain !== current) {
            bar?.end();
            current = p.chain;
            bar = progressBar(io, `exporting ${p.chain}`);
          }
          bar?.update(p.done, p.total);
        },
      },
    );
    bar?.end();
    for (const c of manifest.chains)
      io.out(`chain ${c.chain}: records ${c.fromSeq}-${c.toSeq} in ${c.segments.length} segment(s), with their signed checkpoints\n`);
    if (manifest.chains.length === 0) io.out('nothing sealed to export (no signed checkpoint since the last export start)\n');
    io.out(`export written to ${path.resolve(o.out)} (manifest sha256 ${manifestDigest})\n`);
    io.out(`a third party verifies it with: node ${path.join(path.resolve(o.out), 'verify-export.mjs')} ${path.resolve(o.out)}\n`);
    return 0;
  } finally {
    await store.close();
  }
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive whole number');
  return n;
}

/** Adds `snitflade audit verify|export`. */
export function registerAuditCommands(program: Command, io: AuditCliIO = processIO): void {
  const config = (): GatewayConfig => loadConfig({ root: projectRoot(), env: process.env });
  const audit = program.command('audit').description('the audit trail: verify it, export it for a third party (docs/AUDIT.md)');
  audit
    .command('verify')
    .description('verify every chain of the audit trail (hash chain, signed checkpoints, Merkle roots), with a progress bar on stderr')
    .option('--chain <id>', 'only this chain (a gateway instance id)')
    .option(
      '--from-checkpoint <seq>',
      'start after this stored checkpoint of --chain (the records up to it are taken on trust)',
      positiveInt,
    )
    .option('--json', 'print the result as JSON')
    .action(async (o: { chain?: string; fromCheckpoint?: number; json?: boolean }) => {
      process.exitCode = await auditVerify(config(), o, io);
    });
  audit
    .command('export')
    .description('export the sealed audit trail with its signed checkpoints and the public key, for verify-export.mjs')
    .requiredOption('--out <dir>', 'a new, empty folder')
    .option('--chain <id>', 'only this chain')
    .option('--from-seq <seq>', 'start about here (right after the last checkpoint before it)', positiveInt)
    .option('--segment-records <n>', 'records per segment file, at least (default 100000)', positiveInt)
    .action(async (o: { out: string; chain?: string; fromSeq?: number; segmentRecords?: number }) => {
      process.exitCode = await auditExport(config(), o, io);
    });
}

import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import path from 'node:path';
import type { StoredCheckpoint } from '../store/audit-checkpoints.js';
import type { AuditStore } from '../store/types.js';
import type { AuditRecord } from './types.js';

/**
 * Forwarding the audit trail to a SIEM: one JSON line per audit record once it is durable, and
 * one per signed checkpoint (an outside copy of every tree head: a witness the database cannot
 * rewrite). Separate from the operational log, and like it free of personal data: no CPR
 * number, no pseudonym, no case reference, no data value — field names, codes and ids only.
 */

export interface SiemSink {
  write(line: string): void;
  close(): Promise<void>;
}

export interface SiemOptions {
  readonly target: 'off' | 'stdout' | 'file';
  readonly file?: string;
  /** Told when the file cannot be written (the trail itself is not affected). */
  readonly onError?: (err: Error) => void;
}

/**
 * The configured sink, or undefined when forwarding is off.
 *
 * @example
 * const siem = openSiem({ target: 'file', file: '/var/log/snitflade/audit.jsonl' });
 */
export function openSiem(options: SiemOptions): SiemSink | undefined {
  if (options.target === 'off') return undefined;
  if (options.target === 'stdout') {
    return {
      write: (line) => void process.stdout.write(`${line}\n`),
      close: async () => undefined,
    };
  }
  if (options.file === undefined || options.file === '') throw new TypeError('openSiem: target "file" needs a file');
  mkdirSync(path.dirname(path.resolve(options.file)), { recursive: true });
  const stream: WriteStream = createWriteStream(options.file, { flags: 'a', mode: 0o600 });
  stream.on('error', (err) => options.onError?.(err));
  return {
    write: (line) => void stream.write(`${line}\n`),
    close: () => new Promise<void>((resolve) => stream.end(() => resolve())),
  };
}

/** The SIEM line of one audit record: what happened, never about whom or what data. */
export function siemRecord(r: AuditRecord): Record<string, unknown> {
  return {
    type: 'snitflade.audit',
    v: 1,
    time: r.time,
    chain: r.chain,
    seq: r.seq,
    id: r.id,
    hash: r.hash,
    kind: r.kind,
    auditId: r.auditId,
    requestId: r.requestId,
    caller: r.caller,
    ...(r.recipient !== undefined ? { recipient: r.recipient } : {}),
    caseworker: r.caseworker,
    contract: r.contract,
    purpose: r.purpose,
    policy: r.policy,
    decision: r.decision,
    reasons: r.reasons,
    fields: r.fields,
    citizen: r.subject !== null,
    consent: r.consent !== null,
    upstreamStatus: r.upstream?.status ?? null,
    status: r.status,
    latencyMs: r.latencyMs,
  };
}

/** The SIEM line of a signed checkpoint. */
export function siemCheckpoint(c: StoredCheckpoint): Record<string, unknown> {
  return { type: 'snitflade.checkpoint', v: 1, time: c.time, chain: c.chain, seq: c.seq, head: c.head, root: c.root, jws: c.jws };
}

/**
 * The AuditStore, with every record forwarded to the sink after the store made it durable. All
 * other methods are the store's own.
 */
export function forwardingAuditStore(audit: AuditStore, sink: SiemSink): AuditStore {
  const append: AuditStore['append'] = async (records, ...rest) => {
    await audit.append(records, ...rest);
    for (const r of records) sink.write(JSON.stringify(siemRecord(r)));
  };
  return new Proxy(audit, {
    get(target, prop) {
      if (prop === 'append') return append;
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

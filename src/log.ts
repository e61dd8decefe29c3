import winston from 'winston';
import { redactCpr } from './lib/cpr.js';

/**
 * Operational logging: structured JSON, never a CPR number, a token or a data value. Lines
 * about a request carry its `requestId`, passed explicitly by the caller: there is no
 * AsyncLocalStorage context, since on Node 20 an active one makes every promise of every request
 * several times dearer (bench/README.md). Callers log codes, ids and counts; as a second line of defence, every
 * line is scrubbed of CPR numbers in any written form (src/lib/cpr.ts, which leaves UUIDs and
 * hex digests alone) and of anything shaped like a JWT before it is written.
 */

const JWT_LIKE = /eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g;

export function scrub(text: string): string {
  return redactCpr(text, '[redacted]').replace(JWT_LIKE, '[redacted-token]');
}

const scrubFormat = winston.format((info) => {
  for (const [k, v] of Object.entries(info)) {
    if (typeof v === 'string') (info as Record<string, unknown>)[k] = scrub(v);
  }
  return info;
});

export type Logger = winston.Logger;

export function createLogger(options: { level: string; file?: string; console: boolean; service?: string }): Logger {
  const transports: winston.transport[] = [];
  if (options.console) transports.push(new winston.transports.Console());
  if (options.file) transports.push(new winston.transports.File({ filename: options.file }));
  if (transports.length === 0) transports.push(new winston.transports.Console({ silent: true }));
  return winston.createLogger({
    level: options.level,
    defaultMeta: { service: options.service ?? 'snitflade' },
    format: winston.format.combine(
      scrubFormat(),
      winston.format.timestamp(),
      winston.format.json({ replacer: (_k, v) => (typeof v === 'string' ? scrub(v) : v) }),
    ),
    transports,
  });
}

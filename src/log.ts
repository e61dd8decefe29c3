import { AsyncLocalStorage } from 'node:async_hooks';
import winston from 'winston';

/**
 * Operational logging: structured JSON, a request id on every line, never a CPR number, a
 * token or a data value. Callers log codes, ids and counts; as a second line of defence, every
 * line is scrubbed of anything shaped like a CPR number or a JWT before it is written.
 */

export const requestContext = new AsyncLocalStorage<{ requestId: string }>();

const CPR_LIKE = /(?<![0-9])[0-9]{6}-?[0-9]{4}(?![0-9])/g;
const JWT_LIKE = /eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g;

export function scrub(text: string): string {
  return text.replace(CPR_LIKE, '[redacted]').replace(JWT_LIKE, '[redacted-token]');
}

const scrubFormat = winston.format((info) => {
  const ctx = requestContext.getStore();
  if (ctx && info.requestId === undefined) info.requestId = ctx.requestId;
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
    format: winston.format.combine(scrubFormat(), winston.format.timestamp(), winston.format.json({ replacer: (_k, v) => (typeof v === 'string' ? scrub(v) : v) })),
    transports,
  });
}

import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseCpr } from '../lib/cpr.js';
import { sha256b64url } from '../lib/digest.js';
import { LoadError } from '../lib/load-error.js';

/** A secret for keyed pseudonyms; `id` is written in front of every pseudonym made with it. */
export interface PseudonymKey {
  readonly id: string;
  readonly secret: Buffer;
}

export interface PseudonymizerOptions {
  /** Every key still needed to search the trail: the current one and those rotated out. */
  readonly keys: readonly PseudonymKey[];
  /** The id of the key new pseudonyms are made with. */
  readonly current: string;
}

/** The shape of a pseudonym: "<keyId>:<43 base64url characters>". */
export const PSEUDONYM = /^[A-Za-z0-9_-]{1,32}:[A-Za-z0-9_-]{43}$/;

const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;
const MIN_SECRET_BYTES = 32;

/**
 * Keyed pseudonyms of CPR numbers (invariant 5): the audit trail stores
 * "<keyId>:" + base64url(HMAC-SHA256(secret, cpr)), so the DPO can search by CPR number
 * without the trail holding one, and nobody without the key can test a guess.
 *
 * @example
 * const p = new Pseudonymizer({ keys: [key], current: key.id });
 * p.pseudonym('0101909901') // 'kq3Jd0aZ1:8cV...'
 * p.all('0101909901')       // the same citizen under every known key, for search
 */
export class Pseudonymizer {
  readonly #keys: ReadonlyMap<string, Buffer>;
  readonly #current: string;

  constructor(options: PseudonymizerOptions) {
    const keys = new Map<string, Buffer>();
    for (const key of options.keys) {
      if (typeof key.id !== 'string' || !KEY_ID.test(key.id))
        throw new TypeError('Pseudonymizer: a key id must be 1-32 characters of A-Z, a-z, 0-9, "_" or "-"');
      if (!Buffer.isBuffer(key.secret) || key.secret.length < MIN_SECRET_BYTES)
        throw new TypeError(`Pseudonymizer: key ${key.id} is shorter than ${MIN_SECRET_BYTES} bytes`);
      if (keys.has(key.id)) throw new TypeError(`Pseudonymizer: key id ${key.id} appears twice`);
      keys.set(key.id, Buffer.from(key.secret));
    }
    if (!keys.has(options.current)) throw new TypeError('Pseudonymizer: the current key id names none of the keys');
    this.#keys = keys;
    this.#current = options.current;
  }

  /** The id of the key new pseudonyms are made with. */
  get currentKeyId(): string {
    return this.#current;
  }

  /** The pseudonym of a CPR number (10 digits, or any written form src/lib/cpr.ts reads) under the current key. */
  pseudonym(cpr: string): string {
    return this.#under(this.#current, normalise(cpr));
  }

  /** The pseudonyms of a CPR number under every known key, the current one first. */
  all(cpr: string): string[] {
    const digits = normalise(cpr);
    return [this.#current, ...[...this.#keys.keys()].filter((id) => id !== this.#current)].map((id) => this.#under(id, digits));
  }

  #under(id: string, digits: string): string {
    const secret = this.#keys.get(id) as Buffer;
    return `${id}:${createHmac('sha256', secret).update(digits, 'utf8').digest('base64url')}`;
  }
}

/** The ten digits of a CPR number in any written form, so one citizen has one pseudonym. */
function normalise(cpr: string): string {
  const digits = typeof cpr === 'string' ? parseCpr(cpr) : undefined;
  // The message never repeats the value: it may be a CPR number.
  if (digits === undefined) throw new TypeError('Pseudonymizer: not a CPR number (ten digits with a real date, in any written form)');
  return digits;
}

/**
 * Reads a pseudonym key file: one line, base64url of at least 32 random bytes. The key id is
 * derived from the secret ("k" + 8 characters of its SHA-256), so a rotated key gets a new id
 * by itself, unless `id` is given.
 *
 * @example
 * const key = loadPseudonymKey('certs/gateway/pseudonym.key');
 */
export function loadPseudonymKey(file: string, id?: string): PseudonymKey {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new LoadError(file, '', `cannot read the pseudonym key (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  const line = text.trim();
  if (!/^[A-Za-z0-9_-]+={0,2}$/.test(line)) throw new LoadError(file, '', 'the pseudonym key must be one line of base64url', 1);
  const secret = Buffer.from(line, 'base64url');
  if (secret.length < MIN_SECRET_BYTES)
    throw new LoadError(file, '', `the pseudonym key is ${secret.length} bytes; it must be at least ${MIN_SECRET_BYTES}`, 1);
  const keyId = id ?? `k${sha256b64url(secret).slice(0, 8)}`;
  if (!KEY_ID.test(keyId)) throw new TypeError('loadPseudonymKey: a key id must be 1-32 characters of A-Z, a-z, 0-9, "_" or "-"');
  return { id: keyId, secret };
}

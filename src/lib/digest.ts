import { createHash } from 'node:crypto';

/** base64url SHA-256 of bytes or a UTF-8 string: the form of body_sha256 and token digests. */
export function sha256b64url(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('base64url');
}

/** hex SHA-256 of bytes or a UTF-8 string. */
export function sha256hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * Canonical JSON (RFC 8785 style for the values the gateway hashes: objects with sorted keys,
 * no whitespace; strings, finite numbers, booleans, null and arrays). Throws TypeError on
 * anything else, since a value that cannot be hashed the same way twice must not be hashed.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError('canonicalJson: non-finite number');
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object') {
    // Plain objects only: a Date, Map or Set (or any class) would otherwise be hashed as {}.
    // (Object.prototype of any realm: rows and parsed JSON may come from another one.)
    const proto: unknown = Object.getPrototypeOf(value);
    if (proto !== null && Object.getPrototypeOf(proto) !== null)
      throw new TypeError(`canonicalJson: cannot encode a ${value.constructor?.name ?? 'non-plain object'}`);
    const obj = value as Record<string, unknown>;
    const keys = Object.keys(obj)
      .filter((k) => obj[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(',')}}`;
  }
  throw new TypeError(`canonicalJson: cannot encode a ${typeof value}`);
}

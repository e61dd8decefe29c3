import { randomFillSync, randomInt } from 'node:crypto';

let lastMs = 0;
let counter = 0;

/** Random bytes drawn 4 KiB at a time: one call into the CSPRNG serves 256 ids. */
const pool = Buffer.alloc(4096);
let poolAt = pool.length;

function random16(): Buffer {
  if (poolAt + 16 > pool.length) {
    randomFillSync(pool);
    poolAt = 0;
  }
  const b = pool.subarray(poolAt, poolAt + 16); // used up at once: the id is made from it before the next draw
  poolAt += 16;
  return b;
}

/**
 * A time-ordered unique id in the UUIDv7 layout (RFC 9562): 48 bits of Unix milliseconds, a
 * 12-bit counter that keeps ids made in the same millisecond in order, and 62 random bits.
 * Ids made by one process sort in the order they were made.
 *
 * @example
 * recordId() // '0193f1c2-7a4b-7c01-9e2d-5b0f3a6c8d11'
 */
export function recordId(now: number = Date.now()): string {
  let ms = now;
  if (ms <= lastMs) {
    ms = lastMs;
    counter += 1;
    if (counter > 0xfff) {
      ms = lastMs + 1; // borrow the next millisecond rather than repeat or reorder
      counter = randomInt(0, 0x800);
    }
  } else {
    counter = randomInt(0, 0x800); // start low in the range, leaving room to count up
  }
  lastMs = ms;
  const b = random16();
  b.writeUIntBE(ms, 0, 6);
  b[6] = 0x70 | (counter >> 8);
  b[7] = counter & 0xff;
  b[8] = ((b[8] ?? 0) & 0x3f) | 0x80;
  const hex = b.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * A new audit id: the id that a request's records share and that its caller, provider and
 * citizen are given. Time-ordered like record ids (same layout), so that each new id lands at
 * the end of the `audit_id` index rather than at a random page: with random ids every group
 * commit rewrote a page of that index per record (in SQLite's write-ahead log, a whole page
 * each). It reveals the time it was made to the millisecond, which the record it names holds
 * anyway.
 *
 * @example
 * newAuditId() // '0193f1c2-7a4b-7c02-8f10-2a9c4e7b5d03'
 */
export function newAuditId(): string {
  return recordId();
}

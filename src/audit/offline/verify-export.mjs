#!/usr/bin/env node
// Verifies an export of the Snitflade audit trail, with nothing but Node.js (18 or newer).
//
//   node verify-export.mjs <export folder> [--kid <key id>] [--keys <jwks.json>] [--quiet]
//
// For every chain in manifest.json it reads the records in seq order and checks that each one
//   - sits at its seq and belongs to its chain,
//   - links to the record before it (prevHash) and hashes to its stored hash:
//       hash = SHA-256( prevHash + "\n" + canonical JSON of the record without "hash" ),
// and that every signed checkpoint
//   - carries a valid ES256 signature by a key in the key set (keys.jwks.json, or --keys), whose
//     kid is the RFC 7638 thumbprint of the key (pin the one your municipality published: --kid),
//   - names the hash of the record at its seq, and the RFC 6962 Merkle root over records 1..seq
//       leaf = SHA-256(0x00 || 32-byte record hash), node = SHA-256(0x01 || left || right),
//   - follows the previous checkpoint (its "prev") without a gap.
// A record whose content was erased under its purpose's retention ("erasedBy" set) cannot be
// hashed again: its stored hash is its leaf, and instead of its hash the verifier checks that
//   - what is left of it is exactly what an erasure leaves (place, ids, time, kind, purpose),
//   - the chain's erasures.jsonl holds the admin record that documents its erasure, proven by an
//     inclusion proof against a signed checkpoint signed no earlier than the admin record's time,
//     whose reasons give the number and the digest of its erasure entries (SHA-256 over
//     "<seq>:<digest>\n" lines) and the cutoff of each purpose (each no later than the purpose's
//     stated retention allows at the admin record's time, read as strictly as the gateway does),
//   - the erasure's signature (a JWS, typ snitflade-erasure+jws, by a key in the key set) is over
//     exactly that admin record (chain, seq, audit id, hash, time) and what it documents,
//   - its entry there names that admin record and the SHA-256 of what is left of it, and
//   - it is an exchange (decision, release, refusal, notification) written before the cutoff the
//     admin record documents for its purpose.
// It stops at the first problem and names the chain, the seq and what is wrong.
// Exit code: 0 the export verifies, 1 it does not, 2 it could not be read or the arguments are wrong.
//
// This file depends on nothing outside Node's standard library, on purpose: read it before you
// run it. It is a copy of src/audit/offline/verify-export.mjs in the Snitflade repository.

import { createHash, createPublicKey, verify as verifySignature } from 'node:crypto';
import { createReadStream, readFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';

const GENESIS = '0'.repeat(64);
const HEX64 = /^[0-9a-f]{64}$/;

class Bad extends Error {
  constructor(chain, seq, message) {
    super(`chain ${chain}, seq ${seq}: ${message}`);
    this.chain = chain;
    this.seq = seq;
  }
}

// ---------------------------------------------------------------------------------------------
// Canonical JSON: objects with sorted keys, no whitespace (the form the gateway hashes).

function canonical(value) {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError('non-finite number');
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (typeof value === 'object') {
    const keys = Object.keys(value)
      .filter((k) => value[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`).join(',')}}`;
  }
  throw new TypeError(`cannot encode a ${typeof value}`);
}

const sha256 = (...parts) => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
};

function recordHash(record) {
  const rest = { ...record };
  delete rest.hash;
  return sha256(`${record.prevHash}\n${canonical(rest)}`).toString('hex');
}

// ---------------------------------------------------------------------------------------------
// RFC 6962 Merkle tree: the right edge of the tree (one perfect subtree per set bit of size).

const leafHash = (recordHashHex) => sha256(Buffer.from([0]), Buffer.from(recordHashHex, 'hex'));
const nodeHash = (left, right) => sha256(Buffer.from([1]), left, right);

class Frontier {
  constructor(json) {
    this.size = 0;
    this.nodes = [];
    if (json) {
      let covered = 0;
      for (const n of json.nodes) {
        const width = 2 ** n.level;
        if (!HEX64.test(n.hash) || covered % width !== 0 || n.index !== covered / width)
          throw new Error('the anchor frontier is malformed');
        covered += width;
        this.nodes.push({ level: n.level, hash: Buffer.from(n.hash, 'hex') });
      }
      if (covered !== json.size) throw new Error('the anchor frontier does not cover its size');
      this.size = json.size;
    }
  }
  push(leaf) {
    let node = { level: 0, hash: leaf };
    this.size += 1;
    while (this.nodes.length > 0 && this.nodes[this.nodes.length - 1].level === node.level) {
      const left = this.nodes.pop();
      node = { level: node.level + 1, hash: nodeHash(left.hash, node.hash) };
    }
    this.nodes.push(node);
  }
  root() {
    if (this.nodes.length === 0) return sha256('').toString('hex');
    let acc = this.nodes[this.nodes.length - 1].hash;
    for (let i = this.nodes.length - 2; i >= 0; i--) acc = nodeHash(this.nodes[i].hash, acc);
    return acc.toString('hex');
  }
}

// ---------------------------------------------------------------------------------------------
// Checkpoints: compact JWS, ES256, kid = RFC 7638 JWK thumbprint.

const b64url = (s) => Buffer.from(s, 'base64url');

function thumbprint(jwk) {
  return sha256(JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y })).toString('base64url');
}

function loadKeys(file, pinned) {
  const set = JSON.parse(readFileSync(file, 'utf8'));
  const keys = new Map();
  for (const jwk of set.keys ?? []) {
    if (jwk.kty !== 'EC' || jwk.crv !== 'P-256') continue;
    const kid = thumbprint(jwk);
    if (jwk.kid !== undefined && jwk.kid !== kid)
      throw new Error(`key ${jwk.kid} in ${file} is not what its kid says (its thumbprint is ${kid})`);
    if (pinned !== undefined && kid !== pinned) continue;
    keys.set(kid, createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y }, format: 'jwk' }));
  }
  if (keys.size === 0) throw new Error(pinned !== undefined ? `no key with kid ${pinned} in ${file}` : `no ES256 key in ${file}`);
  return keys;
}

// The payload of a compact JWS of this typ, signed with ES256 by a trusted key.
function signedPayload(jws, keys, typ) {
  const parts = typeof jws === 'string' ? jws.split('.') : [];
  if (parts.length !== 3) throw new Error('not a compact JWS');
  const header = JSON.parse(b64url(parts[0]).toString('utf8'));
  if (header.alg !== 'ES256' || header.typ !== typ) throw new Error(`not an ES256 ${typ}`);
  const key = keys.get(header.kid);
  if (key === undefined) throw new Error(`signed with a key that is not trusted (kid ${String(header.kid)})`);
  const ok = verifySignature('sha256', Buffer.from(`${parts[0]}.${parts[1]}`), { key, dsaEncoding: 'ieee-p1363' }, b64url(parts[2]));
  if (!ok) throw new Error('the signature does not verify');
  return JSON.parse(b64url(parts[1]).toString('utf8'));
}

function checkpointPayload(jws, keys, chain) {
  const p = signedPayload(jws, keys, 'snitflade-checkpoint+jws');
  if (
    p.v !== 1 ||
    p.chain !== chain ||
    !Number.isSafeInteger(p.seq) ||
    !HEX64.test(p.head) ||
    !HEX64.test(p.root) ||
    !Number.isSafeInteger(p.prev)
  ) {
    throw new Error('the payload is not a checkpoint of this chain');
  }
  return p;
}

// RFC 9162 §2.1.3.2: does the audit path lead from the leaf at `index` to `root` in a tree of `size` leaves?
function verifyInclusion(index, size, leaf, pathHashes, root) {
  if (!Number.isSafeInteger(size) || !Number.isSafeInteger(index) || index < 0 || index >= size) return false;
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of pathHashes) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && r.toString('hex') === root;
}

// ---------------------------------------------------------------------------------------------
// Erased records (see the top of this file).

const ERASABLE_KINDS = new Set(['decision', 'release', 'refusal', 'notification']);

function erasedShape(r) {
  return {
    kind: r.kind,
    auditId: r.auditId,
    requestId: r.requestId,
    contract: null,
    caller: null,
    caseworker: null,
    caseRef: null,
    purpose: r.purpose,
    subject: null,
    policy: null,
    policySet: null,
    legalBasis: null,
    decision: null,
    reasons: [],
    fields: { requested: [], released: [], withheld: [], dropped: [] },
    consent: null,
    tokenDigest: null,
    upstream: null,
    responseDigest: null,
    status: null,
    latencyMs: null,
    id: r.id,
    chain: r.chain,
    seq: r.seq,
    time: r.time,
    prevHash: r.prevHash,
    hash: r.hash,
    erasedBy: r.erasedBy,
  };
}

// The cutoff of a retention period (ISO 8601: years, months, weeks, days) at an instant: the start,
// in Copenhagen time, of the day that lies the period before that instant's Copenhagen day. A month
// taken from the 31st ends on the month's last day.
const COPENHAGEN = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'Europe/Copenhagen',
  hourCycle: 'h23',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
});

function wallClock(ms) {
  const parts = {};
  for (const p of COPENHAGEN.formatToParts(new Date(ms))) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  return parts;
}

function startOfCopenhagenDay(y, m, d) {
  const offsetAt = (ms) => {
    const w = wallClock(ms);
    return Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second) - Math.floor(ms / 1000) * 1000;
  };
  const utcMidnight = Date.UTC(y, m - 1, d);
  return utcMidnight - offsetAt(utcMidnight - offsetAt(utcMidnight));
}

function purposeCutoff(retention, at) {
  const m = /^P(?=[0-9])(?:([0-9]+)Y)?(?:([0-9]+)M)?(?:([0-9]+)W)?(?:([0-9]+)D)?$/.exec(retention);
  if (m === null) return Number.NaN;
  const [years, months, weeks, days] = [1, 2, 3, 4].map((i) => -Number(m[i] ?? 0));
  const w = wallClock(at);
  const totalMonths = w.year * 12 + (w.month - 1) + years * 12 + months;
  const y = Math.floor(totalMonths / 12);
  const mo = totalMonths - y * 12;
  const lastDay = new Date(Date.UTC(y, mo + 1, 0)).getUTCDate();
  const d = new Date(Date.UTC(y, mo, Math.min(w.day, lastDay) + weeks * 7 + days));
  return startOfCopenhagenDay(d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate());
}

// What an erasure record's reasons document, read as strictly as the gateway reads them
// (parseErasureReasons): undefined when they are not exactly those of an erasure record.
function parseErasureReasons(reasons) {
  if (!Array.isArray(reasons) || reasons[0] !== 'AUDIT_ERASURE') return undefined;
  const named = new Map();
  const cutoffs = new Map();
  for (const r of reasons.slice(1)) {
    const m = typeof r === 'string' ? /^([a-z]+)=(.*)$/s.exec(r) : null;
    if (m === null) return undefined;
    if (m[1] === 'cutoff') {
      const c = /^([a-z][a-z0-9]*(?:-[a-z0-9]+)*):(P[0-9YMWD]+):(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)$/.exec(m[2]);
      if (c === null || cutoffs.has(c[1])) return undefined;
      cutoffs.set(c[1], { retention: c[2], before: c[3] });
    } else {
      if (named.has(m[1])) return undefined;
      named.set(m[1], m[2]);
    }
  }
  const chain = named.get('chain');
  const erased = Number(named.get('erased'));
  const digest = named.get('digest');
  const exportId = named.get('export');
  if (chain === undefined || exportId === undefined || digest === undefined || !HEX64.test(digest)) return undefined;
  if (!Number.isSafeInteger(erased) || erased < 1 || String(erased) !== named.get('erased')) return undefined;
  return { chain, erased, digest, exportId, cutoffs };
}

// The erasure entries of a chain's export, by seq, from its erasures.jsonl; each admin record checked first.
function readErasures(dir, entry, keys) {
  const chain = entry.chain;
  const bySeq = new Map();
  if (!entry.erasures) return bySeq;
  const lines = readFileSync(path.join(dir, entry.erasures), 'utf8')
    .split('\n')
    .filter((l) => l !== '');
  for (const line of lines) {
    const { admin, proof, signature, erased } = JSON.parse(line);
    const bad = (message) =>
      new Bad(chain, admin?.seq ?? 0, `the record documenting an erasure (chain ${admin?.chain}, seq ${admin?.seq}): ${message}`);
    if (admin === null || typeof admin !== 'object' || admin.kind !== 'admin' || recordHash(admin) !== admin.hash)
      throw bad('it does not match its hash');
    let p;
    try {
      p = checkpointPayload(proof?.checkpoint, keys, admin.chain);
    } catch (err) {
      throw bad(`its checkpoint: ${err.message}`);
    }
    const pathHashes =
      Array.isArray(proof.path) && proof.path.every((h) => HEX64.test(h)) ? proof.path.map((h) => Buffer.from(h, 'hex')) : undefined;
    if (
      proof.chain !== admin.chain ||
      proof.seq !== admin.seq ||
      proof.treeSize !== p.seq ||
      pathHashes === undefined ||
      !verifyInclusion(admin.seq - 1, p.seq, leafHash(admin.hash), pathHashes, p.root)
    )
      throw bad('its inclusion proof does not lead to the signed root');
    if (!(Date.parse(p.time) >= Date.parse(admin.time))) throw bad('the checkpoint proving it was signed before it was written');
    const doc = admin.erasedBy === undefined ? parseErasureReasons(admin.reasons) : undefined;
    if (doc === undefined || doc.chain !== chain) throw bad(`it does not document an erasure in chain ${chain}`);
    let signed;
    try {
      signed = signedPayload(signature, keys, 'snitflade-erasure+jws');
    } catch (err) {
      throw bad(`the signature of the erasure: ${err.message}`);
    }
    const expected = {
      v: 1,
      chain: doc.chain,
      admin: { chain: admin.chain, seq: admin.seq, auditId: admin.auditId, hash: admin.hash },
      erased: doc.erased,
      digest: doc.digest,
      exportId: doc.exportId,
      cutoffs: Object.fromEntries([...doc.cutoffs].map(([purpose, c]) => [purpose, { retention: c.retention, before: c.before }])),
      time: admin.time,
    };
    if (canonical(signed) !== canonical(expected)) throw bad('the signature of the erasure is not over this record');
    const at = Date.parse(admin.time);
    for (const [purpose, c] of doc.cutoffs)
      if (!(Date.parse(c.before) <= purposeCutoff(c.retention, at)))
        throw bad(`its cutoff for ${purpose} is later than its retention (${c.retention}) allows`);
    const list = Array.isArray(erased) ? erased : [];
    const digest = sha256(list.map((e) => `${e[0]}:${e[1]}\n`).join('')).toString('hex');
    if (list.length !== doc.erased || digest !== doc.digest) throw bad('the erasure entries in the export are not those it documents');
    const cutoffs = new Map([...doc.cutoffs].map(([purpose, c]) => [purpose, c.before]));
    for (const [seq, entryDigest] of list) {
      if (bySeq.has(seq)) throw bad(`two erasures in the export name seq ${seq}`);
      bySeq.set(seq, { auditId: admin.auditId, digest: entryDigest, cutoffs });
    }
  }
  return bySeq;
}

// Why an erased record is not a documented, due erasure; undefined when it is.
function erasureProblem(record, erasures) {
  if (canonical(erasedShape(record)) !== canonical(record))
    return 'the record is marked erased, but what is left of it is not what an erasure leaves';
  if (typeof record.hash !== 'string' || !HEX64.test(record.hash)) return 'the erased record has no valid hash';
  const doc = erasures.get(record.seq);
  if (doc === undefined || doc.auditId !== record.erasedBy)
    return "the record's content was erased, and no erasure documented in the export names it";
  if (sha256(canonical(record)).toString('hex') !== doc.digest) return 'the record was changed after its content was erased';
  const cutoff = doc.cutoffs.get(record.purpose);
  if (!ERASABLE_KINDS.has(record.kind) || cutoff === undefined || !(Date.parse(record.time) < Date.parse(cutoff)))
    return "the record's content was erased before its purpose's retention had passed";
  return undefined;
}

// ---------------------------------------------------------------------------------------------

async function verifyChain(dir, entry, keys, log) {
  const chain = entry.chain;
  const checkpoints = readFileSync(path.join(dir, entry.checkpoints), 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l));
  const erasures = readErasures(dir, entry, keys);
  let erased = 0;
  let frontier = new Frontier();
  let prev = GENESIS;
  let previousCheckpoint = 0;
  let seq = 0;
  if (entry.fromSeq > 1) {
    if (!entry.anchor) throw new Bad(chain, entry.fromSeq, 'the export starts after seq 1 without an anchor checkpoint');
    let a;
    try {
      a = checkpointPayload(entry.anchor.checkpoint, keys, chain);
    } catch (err) {
      throw new Bad(chain, entry.fromSeq - 1, `the anchor checkpoint: ${err.message}`);
    }
    frontier = new Frontier(entry.anchor.frontier);
    if (a.seq !== entry.fromSeq - 1 || frontier.size !== a.seq || frontier.root() !== a.root)
      throw new Bad(chain, a.seq, "the anchor frontier does not give the anchor checkpoint's root");
    prev = a.head;
    previousCheckpoint = a.seq;
    seq = a.seq;
  }
  let next = 0;
  const atCheckpoint = (record) => {
    const c = checkpoints[next];
    if (c === undefined || c.seq !== record.seq) return;
    next += 1;
    let p;
    try {
      p = checkpointPayload(c.jws, keys, chain);
    } catch (err) {
      throw new Bad(chain, c.seq, `the checkpoint: ${err.message}`);
    }
    if (p.seq !== c.seq) throw new Bad(chain, c.seq, 'the checkpoint was signed for another seq');
    if (p.prev !== previousCheckpoint)
      throw new Bad(chain, p.prev, `the checkpoint at seq ${p.prev} is missing (the checkpoint at seq ${c.seq} names it)`);
    if (p.head !== record.hash) throw new Bad(chain, c.seq, 'the record is not the one the signed checkpoint names');
    if (frontier.root() !== p.root) throw new Bad(chain, c.seq, 'the records up to here do not give the Merkle root the checkpoint signs');
    previousCheckpoint = c.seq;
  };

  for (const segment of entry.segments) {
    const file = path.join(dir, segment.file);
    const digest = createHash('sha256');
    const lines = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity })[Symbol.asyncIterator]();
    const nextRecord = async () => {
      for (let r = await lines.next(); !r.done; r = await lines.next()) {
        digest.update(`${r.value}\n`);
        if (r.value === '') continue;
        try {
          return JSON.parse(r.value);
        } catch {
          throw new Bad(chain, seq + 1, `a line of ${segment.file} is not JSON`);
        }
      }
      return undefined;
    };
    for (let record = await nextRecord(); record !== undefined; record = await nextRecord()) {
      const expected = seq + 1;
      if (record === null || typeof record !== 'object') throw new Bad(chain, expected, 'the line is not a record');
      if (record.chain !== chain) throw new Bad(chain, expected, 'the record belongs to another chain');
      if (record.seq !== expected) {
        if (typeof record.seq === 'number' && record.seq > expected) {
          const following = await nextRecord();
          if (following?.seq === expected)
            throw new Bad(chain, expected, `the records at seq ${expected} and ${record.seq} are out of order (reordered)`);
          throw new Bad(
            chain,
            expected,
            expected === record.seq - 1
              ? `record ${expected} is missing (removed)`
              : `records ${expected}-${record.seq - 1} are missing (removed)`,
          );
        }
        if (typeof record.seq === 'number' && record.seq < expected)
          throw new Bad(chain, record.seq, `a second record numbered ${record.seq} follows seq ${seq} (inserted or reordered)`);
        throw new Bad(chain, expected, 'the record has no valid seq');
      }
      if (record.prevHash !== prev)
        throw new Bad(
          chain,
          expected,
          'the record does not link to the record before it (that one was changed, or this one inserted or moved)',
        );
      if (record.erasedBy !== undefined) {
        const problem = erasureProblem(record, erasures);
        if (problem !== undefined) throw new Bad(chain, expected, problem);
        erased += 1;
      } else {
        let hash;
        try {
          hash = recordHash(record);
        } catch {
          hash = undefined;
        }
        if (hash !== record.hash) throw new Bad(chain, expected, 'the record was changed: its content does not match its hash');
      }
      prev = record.hash;
      seq = expected;
      frontier.push(leafHash(record.hash));
      atCheckpoint(record);
    }
    if (digest.digest('hex') !== segment.sha256)
      log(`note: ${segment.file} differs from the digest in manifest.json (its records were checked one by one above)`);
    if (seq !== segment.toSeq)
      throw new Bad(chain, seq + 1, `${segment.file} ends at seq ${seq}, the manifest says ${segment.toSeq}: records are missing`);
  }
  if (seq !== entry.toSeq)
    throw new Bad(chain, seq + 1, `the export ends at seq ${seq}, the manifest says ${entry.toSeq}: records are missing`);
  if (next < checkpoints.length)
    throw new Bad(chain, seq + 1, `the checkpoint at seq ${checkpoints[next].seq} has no record to seal (records were removed)`);
  if (previousCheckpoint !== entry.toSeq)
    throw new Bad(chain, entry.toSeq, 'the last record of the export is not sealed by a signed checkpoint');
  return { chain, records: seq - entry.fromSeq + 1, checkpoints: checkpoints.length, from: entry.fromSeq, to: seq, erased };
}

async function main(argv) {
  const args = argv.slice(2);
  const dir = args.find((a, i) => !a.startsWith('--') && (i === 0 || !['--kid', '--keys'].includes(args[i - 1])));
  const option = (name) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const quiet = args.includes('--quiet');
  const log = (line) => {
    if (!quiet) process.stdout.write(`${line}\n`);
  };
  if (dir === undefined) {
    process.stderr.write('usage: node verify-export.mjs <export folder> [--kid <key id>] [--keys <jwks.json>] [--quiet]\n');
    return 2;
  }
  let manifest;
  let keys;
  try {
    manifest = JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
    if (manifest.format !== 'snitflade-audit-export' || manifest.version !== 1)
      throw new Error('manifest.json is not a snitflade audit export (version 1)');
    keys = loadKeys(option('--keys') ?? path.join(dir, manifest.keys), option('--kid'));
  } catch (err) {
    process.stderr.write(`cannot read the export: ${err.message}\n`);
    return 2;
  }
  log(`gateway ${manifest.gateway}, exported ${manifest.exportedAt}`);
  log(
    `trusting checkpoint key(s): ${[...keys.keys()].join(', ')}${option('--kid') ? ' (pinned)' : ' (compare with the published key id, or pin it with --kid)'}`,
  );
  let failed = false;
  for (const entry of manifest.chains) {
    try {
      const r = await verifyChain(dir, entry, keys, log);
      log(
        `OK   chain ${r.chain}: records ${r.from}-${r.to} (${r.records}), ${r.checkpoints} signed checkpoints` +
          (r.erased > 0 ? `, ${r.erased} with their content erased under their purpose's retention (documented and due)` : ''),
      );
    } catch (err) {
      failed = true;
      if (err instanceof Bad) process.stdout.write(`FAIL ${err.message}\n`);
      else process.stdout.write(`FAIL chain ${entry.chain}: ${err.message}\n`);
    }
  }
  log(failed ? 'the export does NOT verify' : 'the export verifies');
  return failed ? 1 : 0;
}

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`verify-export: ${err?.message ?? err}\n`);
    process.exitCode = 2;
  },
);

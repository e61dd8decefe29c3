import { localText } from '../src/lib/local-text.js';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SignJWT, generateKeyPair, type CryptoKey } from 'jose';
import type { Client } from '../src/auth/clients.js';
import { mintRequestToken } from '../src/auth/mint.js';
import { ReplayGuard } from '../src/auth/replay-guard.js';
import { verifyRequestToken, type TokenCheck } from '../src/auth/token.js';
import { isGatewayError } from '../src/errors.js';
import { sha256b64url } from '../src/lib/digest.js';
import { openStore } from '../src/store/index.js';
import type { Store } from '../src/store/types.js';

/**
 * Request-token verification on its own (the e2e tests cover it through HTTP): the signature is
 * checked with Node's crypto.verify, the registered claims as jose checks them, and random
 * identifiers are not mistaken for CPR numbers.
 */

const AUDIENCE = 'snitflade-gateway';
const PATH = '/v1/queries/employment.citizen-status.v1';
const BODY = Buffer.from('{"cpr":"0101909901","fields":["benefit"]}');

let dir: string;
let store: Store;
let es256: { privateKey: CryptoKey; publicKey: CryptoKey };
let ed25519: { privateKey: CryptoKey; publicKey: CryptoKey };
let other: { privateKey: CryptoKey; publicKey: CryptoKey };

function client(keys: Client['signingKeys']): Client {
  return {
    id: 'sof-case-system',
    title: localText('test'),
    administration: 'SOF',
    roles: ['caseworker-system'],
    certificateSubject: 'sof-case-system',
    signingKeys: keys,
  };
}

function check(authorization: string, c: Client, over: Partial<TokenCheck> = {}): TokenCheck {
  return {
    authorization: `Bearer ${authorization}`,
    client: c,
    method: 'POST',
    path: PATH,
    body: BODY,
    audience: AUDIENCE,
    maxLifetimeSeconds: 300,
    clockToleranceSeconds: 30,
    replay: store.replay,
    ...over,
  };
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'OK';
  } catch (err) {
    return isGatewayError(err) ? err.code : `unexpected ${String(err)}`;
  }
}

/** A token with free-form claims, signed like a client would (for claims mintRequestToken will not write). */
async function signed(claims: Record<string, unknown>, key: CryptoKey = es256.privateKey, alg = 'ES256'): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({
    iss: 'sof-case-system',
    aud: AUDIENCE,
    iat: now,
    exp: now + 60,
    jti: `jti-${Math.random()}`,
    sub: 'sof-cw-0042',
    purpose: 'plan-coordination',
    case: 'SOF-2026-0001',
    htm: 'POST',
    htu: PATH,
    body_sha256: sha256b64url(BODY),
    ...claims,
  })
    .setProtectedHeader({ alg, typ: 'JWT', kid: alg === 'ES256' ? 'k-es' : 'k-ed' })
    .sign(key);
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'snitflade-token-'));
  store = await openStore({ kind: 'sqlite', file: path.join(dir, 'store.db') });
  es256 = await generateKeyPair('ES256');
  ed25519 = await generateKeyPair('EdDSA');
  other = await generateKeyPair('ES256');
});

afterAll(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const keys = (): Client['signingKeys'] => [
  { kid: 'k-es', alg: 'ES256', key: es256.publicKey },
  { kid: 'k-ed', alg: 'EdDSA', key: ed25519.publicKey },
];

describe('request token verification', () => {
  it('accepts a good ES256 token and a good EdDSA token', async () => {
    const c = client(keys());
    await expect(verifyRequestToken(check(await signed({}), c))).resolves.toMatchObject({
      caseworker: 'sof-cw-0042',
      purpose: 'plan-coordination',
    });
    await expect(verifyRequestToken(check(await signed({}, ed25519.privateKey, 'EdDSA'), c))).resolves.toMatchObject({
      issuer: 'sof-case-system',
    });
  });

  it('refuses a signature by another key, a changed payload and a truncated signature (TOKEN_SIGNATURE_INVALID)', async () => {
    const c = client(keys());
    expect(await codeOf(verifyRequestToken(check(await signed({}, other.privateKey), c)))).toBe('TOKEN_SIGNATURE_INVALID');
    const [h, , s] = (await signed({})).split('.');
    const forged = Buffer.from(JSON.stringify({ iss: 'sof-case-system', aud: AUDIENCE, iat: 1, exp: 2 })).toString('base64url');
    expect(await codeOf(verifyRequestToken(check(`${h}.${forged}.${s}`, c)))).toBe('TOKEN_SIGNATURE_INVALID');
    const good = await signed({});
    expect(await codeOf(verifyRequestToken(check(good.slice(0, -4), c)))).toBe('TOKEN_SIGNATURE_INVALID');
  });

  it('checks the registered claims as jose does: audience, presence, types and times', async () => {
    const c = client(keys());
    const now = Math.floor(Date.now() / 1000);
    expect(await codeOf(verifyRequestToken(check(await signed({ aud: 'someone-else' }), c)))).toBe('TOKEN_AUDIENCE_INVALID');
    expect(await codeOf(verifyRequestToken(check(await signed({ aud: ['x', AUDIENCE] }), c)))).toBe('OK');
    expect(await codeOf(verifyRequestToken(check(await signed({ aud: undefined }), c)))).toBe('TOKEN_CLAIM_MISSING');
    expect(await codeOf(verifyRequestToken(check(await signed({ exp: String(now + 60) }), c)))).toBe('TOKEN_CLAIM_MISSING');
    expect(await codeOf(verifyRequestToken(check(await signed({ iat: 'yesterday' }), c)))).toBe('TOKEN_CLAIM_MISSING');
    expect(await codeOf(verifyRequestToken(check(await signed({ nbf: now + 600 }), c)))).toBe('TOKEN_NOT_YET_VALID');
    expect(await codeOf(verifyRequestToken(check(await signed({ iat: now - 200, exp: now - 31 }), c)))).toBe('TOKEN_EXPIRED');
    // Within the clock tolerance an expired token still passes, as with jose.
    expect(await codeOf(verifyRequestToken(check(await signed({ iat: now - 100, exp: now - 20 }), c)))).toBe('OK');
  });

  it('accepts a random jti that holds a CPR-shaped digit run, and still refuses one in a caseworker id', async () => {
    const c = client(keys());
    // "ab123456-7890-...": a UUID like this matched the CPR pattern and was refused before.
    const jti = 'ab123456-7890-4abc-8def-0123456789ab';
    expect(await codeOf(verifyRequestToken(check(await signed({ jti }), c)))).toBe('OK');
    expect(await codeOf(verifyRequestToken(check(await signed({ jti }), c)))).toBe('TOKEN_REPLAYED');
    expect(await codeOf(verifyRequestToken(check(await signed({ sub: 'cw-0101909901' }), c)))).toBe('TOKEN_CLAIM_MISSING');
  });

  it('accepts a path that holds a random id with a CPR-shaped digit run (htu is compared with the path, not stored)', async () => {
    const c = client(keys());
    // A dead letter's id is a random UUID: about one in 200 holds such a run, and its re-drive was refused.
    const redrive = '/v1/notifications/dead-letters/ab123456-7890-4abc-8def-0123456789ab/redrive';
    expect(await codeOf(verifyRequestToken(check(await signed({ htu: redrive }), c, { path: redrive })))).toBe('OK');
    expect(await codeOf(verifyRequestToken(check(await signed({ htu: redrive }), c)))).toBe('TOKEN_REQUEST_MISMATCH');
  });

  it('accepts every token mintRequestToken makes, whatever random jti it draws', async () => {
    const c = client([{ kid: 'k-es', alg: 'ES256', key: es256.publicKey }]);
    const tokens = await Promise.all(
      Array.from({ length: 400 }, () =>
        mintRequestToken({
          clientId: 'sof-case-system',
          kid: 'k-es',
          key: es256.privateKey,
          audience: AUDIENCE,
          caseworker: 'sof-cw-0042',
          purpose: 'plan-coordination',
          caseRef: 'SOF-2026-0001',
          method: 'POST',
          path: PATH,
          body: BODY,
        }),
      ),
    );
    const codes = await Promise.all(tokens.map((t) => codeOf(verifyRequestToken(check(t, c)))));
    expect(codes.filter((x) => x !== 'OK')).toEqual([]);
  });
});

describe('replay: reserved in the process, claimed with the first audit record', () => {
  it('a ReplayGuard refuses a jti this process reserved, without touching the store, and names its replay key', async () => {
    const c = client(keys());
    const guard = new ReplayGuard();
    const commits = store.stats.commits;
    const token = await signed({});
    const verified = await verifyRequestToken(check(token, c, { replay: guard }));
    expect(verified.replayKey).toBe(`sof-case-system:${sha256b64url(verified.jti)}`);
    expect(await codeOf(verifyRequestToken(check(token, c, { replay: guard })))).toBe('TOKEN_REPLAYED');
    expect(store.stats.commits).toBe(commits);
    // The durable cache has not seen it: that claim is the caller's, with its decision record.
    expect(await codeOf(verifyRequestToken(check(token, c)))).toBe('OK');
  });

  it('forgets keys after they expire, and the oldest keys beyond its bound', () => {
    const guard = new ReplayGuard({ maxKeys: 3 });
    expect(guard.reserve('a', 1000, 0)).toBe(true);
    expect(guard.reserve('a', 1000, 500)).toBe(false);
    expect(guard.reserve('a', 3000, 1001)).toBe(true); // expired: may be reserved again
    for (const k of ['b', 'c', 'd']) expect(guard.reserve(k, 5000, 1002)).toBe(true);
    expect(guard.size).toBe(3);
    expect(guard.reserve('a', 5000, 1003)).toBe(true); // the oldest, forgotten for the bound
    expect(guard.reserve('d', 5000, 1003)).toBe(false);
    expect(() => new ReplayGuard({ maxKeys: 0 })).toThrow(TypeError);
  });
});

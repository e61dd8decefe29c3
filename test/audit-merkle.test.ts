/**
 * The Merkle tree of the audit trail against the Certificate Transparency reference values
 * (RFC 6962), and the checkpoint signature.
 */
import { generateKeyPairSync } from 'node:crypto';
import { CHECKPOINT_TYP, checkpointSigner, CheckpointInvalidError, CheckpointVerifier, publicKeyOf } from '../src/audit/checkpoint.js';
import {
  auditPath,
  auditPathRanges,
  decompose,
  EMPTY_ROOT,
  foldRange,
  leafHash,
  MerkleFrontier,
  rootOf,
  verifyInclusion,
  type HashedNode,
} from '../src/audit/merkle.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const unhex = (h: string): Buffer => Buffer.from(h, 'hex');

// RFC 6962 test vectors, as used by the certificate-transparency reference implementations.
const CT_DATA = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'].map(unhex);
const CT_ROOTS = [
  'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];
const CT_LEAVES = CT_DATA.map(leafHash);

describe('Merkle tree (RFC 6962)', () => {
  it('gives the reference tree heads for every size 0..8, from the definition and from the frontier', () => {
    expect(hex(EMPTY_ROOT)).toBe(CT_ROOTS[0]);
    const frontier = new MerkleFrontier();
    expect(hex(frontier.root())).toBe(CT_ROOTS[0]);
    for (let n = 1; n <= 8; n++) {
      expect(hex(rootOf(CT_LEAVES.slice(0, n)))).toBe(CT_ROOTS[n]);
      frontier.push(CT_LEAVES[n - 1] as Buffer);
      expect(hex(frontier.root())).toBe(CT_ROOTS[n]);
    }
  });

  it('gives the reference audit paths', () => {
    expect(auditPath(0, CT_LEAVES).map(hex)).toEqual([
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ]);
    expect(auditPath(5, CT_LEAVES).map(hex)).toEqual([
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ]);
    expect(auditPath(2, CT_LEAVES.slice(0, 3)).map(hex)).toEqual(['fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125']);
  });

  const many = Array.from({ length: 71 }, (_, i) => leafHash(Buffer.from([i, (i * 7) % 256])));

  it('proves every leaf of every tree size up to 70, and nothing else', () => {
    for (let size = 1; size < many.length; size++) {
      const leaves = many.slice(0, size);
      const root = rootOf(leaves);
      for (let i = 0; i < size; i++) {
        const path = auditPath(i, leaves);
        expect(verifyInclusion(i, size, leaves[i] as Buffer, path, root)).toBe(true);
        // Another leaf, another index, another size, a changed path: all refused.
        expect(verifyInclusion(i, size, leafHash(Buffer.from('forged')), path, root)).toBe(false);
        if (size > 1) expect(verifyInclusion((i + 1) % size, size, leaves[i] as Buffer, path, root)).toBe(false);
        expect(verifyInclusion(i, size + 1, leaves[i] as Buffer, path, rootOf(many.slice(0, size + 1)))).toBe(false);
        if (path.length > 0)
          expect(verifyInclusion(i, size, leaves[i] as Buffer, [...path.slice(0, -1), leafHash(Buffer.from('x'))], root)).toBe(false);
      }
    }
  });

  it('builds audit paths from perfect subtrees only, which is what stored nodes give', () => {
    for (let size = 1; size <= 40; size++) {
      for (let i = 0; i < size; i++) {
        for (const range of auditPathRanges(i, size)) {
          for (const n of range) expect(n.index * 2 ** n.level).toBeLessThan(size);
        }
      }
    }
    expect(decompose(8, 15)).toEqual([
      { level: 2, index: 2 },
      { level: 1, index: 6 },
      { level: 0, index: 14 },
    ]);
    expect(hex(foldRange(decompose(0, 7).map((n) => rootOf(many.slice(n.index * 2 ** n.level, (n.index + 1) * 2 ** n.level)))))).toBe(
      hex(rootOf(many.slice(0, 7))),
    );
  });

  it('the frontier reports each perfect subtree it completes, and survives a round trip through JSON', () => {
    const f = new MerkleFrontier();
    const completed: HashedNode[] = [];
    for (const leaf of many.slice(0, 13)) f.push(leaf, (n) => completed.push(n));
    expect(completed.map((n) => `${n.level}:${n.index}`)).toEqual(['1:0', '1:1', '2:0', '1:2', '1:3', '2:1', '3:0', '1:4', '1:5', '2:2']);
    expect(hex(completed.find((n) => n.level === 3)!.hash)).toBe(hex(rootOf(many.slice(0, 8))));
    const again = new MerkleFrontier(JSON.parse(JSON.stringify(f.toJSON())));
    expect(again.size).toBe(13);
    for (const leaf of many.slice(13, 30)) {
      f.push(leaf);
      again.push(leaf);
    }
    expect(hex(again.root())).toBe(hex(rootOf(many.slice(0, 30))));
    expect(() => new MerkleFrontier({ size: 13, nodes: f.toJSON().nodes })).toThrow(TypeError);
  });
});

describe('checkpoint signatures', () => {
  const pem = (): string =>
    generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  const payload = {
    v: 1 as const,
    gateway: 'snitflade-gateway',
    chain: 'gw1',
    seq: 8,
    head: 'a'.repeat(64),
    root: CT_ROOTS[8] as string,
    prev: 0,
    time: '2026-01-05T10:00:00.000Z',
  };

  it('signs an ES256 compact JWS with the key thumbprint as kid, which the verifier accepts', async () => {
    const signer = await checkpointSigner(pem());
    const jws = await signer.sign(payload);
    const header = JSON.parse(Buffer.from(jws.split('.')[0] as string, 'base64url').toString('utf8'));
    expect(header).toEqual({ alg: 'ES256', typ: CHECKPOINT_TYP, kid: signer.publicKey.kid });
    expect(signer.publicKey.kid).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await new CheckpointVerifier([signer.publicKey]).verify(jws)).toEqual(payload);
  });

  it('refuses a checkpoint of an untrusted key, a changed payload and a malformed one', async () => {
    const signer = await checkpointSigner(pem());
    const other = await checkpointSigner(pem());
    const verifier = new CheckpointVerifier([signer.publicKey]);
    await expect(verifier.verify(await other.sign(payload))).rejects.toBeInstanceOf(CheckpointInvalidError);
    const [h, , s] = (await signer.sign(payload)).split('.');
    const changed = Buffer.from(JSON.stringify({ ...payload, seq: 9 })).toString('base64url');
    await expect(verifier.verify(`${h}.${changed}.${s}`)).rejects.toThrow(/signature/);
    await expect(verifier.verify('not.a.jws!')).rejects.toBeInstanceOf(CheckpointInvalidError);
    await expect(signer.sign({ ...payload, root: 'xyz' })).rejects.toBeInstanceOf(CheckpointInvalidError);
    // A retired key still verifies the checkpoints it signed, when configured.
    const both = new CheckpointVerifier([signer.publicKey, await publicKeyOf(pem())]);
    expect((await both.verify(await signer.sign(payload))).seq).toBe(8);
  });
});

import { generateKeyPair, jwtVerify, SignJWT, decodeProtectedHeader } from 'jose';
import { jwsHeader, signatureValid, signCompactEs256 } from '../src/auth/jws.js';

const parts = (token: string): { input: Buffer; signature: Buffer } => {
  const dot = token.lastIndexOf('.');
  return { input: Buffer.from(token.slice(0, dot), 'latin1'), signature: Buffer.from(token.slice(dot + 1), 'base64url') };
};

describe('compact JWS with crypto.sign and crypto.verify', () => {
  it('signs an ES256 token that jose verifies, with the header and claims given', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    const payload = {
      iss: 'snitflade-gateway',
      aud: 'bif-jobcentre-system',
      iat: 1_790_000_000,
      exp: 1_790_000_060,
      jti: 'j-1',
      purpose: 'plan-coordination',
      htu: '/x',
    };
    const token = signCompactEs256(jwsHeader({ alg: 'ES256', typ: 'JWT' }), payload, privateKey);
    const verified = await jwtVerify(token, publicKey, { currentDate: new Date(1_790_000_010_000), audience: 'bif-jobcentre-system' });
    expect(verified.protectedHeader).toEqual({ alg: 'ES256', typ: 'JWT' });
    expect(verified.payload).toEqual(payload);
  });

  it('accepts a signature jose made and refuses a changed input, a changed signature and a short one', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    const token = await new SignJWT({ a: 1 }).setProtectedHeader({ alg: 'ES256' }).sign(privateKey);
    const { input, signature } = parts(token);
    expect(signatureValid('ES256', input, publicKey, signature)).toBe(true);

    const otherInput = Buffer.from(input);
    otherInput[otherInput.length - 1] = otherInput[otherInput.length - 1]! ^ 1;
    expect(signatureValid('ES256', otherInput, publicKey, signature)).toBe(false);
    const otherSignature = Buffer.from(signature);
    otherSignature[10] = otherSignature[10]! ^ 1;
    expect(signatureValid('ES256', input, publicKey, otherSignature)).toBe(false);
    expect(signatureValid('ES256', input, publicKey, signature.subarray(0, 63))).toBe(false);
  });

  it('checks EdDSA signatures, and says no (never throws) when the key does not fit the algorithm', async () => {
    const ed = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
    const token = await new SignJWT({ a: 1 }).setProtectedHeader({ alg: 'EdDSA' }).sign(ed.privateKey);
    expect(decodeProtectedHeader(token).alg).toBe('EdDSA');
    const { input, signature } = parts(token);
    expect(signatureValid('EdDSA', input, ed.publicKey, signature)).toBe(true);
    const flipped = Buffer.from(signature);
    flipped[0] = flipped[0]! ^ 1;
    expect(signatureValid('EdDSA', input, ed.publicKey, flipped)).toBe(false);

    const ec = await generateKeyPair('ES256');
    expect(signatureValid('ES256', input, ed.publicKey, signature)).toBe(false);
    expect(signatureValid('EdDSA', input, ec.publicKey, signature)).toBe(false);
  });
});

import os from 'node:os';
import path from 'node:path';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { isSyntheticCpr, isValidCpr } from '../src/lib/cpr.js';
import { canonicalJson } from '../src/lib/digest.js';
import { loadConfig } from '../src/config/config.js';
import { LoadError } from '../src/lib/load-error.js';
import { createLogger, scrub } from '../src/log.js';
import { toProblem, GatewayError, ERRORS } from '../src/errors.js';
import { denialCode } from '../src/audit/reasons.js';

describe('CPR numbers', () => {
  it.each([
    ['0101709901', true],
    ['2902009901', true],
    ['2902019901', false],
    ['3104709901', false],
    ['0013709901', false],
    ['010170990', false],
    ['01017099O1', false],
  ])('%s valid in form: %s', (cpr, ok) => {
    expect(isValidCpr(cpr)).toBe(ok);
  });
  it('recognises the synthetic population by its 99NN serial', () => {
    expect(isSyntheticCpr('0101709901')).toBe(true);
    expect(isSyntheticCpr('0101701234')).toBe(false);
  });
});

describe('canonical JSON', () => {
  it('sorts keys at every level and drops undefined', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { y: 2, x: 1 }], c: undefined } })).toBe('{"a":{"d":[1,{"x":1,"y":2}]},"b":1}');
  });
  it('refuses values it cannot encode twice the same way', () => {
    expect(() => canonicalJson({ a: Number.NaN })).toThrow(TypeError);
    expect(() => canonicalJson({ a: () => 1 })).toThrow(TypeError);
  });
});

describe('configuration', () => {
  it('layers defaults, environment and overrides, and freezes the result', () => {
    const c = loadConfig({
      root: '/srv/snitflade',
      env: { SNITFLADE_PORT: '9443', DATABASE_URL: 'postgres://u@db/x' },
      overrides: { instanceId: 'gw7' },
    });
    expect(c.listen.port).toBe(9443);
    expect(c.store).toEqual({ kind: 'postgres', url: 'postgres://u@db/x' });
    expect(c.instanceId).toBe('gw7');
    expect(Object.isFrozen(c.listen)).toBe(true);
  });
  it('stops start-up with a message naming the setting', () => {
    expect(() => loadConfig({ root: '/x', env: { SNITFLADE_PORT: 'eighty' } })).toThrow(/SNITFLADE_PORT.*whole number/);
    expect(() => loadConfig({ root: '/x', overrides: { tokens: { maxLifetimeSeconds: 3600 } } })).toThrow(LoadError);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'cfg-'));
    writeFileSync(path.join(dir, 'c.json'), '{"upstream":{"timeoutMs":0}}');
    expect(() => loadConfig({ root: '/x', env: { SNITFLADE_CONFIG: path.join(dir, 'c.json') } })).toThrow(
      /c\.json at \/upstream\/timeoutMs/,
    );
  });
});

describe('operational logs', () => {
  it('scrub removes CPR-shaped numbers and tokens', () => {
    expect(scrub('cpr 0101709901 and 010170-9901 token eyJhbGciOi.eyJzdWIiOi.sig')).toBe(
      'cpr [redacted] and [redacted] token [redacted-token]',
    );
  });
  it('never writes a CPR number even when code passes one by mistake', async () => {
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'log-')), 'x.log');
    const logger = createLogger({ level: 'info', console: false, file });
    logger.info('looked up 0101709901', { cpr: '0101709901', nested: 'x 0101709901' });
    await new Promise<void>((resolve) => logger.on('finish', () => resolve()).end());
    const text = readFileSync(file, 'utf8');
    expect(text).toContain('[redacted]');
    expect(text).not.toContain('0101709901');
  });
});

describe('problem+json', () => {
  it('turns an unknown error into a bland INTERNAL problem without its message', () => {
    const p = toProblem(new Error('secret detail at /src/x.ts:1'), 'req-1');
    expect(p).toMatchObject({ status: 500, code: 'INTERNAL', requestId: 'req-1' });
    expect(JSON.stringify(p)).not.toContain('secret');
  });
  it('gives a refusal for consent alone its own code (CONSENT_REQUIRED), any other denial POLICY_DENIED', () => {
    expect(denialCode(['CONSENT_MISSING'])).toBe('CONSENT_REQUIRED');
    expect(denialCode(['CONSENT_WITHDRAWN', 'CONSENT_SCOPE'])).toBe('CONSENT_REQUIRED');
    expect(denialCode(['CONSENT_MISSING', 'RELATION_MISSING'])).toBe('POLICY_DENIED');
    expect(denialCode(['NO_POLICY'])).toBe('POLICY_DENIED');
    expect(denialCode([])).toBe('POLICY_DENIED');
    expect(toProblem(new GatewayError('CONSENT_REQUIRED', { reasons: ['CONSENT_MISSING'] }))).toMatchObject({
      status: 403,
      code: 'CONSENT_REQUIRED',
      reasons: ['CONSENT_MISSING'],
      type: 'urn:snitflade:problem:consent-required',
    });
    expect(ERRORS.POLICY_DENIED.detail).not.toMatch(/no policy permits/i);
    expect(ERRORS.POLICY_DENIED.title).not.toMatch(/no policy/i);
  });
  it('carries code, reasons and audit id of a refusal', () => {
    const e = new GatewayError('POLICY_DENIED', { reasons: ['NO_POLICY'] });
    e.auditId = 'a-1';
    expect(toProblem(e)).toMatchObject({
      status: 403,
      code: 'POLICY_DENIED',
      reasons: ['NO_POLICY'],
      auditId: 'a-1',
      type: 'urn:snitflade:problem:policy-denied',
    });
  });
});

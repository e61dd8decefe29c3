import { readdirSync } from 'node:fs';
import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { catalogueEntry, openApiDocument } from '../src/contracts/catalogue.js';
import { loadContracts } from '../src/contracts/registry.js';
import { checkSchemaSafety } from '../src/contracts/safety.js';
import { LoadErrors, type LoadError } from '../src/lib/load-error.js';

const ROOT = process.cwd();
const SCHEMAS = path.join(ROOT, 'schemas');
const BROKEN = path.join(ROOT, 'test', 'fixtures', 'contracts-broken');

/** The LoadErrors a broken fixture folder produces. */
function loadErrors(fixture: string): readonly LoadError[] {
  try {
    loadContracts(path.join(BROKEN, fixture));
  } catch (err) {
    expect(err).toBeInstanceOf(LoadErrors);
    return (err as LoadErrors).errors;
  }
  throw new Error(`fixture ${fixture} loaded without errors`);
}

describe('the repository contracts', () => {
  const registry = loadContracts(SCHEMAS);
  const status = registry.get('employment.citizen-status.v1')!;
  const summary = registry.get('social.coordination-summary.v1')!;

  it('loads every contract in the folder, sorted by id, with their provider, version and fields in order', () => {
    const files = readdirSync(SCHEMAS)
      .filter((f) => f.endsWith('.json'))
      .map((f) => f.replace(/\.json$/, ''))
      .sort((a, b) => a.localeCompare(b));
    expect(registry.list().map((c) => c.id)).toEqual(files);
    expect(files).toEqual(expect.arrayContaining(['employment.citizen-status.v1', 'social.coordination-summary.v1']));
    expect(status).toMatchObject({
      version: 1,
      kind: 'query',
      provider: { administration: 'BIF', system: 'bif-jobcentre-system' },
      file: path.join('schemas', 'employment.citizen-status.v1.json'),
    });
    expect(status.fieldNames).toEqual([
      'targetGroup',
      'benefit',
      'incomeSupport',
      'jobcentreUnit',
      'caseworkerContact',
      'nextMeeting',
      'nextMeetingDate',
      'sanctions',
      'sanctionInForceSince',
    ]);
    expect(summary.provider).toEqual({ administration: 'SOF', system: 'sof-case-system' });
    expect(summary.fieldNames).toEqual([
      'openSocialCase',
      'socialCaseworkerContact',
      'supportContact',
      'actionPlan',
      'efforts',
      'socialEfforts',
      'healthEfforts',
    ]);
    expect(summary.fields.efforts!.category).toBe('health');
    expect(summary.fields.socialEfforts!.category).toBe('social');
    expect(summary.fields.healthEfforts!.category).toBe('health');
    expect(summary.fields.supportContact!.category).toBe('health');
    expect(summary.fields.socialCaseworkerContact!.category).toBe('contact');
    for (const c of registry.list()) for (const n of c.fieldNames) expect(c.fields[n]!.label.da && c.fields[n]!.label.en).toBeTruthy();
  });

  it('labels every field that can reveal health as health, beside an ordinary field for what reveals nothing', () => {
    // [contract, field that can reveal health, ordinary field beside it (or none), its category]
    const pairs: [string, string, string | null, string | null][] = [
      ['employment.citizen-status.v1', 'benefit', 'incomeSupport', 'employment'],
      ['employment.citizen-status.v1', 'nextMeeting', 'nextMeetingDate', 'employment'],
      ['employment.coordination-overview.v1', 'benefit', 'incomeSupport', 'employment'],
      ['employment.coordination-overview.v1', 'upcomingMeetings', 'upcomingMeetingDates', 'employment'],
      ['employment.job-plan-summary.v1', 'jobGoal', 'jobGoalArea', 'plan'],
      ['employment.summons-copy.v1', 'meetingKind', null, null],
      ['employment.sanction-notice.v1', 'benefit', null, null],
      ['social.coordination-summary.v1', 'supportContact', 'socialCaseworkerContact', 'contact'],
      ['social.coordination-overview.v1', 'supportContact', 'socialCaseworkerContact', 'contact'],
      ['social.coordination-summary.v1', 'healthEfforts', 'socialEfforts', 'social'],
      ['social.coordination-overview.v1', 'healthEfforts', 'socialEfforts', 'social'],
    ];
    for (const [id, revealing, ordinary, category] of pairs) {
      const c = registry.get(id)!;
      expect([id, revealing, c.fields[revealing]!.category]).toEqual([id, revealing, 'health']);
      if (ordinary !== null) expect([id, ordinary, c.fields[ordinary]!.category]).toEqual([id, ordinary, category]);
    }
    // The ordinary fields hold no value that would single out a health-revealing kind.
    const schema = (id: string, field: string) =>
      (registry.get(id)!.responseSchema as { properties: Record<string, { enum?: unknown[] }> }).properties[field]!;
    expect(schema('employment.citizen-status.v1', 'incomeSupport').enum).toEqual(['municipal-benefit', 'unemployment-insurance']);
    expect(schema('employment.job-plan-summary.v1', 'jobGoalArea').enum).toEqual(['employment', 'education', 'clarification', null]);
    // The meetings' dates carry no kind of meeting (a rehabilitation team meeting reveals health).
    expect(schema('employment.citizen-status.v1', 'nextMeetingDate')).toEqual({ type: ['string', 'null'], format: 'date' });
    expect(schema('employment.coordination-overview.v1', 'upcomingMeetingDates')).toEqual({
      type: 'array',
      maxItems: 10,
      items: { type: 'string', format: 'date' },
    });
  });

  it('accepts a valid request and refuses a bad CPR number, unknown fields and extra properties', () => {
    expect(status.validateRequest({ cpr: '0101909912', fields: ['benefit', 'sanctions'] })).toBe(true);
    expect(status.validateRequest({ cpr: '3102909912', fields: ['benefit'] })).toBe(false); // 31 February
    expect(status.validateRequest({ cpr: '0101909912', fields: ['diagnosis'] })).toBe(false);
    expect(status.validateRequest({ cpr: '0101909912', fields: [] })).toBe(false);
    expect(status.validateRequest({ cpr: '0101909912', fields: ['benefit', 'benefit'] })).toBe(false);
    expect(status.validateRequest({ cpr: '0101909912', fields: ['benefit'], name: 'x' })).toBe(false);
    expect(status.validateRequest({ fields: ['benefit'] })).toBe(false);
    expect(summary.validateRequest({ cpr: '0101909912', fields: ['efforts'] })).toBe(true);
  });

  it('validates provider answers against the response schema, nested objects included', () => {
    const answer = {
      targetGroup: 'activity-ready',
      benefit: 'cash-benefit',
      jobcentreUnit: 'Jobcenter København, Nord',
      caseworkerContact: { name: 'Sagsbehandler A', phone: '+45 00 00 00 00', email: 'a@example.invalid' },
      nextMeeting: { date: '2025-03-01', kind: 'follow-up' },
      sanctions: [{ date: '2025-01-15', type: 'reduction', amountDkk: 1200 }],
    };
    expect(status.validateResponse(answer)).toBe(true);
    expect(status.validateResponse({ ...answer, nextMeeting: null, sanctions: [] })).toBe(true);
    expect(status.validateResponse({ ...answer, nextMeeting: { date: '2025-02-30', kind: 'follow-up' } })).toBe(false);
    expect(status.validateResponse({ ...answer, caseworkerContact: { ...answer.caseworkerContact, cpr: '0101909912' } })).toBe(false);
    expect(status.validateResponse({ ...answer, sanctions: [{ date: '2025-01-15', type: 'reduction', amountDkk: -1 }] })).toBe(false);
    expect(status.validateResponse({ ...answer, benefit: 'disability-pension' })).toBe(false);
    expect(
      summary.validateResponse({
        openSocialCase: true,
        supportContact: null,
        actionPlan: { exists: true, created: '2024-05-01', nextReview: null },
        efforts: ['mentor', 'housing-support'],
      }),
    ).toBe(true);
    expect(summary.validateResponse({ efforts: ['diagnosis'] })).toBe(false);
    // Each effort with its period; the social list cannot carry a treatment, nor the health list housing.
    const periods = {
      socialEfforts: [{ kind: 'housing-support', from: '2025-03-01', to: null }],
      healthEfforts: [{ kind: 'addiction-treatment', from: '2025-09-01', to: '2026-02-28' }],
    };
    expect(summary.validateResponse(periods)).toBe(true);
    expect(summary.validateResponse({ socialEfforts: [{ kind: 'addiction-treatment', from: '2025-09-01', to: null }] })).toBe(false);
    expect(summary.validateResponse({ healthEfforts: [{ kind: 'housing-support', from: '2025-09-01', to: null }] })).toBe(false);
    expect(summary.validateResponse({ socialEfforts: [{ kind: 'mentor', from: '2025-09-01' }] })).toBe(false);
    expect(summary.validateResponse({ socialEfforts: ['mentor'] })).toBe(false);
    expect(summary.validateResponse({ actionPlan: { exists: false } })).toBe(false);
  });

  it('is frozen', () => {
    expect(Object.isFrozen(registry)).toBe(true);
    expect(Object.isFrozen(status)).toBe(true);
    expect(Object.isFrozen(status.fields.benefit)).toBe(true);
    expect(Object.isFrozen(status.responseSchema)).toBe(true);
    expect(Object.isFrozen(registry.list())).toBe(true);
    expect(registry.get('employment.citizen-status.v9')).toBeUndefined();
  });

  it('describes each contract in the catalogue without compiled parts', () => {
    const entry = catalogueEntry(summary);
    expect(JSON.parse(JSON.stringify(entry))).toEqual(entry);
    expect(entry).toMatchObject({
      id: 'social.coordination-summary.v1',
      version: 1,
      kind: 'query',
      path: '/v1/queries/social.coordination-summary.v1',
      provider: { administration: 'SOF' },
    });
    expect(entry.fields.map((f) => [f.name, f.category, f.special])).toEqual([
      ['openSocialCase', 'social', false],
      ['socialCaseworkerContact', 'contact', false],
      ['supportContact', 'health', true],
      ['actionPlan', 'plan', false],
      ['efforts', 'health', true],
      ['socialEfforts', 'social', false],
      ['healthEfforts', 'health', true],
    ]);
    expect(entry.request).toEqual(summary.requestSchema);
  });

  it('produces an OpenAPI 3.1 document with one path per contract, both credentials and problem+json errors', () => {
    const doc = openApiDocument(registry, { serverUrl: 'https://localhost:8443' }) as {
      openapi: string;
      servers: { url: string }[];
      paths: Record<string, { post: { security: unknown; responses: Record<string, { content: Record<string, { schema: unknown }> }> } }>;
      components: { schemas: Record<string, unknown>; securitySchemes: Record<string, { type: string; scheme?: string }> };
    };
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.servers).toEqual([{ url: 'https://localhost:8443' }]);
    expect(Object.keys(doc.paths).sort()).toEqual(
      registry
        .list()
        .map((c) => `/v1/${c.kind === 'query' ? 'queries' : 'notifications'}/${c.id}`)
        .sort(),
    );
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/v1/queries/employment.citizen-status.v1', '/v1/queries/social.coordination-summary.v1']),
    );
    expect(doc.components.securitySchemes.mutualTLS!.type).toBe('mutualTLS');
    expect(doc.components.securitySchemes.requestToken).toMatchObject({ type: 'http', scheme: 'bearer' });
    const op = doc.paths['/v1/queries/employment.citizen-status.v1']!.post;
    expect(op.security).toEqual([{ mutualTLS: [], requestToken: [] }]);
    expect(Object.keys(op.responses['403']!.content)).toEqual(['application/problem+json']);
    const envelope = op.responses['200']!.content['application/json']!.schema as { properties: Record<string, unknown> };
    expect(envelope.properties.data).toEqual({ $ref: '#/components/schemas/employment.citizen-status.v1.response' });
    expect(doc.components.schemas['employment.citizen-status.v1.response']).toEqual(
      registry.get('employment.citizen-status.v1')!.responseSchema,
    );
    // Every $ref resolves, and the component schemas compile as draft 2020-12.
    const refs = JSON.stringify(doc).match(/"\$ref":"#\/components\/schemas\/[^"]+"/g) ?? [];
    for (const r of refs) expect(doc.components.schemas[r.slice('"$ref":"#/components/schemas/'.length, -1)]).toBeDefined();
    const ajv = new Ajv2020({ strict: false });
    ajv.addFormat('cpr', true).addFormat('date', true).addFormat('email', true).addFormat('uri-reference', true);
    for (const s of Object.values(doc.components.schemas)) expect(() => ajv.compile(s as object)).not.toThrow();
    expect(JSON.stringify(doc)).not.toMatch(/validate/);
  });

  it('loads a notification contract, offered under /v1/notifications', () => {
    const registry = loadContracts(path.join(ROOT, 'test', 'fixtures', 'contracts-notification'));
    const notice = registry.get('employment.sanction-notice.v1')!;
    expect(notice.kind).toBe('notification');
    expect(notice.fieldNames).toEqual(['date', 'type']);
    expect(catalogueEntry(notice).path).toBe('/v1/notifications/employment.sanction-notice.v1');
  });
});

describe('refusing broken contracts (file, line and place named)', () => {
  const fixtureFile = (fixture: string, name = 'demo.status.v1.json'): string =>
    path.join('test', 'fixtures', 'contracts-broken', fixture, name);

  it('refuses an object schema without additionalProperties: false', () => {
    const errors = loadErrors('no-additional-properties');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ file: fixtureFile('no-additional-properties'), path: '/response/properties/contact', line: 20 });
    expect(errors[0]!.message).toContain('additionalProperties');
    expect(errors[0]!.message).toMatch(
      /^test\/fixtures\/contracts-broken\/no-additional-properties\/demo\.status\.v1\.json:20 at \/response\/properties\/contact: /,
    );
  });

  it('refuses a field without a category', () => {
    const errors = loadErrors('field-without-category');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ path: '/fields/unit', line: 22 });
    expect(errors[0]!.problem).toBe('missing required property "category"');
  });

  it('refuses an id without a version and an id that does not match its file name', () => {
    const errors = loadErrors('bad-id');
    expect(errors.map((e) => [e.file, e.path, e.line])).toEqual([
      [fixtureFile('bad-id', 'demo.misnamed.v1.json'), '/id', 2],
      [fixtureFile('bad-id'), '/id', 2],
    ]);
    expect(errors[0]!.problem).toContain('name the file "demo.other.v1.json"');
    expect(errors[1]!.problem).toContain('must match pattern');
  });

  it('refuses unbounded strings, a pattern without maxLength and a list without maxItems', () => {
    const errors = loadErrors('unbounded');
    expect(errors.map((e) => [e.path, e.line])).toEqual([
      ['/response/properties/note', 20],
      ['/response/properties/code', 21],
      ['/response/properties/tags', 22],
    ]);
    expect(errors[0]!.problem).toContain('maxLength');
    expect(errors[1]!.problem).toContain('"pattern" but no "maxLength"');
    expect(errors[2]!.problem).toContain('maxItems');
  });

  it('refuses a response property without a field entry and a field without a property', () => {
    const errors = loadErrors('fields-mismatch');
    expect(errors.map((e) => [e.path, e.line])).toEqual([
      ['/request/properties/fields', 13], // its enum lacks "diagnosis"
      ['/response/properties/diagnosis', 21],
      ['/fields/benefit', 26],
    ]);
  });

  it('refuses a request without a cpr of format cpr and a fields list that is not the response fields', () => {
    const errors = loadErrors('request-fields');
    expect(errors.map((e) => e.path)).toEqual(['/request', '/request/properties/fields']);
    expect(errors[0]!.problem).toContain('"format": "cpr"');
    expect(errors[1]!.problem).toContain('"minItems": 1');
    expect(errors[1]!.problem).toContain('"uniqueItems": true');
    expect(errors[1]!.problem).toContain('"enum": ["unit"]');
  });

  it('refuses a schema Ajv strict mode rejects (a misspelt keyword), at the keyword', () => {
    const errors = loadErrors('strict-mode');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ path: '/response/properties/unit/maxlenght', line: 19 });
    expect(errors[0]!.problem).toContain('unknown keyword "maxlenght"; did you mean "maxLength"?');
  });

  it('refuses a JSON syntax error with its line', () => {
    const errors = loadErrors('syntax');
    expect(errors).toHaveLength(1);
    expect(errors[0]!.line).toBe(5);
    expect(errors[0]!.problem).toMatch(/^JSON syntax error/);
  });

  it('reports every broken file in one run', () => {
    let caught: unknown;
    try {
      loadContracts(path.join(BROKEN, 'bad-id'));
    } catch (err) {
      caught = err;
    }
    expect((caught as Error).message).toMatch(/^2 problem\(s\)/);
  });

  it('refuses a folder that does not exist', () => {
    expect(() => loadContracts(path.join(BROKEN, 'no-such-folder'))).toThrow(/cannot read the contracts folder/);
  });
});

describe('schema safety rules', () => {
  it('accepts bounded schemas and names each unsafe place', () => {
    expect(
      checkSchemaSafety({
        type: 'object',
        additionalProperties: false,
        properties: { d: { type: ['string', 'null'], format: 'date' }, e: { enum: ['a'] } },
      }),
    ).toEqual([]);
    expect(checkSchemaSafety({ type: 'object', additionalProperties: false, properties: { any: {} } })).toEqual([
      { pointer: '/properties/any', problem: expect.stringContaining('accepts any value') },
    ]);
    expect(
      checkSchemaSafety({ type: 'object', additionalProperties: false, properties: { e: { type: 'string', format: 'email' } } })[0]!
        .problem,
    ).toContain('format "email" is not of bounded length');
    expect(checkSchemaSafety({ anyOf: [{ type: 'object', properties: {} }, { type: 'null' }] })).toEqual([
      { pointer: '/anyOf/0', problem: expect.stringContaining('additionalProperties') },
    ]);
  });
});

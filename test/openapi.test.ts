import { jest } from '@jest/globals';
import type { Router } from 'express';
import request from 'supertest';
import { citizenReportSchema } from '../src/audit/dpo-access.js';
import { auditSearchSchema } from '../src/audit/search.js';
import { recordConsentSchema } from '../src/consent/requests.js';
import { contractPath } from '../src/contracts/catalogue.js';
import { createApp } from '../src/server/app.js';
import { GATEWAY_OPERATIONS } from '../src/server/openapi.js';
import { startTestEnv, tls, type TestEnv } from './support/env.js';

jest.setTimeout(60_000);

let env: TestEnv;
beforeAll(async () => {
  env = await startTestEnv({ name: 'openapi', simulators: false });
});
afterAll(async () => {
  await env?.close();
});

interface Layer {
  readonly route?: { readonly path: string; readonly methods: Record<string, boolean> };
  readonly handle: { readonly stack?: readonly Layer[] };
  readonly slash?: boolean;
}

/**
 * Method and path of every route the app serves, as OpenAPI writes paths ({id} for :id). Routers
 * mounted under a path of their own (the DPO's HTML pages at /dpo) are left out: they are not
 * part of the JSON API.
 */
function servedRoutes(stack: readonly Layer[]): string[] {
  const out: string[] = [];
  for (const layer of stack) {
    if (layer.route) {
      const path = layer.route.path.replace(/:([A-Za-z]+)/g, '{$1}');
      for (const [method, on] of Object.entries(layer.route.methods))
        if (on && method !== '_all') out.push(`${method.toUpperCase()} ${path}`);
    } else if (layer.handle.stack && layer.slash !== false) {
      out.push(...servedRoutes(layer.handle.stack));
    }
  }
  return out;
}

describe('GET /openapi.json', () => {
  it("describes every route the gateway serves: each contract's exchange path and the gateway's own API", async () => {
    const creds = tls('sof-case-system');
    const res = await request(env.url).get('/openapi.json').ca(creds.ca).cert(creds.cert).key(creds.key);
    expect(res.status).toBe(200);
    const doc = res.body as { paths: Record<string, Record<string, unknown>> };
    const described = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`));

    const app = createApp(env.gateway) as unknown as { router: Router & { stack: Layer[] } };
    const served = servedRoutes(app.router.stack);
    // The exchange routes are one path per contract in force.
    const exchange = ['POST /v1/queries/{contractId}', 'POST /v1/notifications/{contractId}'];
    expect(served).toEqual(expect.arrayContaining(exchange));
    const contracts = env.gateway.rules().contracts.list();
    expect(described).toEqual(expect.arrayContaining(contracts.map((c) => `POST ${contractPath(c)}`)));
    // Every other route is in the document, and the document names no route that is not served.
    const own = served.filter((r) => !exchange.includes(r)).sort();
    expect(own).toEqual(GATEWAY_OPERATIONS.map(([m, p]) => `${m} ${p}`).sort());
    expect(described.filter((r) => !contracts.some((c) => r === `POST ${contractPath(c)}`)).sort()).toEqual(own);
  });

  it('gives each call of the own API the request schema its route validates with, and the credentials it needs', async () => {
    const creds = tls('sof-case-system');
    const doc = (await request(env.url).get('/openapi.json').ca(creds.ca).cert(creds.cert).key(creds.key)).body as {
      paths: Record<
        string,
        Record<
          string,
          { security: unknown[]; description: string; requestBody?: { content: Record<string, { schema: { $ref: string } }> } }
        >
      >;
      components: { schemas: Record<string, unknown> };
    };
    const schemaOf = (path: string): unknown =>
      doc.components.schemas[doc.paths[path]!.post!.requestBody!.content['application/json']!.schema.$ref.split('/').pop()!];
    expect(schemaOf('/v1/consents')).toEqual(JSON.parse(JSON.stringify(recordConsentSchema)));
    expect(schemaOf('/v1/audit/search')).toEqual(JSON.parse(JSON.stringify(auditSearchSchema)));
    expect(schemaOf('/v1/audit/citizen-report')).toEqual(JSON.parse(JSON.stringify(citizenReportSchema)));
    expect(doc.paths['/v1/audit/search']!.post!.security).toEqual([{ mutualTLS: [], requestToken: [] }]);
    expect(doc.paths['/v1/audit/search']!.post!.description).toContain('Roles: dpo.');
    expect(doc.paths['/v1/contracts']!.get!.security).toEqual([{ mutualTLS: [] }]);
    expect(doc.paths['/healthz']!.get!.security).toEqual([{}]);
  });
});

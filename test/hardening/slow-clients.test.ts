/**
 * Slow clients cannot exhaust the server (slow-loris): connections that never finish their TLS
 * handshake, their headers or their body are closed after a deadline (408 REQUEST_TIMEOUT where
 * HTTP has started), while normal requests go on being served. Open connections are capped; once
 * the deadlines free the slots, the server serves again.
 */
import { jest } from '@jest/globals';
import net from 'node:net';
import tls from 'node:tls';
import { population } from '../../src/simulators/population.js';
import { startTestEnv, type TestEnv } from '../support/env.js';
import { SERVED_BY_BOTH, withRelations } from '../support/relations.js';
import { clientCreds, evidence, send, tokenWith, type Creds } from './support.js';

jest.setTimeout(60_000);

const STATUS = '/v1/queries/employment.citizen-status.v1';
const shared = population().find((c) => c.employment && c.social && !c.extras.employment && !c.extras.social)!;

interface SlowConnection {
  /** Resolves, once the server closed the connection, with everything it sent. */
  readonly closed: Promise<string>;
  stop(): void;
}

/** A mutual-TLS connection that sends `prefix` at once, then `text` one byte every `intervalMs`. */
function trickle(port: number, creds: Creds, text: string, intervalMs: number, prefix = ''): SlowConnection {
  const socket = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca: creds.ca, cert: creds.cert, key: creds.key });
  const chunks: Buffer[] = [];
  let i = 0;
  let timer: NodeJS.Timeout | undefined;
  socket.on('secureConnect', () => {
    if (prefix !== '') socket.write(prefix);
    timer = setInterval(() => {
      if (i < text.length && socket.writable) socket.write(text[i++]!);
    }, intervalMs);
  });
  socket.on('data', (c: Buffer) => chunks.push(c));
  socket.on('error', () => undefined);
  const closed = new Promise<string>((resolve) =>
    socket.on('close', () => {
      clearInterval(timer);
      resolve(Buffer.concat(chunks).toString('utf8'));
    }),
  );
  return { closed, stop: () => socket.destroy() };
}

/** A TCP connection to the TLS port that sends `bytes` (maybe nothing) and then waits. */
function silentTcp(port: number, bytes: Buffer): SlowConnection {
  const socket = net.connect(port, '127.0.0.1', () => socket.write(bytes));
  socket.on('error', () => undefined);
  const closed = new Promise<string>((resolve) => socket.on('close', () => resolve('')));
  return { closed, stop: () => socket.destroy() };
}

async function normalQuery(env: TestEnv): Promise<number> {
  const body = JSON.stringify({ cpr: shared.cpr, fields: ['targetGroup'] });
  const res = await send(env.url, {
    path: STATUS,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${tokenWith('sof-case-system', STATUS, body)}` },
    body,
    creds: clientCreds('sof-case-system'),
    fresh: true,
  });
  return res.status;
}

async function allClosed(connections: readonly SlowConnection[], withinMs: number): Promise<string[]> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`slow connections still open after ${withinMs} ms`)), withinMs);
  });
  try {
    return await Promise.race([Promise.all(connections.map((c) => c.closed)), deadline]);
  } finally {
    clearTimeout(timer);
    for (const c of connections) c.stop();
  }
}

describe('slow clients', () => {
  let env: TestEnv;
  beforeAll(async () => {
    env = await startTestEnv({
      name: 'hardening-slow',
      overrides: {
        limits: {
          handshakeTimeoutMs: 1500,
          headersTimeoutMs: 1500,
          requestTimeoutMs: 2500,
          ratePerSecond: 10_000,
          burst: 10_000,
          concurrency: 1000,
        },
      },
    });
    await withRelations(env, shared.cpr, SERVED_BY_BOTH); // need to know: the normal request's citizen
  });
  afterAll(async () => {
    await env?.close();
  });

  it('serves a normal request while 200 connections trickle their headers, then closes each of them with 408', async () => {
    const creds = clientCreds('sof-case-system');
    const slow = Array.from({ length: 200 }, () =>
      trickle(env.running.port, creds, `POST ${STATUS} HTTP/1.1\r\nHost: localhost\r\nX-Slow: ${'s'.repeat(500)}`, 100),
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await normalQuery(env)).toBe(200);
    expect(await normalQuery(env)).toBe(200);
    const answers = await allClosed(slow, 15_000);
    for (const a of answers) expect(a).toMatch(/^HTTP\/1\.1 408 /);
    const body = answers[0]!.slice(answers[0]!.indexOf('\r\n\r\n') + 4);
    evidence('slow-clients', 'error-response', body);
    expect(JSON.parse(body)).toMatchObject({ status: 408, code: 'REQUEST_TIMEOUT' });
    expect(await normalQuery(env)).toBe(200);
  });

  it('serves a normal request while 50 connections trickle their bodies, then closes each of them with 408', async () => {
    const creds = clientCreds('sof-case-system');
    const head = `POST ${STATUS} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n`;
    const slow = Array.from({ length: 50 }, () => trickle(env.running.port, creds, '{'.repeat(1000), 100, head));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await normalQuery(env)).toBe(200);
    const answers = await allClosed(slow, 15_000);
    for (const a of answers) expect(a).toMatch(/^HTTP\/1\.1 408 /);
    expect(await normalQuery(env)).toBe(200);
  });

  it('does not cut off a well-behaved keep-alive connection that idles longer than the header deadline', async () => {
    const creds = clientCreds('sof-case-system');
    const socket = tls.connect({
      host: '127.0.0.1',
      port: env.running.port,
      servername: 'localhost',
      ca: creds.ca,
      cert: creds.cert,
      key: creds.key,
    });
    let data = '';
    socket.on('data', (c: Buffer) => {
      data += c.toString('utf8');
    });
    await new Promise((resolve) => socket.once('secureConnect', resolve));
    socket.write('GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n');
    await new Promise((resolve) => setTimeout(resolve, 2000)); // longer than the 1.5 s header deadline
    socket.write('GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n');
    for (let i = 0; i < 200 && (data.match(/HTTP\/1\.1 /g) ?? []).length < 2; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    socket.destroy();
    expect(data.match(/HTTP\/1\.1 \d{3}/g)).toEqual(['HTTP/1.1 200', 'HTTP/1.1 200']);
  });

  it('serves a normal request while 200 TCP connections never finish the TLS handshake, then drops them', async () => {
    const silent = Array.from({ length: 100 }, () => silentTcp(env.running.port, Buffer.alloc(0)));
    const partialHello = Array.from({ length: 100 }, () => silentTcp(env.running.port, Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01])));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await normalQuery(env)).toBe(200);
    await allClosed([...silent, ...partialHello], 15_000);
    expect(await normalQuery(env)).toBe(200);
  });
});

describe('the connection cap', () => {
  let env: TestEnv;
  beforeAll(async () => {
    env = await startTestEnv({
      name: 'hardening-conncap',
      overrides: { limits: { maxConnections: 20, handshakeTimeoutMs: 1500, headersTimeoutMs: 1500, requestTimeoutMs: 2500 } },
    });
    await withRelations(env, shared.cpr, SERVED_BY_BOTH); // need to know: the normal request's citizen
  });
  afterAll(async () => {
    await env?.close();
  });

  it('refuses connections beyond the cap, and serves again once the slow ones have timed out', async () => {
    const creds = clientCreds('sof-case-system');
    const held = Array.from({ length: 20 }, () => trickle(env.running.port, creds, `POST ${STATUS} HTTP/1.1\r\nHost: localhost\r\n`, 200));
    await new Promise((resolve) => setTimeout(resolve, 400));
    await expect(normalQuery(env)).rejects.toThrow();
    await allClosed(held, 15_000);
    expect(await normalQuery(env)).toBe(200);
  });
});

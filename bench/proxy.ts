import { readFileSync } from 'node:fs';
import https from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { eventLoopDelaySinceLast, failStartup, serveParent, usageNow } from './ipc.js';
import { GATEWAY_ID, tlsFiles } from './setup.js';

/**
 * Target (b): a bare Node reverse proxy over mutual TLS, the yardstick for the gateway's own
 * cost. Keep-alive on both sides, the gateway's certificate towards the provider, and no checks
 * at all: the request goes upstream byte for byte, the answer comes back byte for byte.
 *
 * Run as a child of bench/run.ts: BENCH_UPSTREAM=https://127.0.0.1:PORT.
 */

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'host']);

function forwardHeaders(h: IncomingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(h)) if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = v;
  return out;
}

async function main(): Promise<void> {
  const upstream = new URL(process.env.BENCH_UPSTREAM ?? '');
  const files = tlsFiles(GATEWAY_ID);
  const tls = { cert: readFileSync(files.cert), key: readFileSync(files.key), ca: readFileSync(files.ca) };
  const agent = new https.Agent({ keepAlive: true, maxSockets: 256, maxFreeSockets: 64, ...tls });
  let failures = 0;

  const server = https.createServer({ ...tls, requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.2' }, (req, res) => {
    const up = https.request(
      {
        host: upstream.hostname,
        port: upstream.port,
        servername: 'localhost',
        method: req.method,
        path: req.url,
        headers: forwardHeaders(req.headers),
        agent,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, forwardHeaders(answer.headers));
        answer.pipe(res);
      },
    );
    up.setTimeout(5000, () => up.destroy(new Error('upstream timeout')));
    up.on('error', () => {
      failures += 1;
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end();
    });
    req.pipe(up);
  });
  server.keepAliveTimeout = 65_000;
  server.on('tlsClientError', () => {});
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  serveParent(
    async (msg) => {
      if (msg.type === 'usage') return { usage: usageNow({ upstreamFailures: failures, eventLoop: eventLoopDelaySinceLast() }) };
      throw new Error(`unknown request ${String(msg.type)}`);
    },
    async () => {
      server.closeAllConnections();
      server.close();
      agent.destroy();
    },
  );
  eventLoopDelaySinceLast();
  process.send?.({ type: 'ready', port });
}

main().catch(failStartup);

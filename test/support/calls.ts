import request from 'supertest';
import { tls, tokenFor, type TokenOverrides } from './env.js';

/** POST as a registered client system over mutual TLS, with a token it minted for this exact body. */
export async function postAs(
  baseUrl: string,
  client: string,
  urlPath: string,
  bodyObj: unknown,
  overrides: TokenOverrides = {},
): Promise<request.Response> {
  const body = JSON.stringify(bodyObj);
  return postWithToken(baseUrl, client, urlPath, body, await tokenFor(client, urlPath, body, overrides));
}

/** POST `body` as it is, with a token minted beforehand (a replay, a mismatch, a path the token does not name). */
export function postWithToken(baseUrl: string, client: string, urlPath: string, body: string, token: string): request.Test {
  const creds = tls(client);
  return request(baseUrl)
    .post(urlPath)
    .ca(creds.ca)
    .cert(creds.cert)
    .key(creds.key)
    .set('content-type', 'application/json')
    .set('authorization', `Bearer ${token}`)
    .send(body);
}

/**
 * Waits until `probe` returns something other than undefined/false, polling; fails with
 * `what` after `deadlineMs` (a generous bound against hangs, not a speed assertion).
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  deadlineMs = 20_000,
): Promise<T> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > until) throw new Error(`gave up waiting: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

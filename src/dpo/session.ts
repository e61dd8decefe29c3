import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import type { Request, Response } from 'express';
import type { Client } from '../auth/clients.js';
import { identifyClient } from '../auth/identity.js';
import { isGatewayError, type ErrorCode } from '../errors.js';
import type { Gateway } from '../gateway.js';
import type { DpoSession } from '../store/dpo-types.js';

export type { DpoSession };

/**
 * Sign-in to the DPO pages. The DPO's browser presents the DPO client certificate (role `dpo`)
 * on the TLS connection; signing in turns it into a short-lived session:
 *
 * - the cookie holds 32 random bytes; the store keeps only their SHA-256, with the SHA-256 of
 *   the certificate, so a stolen cookie is useless without the certificate (every request
 *   must present the same certificate, still registered with role `dpo`, not revoked);
 * - HttpOnly, Secure, SameSite=Strict, __Host- prefix (no Domain, Path=/);
 * - it ends after IDLE_MS without a request or ABSOLUTE_MS after sign-in, whichever comes
 *   first, and at sign-out;
 * - every state-changing form carries the session's synchroniser token (CSRF), checked in
 *   constant time, and a POST from another origin is refused (Origin / Sec-Fetch-Site).
 *
 * The sign-in form itself is protected by a double-submit token in a second __Host- cookie.
 */

export const SESSION_COOKIE = '__Host-snitflade-dpo';
export const SIGNIN_COOKIE = '__Host-snitflade-dpo-signin';
export const IDLE_MS = 15 * 60_000;
export const ABSOLUTE_MS = 8 * 3_600_000;
/** last_seen_at is written at most this often (a write per page view would be wasteful). */
const TOUCH_EVERY_MS = 60_000;
export const DPO_ROLE = 'dpo';

export type Identity =
  | { readonly ok: true; readonly client: Client; readonly fingerprint: string }
  | { readonly ok: false; readonly code: ErrorCode | 'NOT_DPO'; readonly client?: Client };

/** Who is on the other end of this TLS connection, and may they use the DPO pages. */
export function identify(gateway: Gateway, req: Request): Identity {
  const socket = req.socket as TLSSocket;
  let client: Client;
  try {
    client = identifyClient(socket, gateway.rules().clients, (serial) => gateway.revocations().isRevoked(serial));
  } catch (err) {
    return { ok: false, code: isGatewayError(err) ? err.code : 'CERTIFICATE_UNTRUSTED' };
  }
  if (!client.roles.includes(DPO_ROLE)) return { ok: false, code: 'NOT_DPO', client };
  const raw = socket.getPeerCertificate().raw;
  return { ok: true, client, fingerprint: createHash('sha256').update(raw).digest('hex') };
}

export function readCookie(req: Request, name: string): string | undefined {
  const header = req.headers.cookie;
  if (typeof header !== 'string') return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

const TOKEN = /^[A-Za-z0-9_-]{43}$/;

export const newToken = (): string => randomBytes(32).toString('base64url');
export const hashToken = (token: string): string => createHash('sha256').update(token).digest('hex');

export function sameToken(a: string | undefined, b: string | undefined): boolean {
  if (typeof a !== 'string' || typeof b !== 'string' || !TOKEN.test(a) || !TOKEN.test(b)) return false;
  return timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

function setCookie(res: Response, name: string, value: string, maxAgeSeconds: number): void {
  res.append('set-cookie', `${name}=${value}; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSeconds}`);
}

export function clearCookie(res: Response, name: string): void {
  res.append('set-cookie', `${name}=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0`);
}

/** The double-submit token of the sign-in form: set as a cookie, echoed in the form. */
export function issueSigninToken(res: Response): string {
  const token = newToken();
  setCookie(res, SIGNIN_COOKIE, token, 600);
  return token;
}

/** A POST must come from the pages' own origin (where the browser says so). */
export function sameOrigin(req: Request): boolean {
  const site = req.get('sec-fetch-site');
  if (site !== undefined && site !== 'same-origin') return false;
  const origin = req.get('origin');
  if (origin !== undefined && origin !== `https://${req.get('host') ?? ''}`) return false;
  return true;
}

export type SessionCheck =
  { readonly ok: true; readonly session: DpoSession } | { readonly ok: false; readonly reason: 'none' | 'expired' | 'other-certificate' };

export class Sessions {
  readonly #gateway: Gateway;
  readonly #now: () => number;

  constructor(gateway: Gateway, now: () => number = Date.now) {
    this.#gateway = gateway;
    this.#now = now;
  }

  /** Opens a session for a DPO identity and sets its cookie. */
  async open(res: Response, identity: { client: Client; fingerprint: string }, lang: 'da' | 'en'): Promise<DpoSession> {
    const token = newToken();
    const now = this.#now();
    const session: DpoSession = {
      idHash: hashToken(token),
      clientId: identity.client.id,
      fingerprint: identity.fingerprint,
      csrf: newToken(),
      lang,
      createdAt: now,
      lastSeenAt: now,
    };
    await this.#gateway.store.dpo.pruneSessions(now - IDLE_MS, now - ABSOLUTE_MS);
    await this.#gateway.store.dpo.createSession(session);
    setCookie(res, SESSION_COOKIE, token, Math.floor(ABSOLUTE_MS / 1000));
    return session;
  }

  /** The session of this request, if it is valid for this certificate; touches it. */
  async check(req: Request, identity: { client: Client; fingerprint: string }): Promise<SessionCheck> {
    const token = readCookie(req, SESSION_COOKIE);
    if (token === undefined || !TOKEN.test(token)) return { ok: false, reason: 'none' };
    const idHash = hashToken(token);
    const session = await this.#gateway.store.dpo.session(idHash);
    if (session === undefined) return { ok: false, reason: 'expired' };
    const now = this.#now();
    if (now - session.lastSeenAt > IDLE_MS || now - session.createdAt > ABSOLUTE_MS) {
      await this.#gateway.store.dpo.deleteSession(idHash);
      return { ok: false, reason: 'expired' };
    }
    if (session.fingerprint !== identity.fingerprint || session.clientId !== identity.client.id)
      return { ok: false, reason: 'other-certificate' };
    if (now - session.lastSeenAt >= TOUCH_EVERY_MS) await this.#gateway.store.dpo.touchSession(idHash, now);
    return { ok: true, session };
  }

  async setLang(session: DpoSession, lang: 'da' | 'en'): Promise<void> {
    await this.#gateway.store.dpo.touchSession(session.idHash, this.#now(), lang);
  }

  async close(req: Request, res: Response): Promise<void> {
    const token = readCookie(req, SESSION_COOKIE);
    if (token !== undefined && TOKEN.test(token)) await this.#gateway.store.dpo.deleteSession(hashToken(token));
    clearCookie(res, SESSION_COOKIE);
  }
}

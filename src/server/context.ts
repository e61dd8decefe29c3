import type { Response } from 'express';
import type { Client } from '../auth/clients.js';
import type { RequestToken } from '../auth/token.js';

/** What the HTTP shell knows about a request, kept in res.locals. */
export interface RequestLocals {
  requestId: string;
  started: number;
  route: string;
  contract: string;
  client?: Client;
  token?: RequestToken;
  /** The strictly parsed JSON body of an authenticated API call. */
  json?: Record<string, unknown>;
  /** Set once a refusal of this request is in the audit trail. */
  audited?: boolean;
}

export function locals(res: Response): RequestLocals {
  return res.locals as RequestLocals;
}

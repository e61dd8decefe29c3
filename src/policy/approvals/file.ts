import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { contractAjv } from '../../contracts/ajv.js';
import { displayPath } from '../../contracts/registry.js';
import { parseYamlSource, schemaErrors } from '../../contracts/source.js';
import { APPROVER_ID } from '../../config/config.js';
import { LoadError } from '../../lib/load-error.js';
import { POLICY_ID } from '../schemas.js';
import { SIGNED_REGISTRIES } from './registries.js';

/**
 * A policy's approvals file, `policies/<id>.approvals.yaml`, beside the policy: one entry per
 * approver, each a detached JWS (RFC 7515 Appendix F: the compact serialisation with the payload
 * left out) over the policy's content digest. Written by `snitflade policy sign`; the signatures
 * say everything, the file is only where they are kept. What they must say: verify.ts.
 */

export const APPROVALS_SUFFIX = '.approvals.yaml';

/** The largest approvals file read: 50 approvals of about 4.5 kB fit with room to spare. */
export const MAX_APPROVALS_BYTES = 256 * 1024;

/** A detached compact JWS: protected header, empty payload, signature (base64url each). */
const DETACHED_JWS = '^[A-Za-z0-9_-]{1,4000}\\.\\.[A-Za-z0-9_-]{1,400}$';

const approvalsSchema = {
  $id: 'urn:snitflade:approvals-file',
  type: 'object',
  additionalProperties: false,
  required: ['approvals'],
  // A policy's approvals name the policy; a signed registry's (registries.ts) name the registry.
  oneOf: [
    { required: ['policy'], properties: { policy: true } },
    { required: ['registry'], properties: { registry: true } },
  ],
  properties: {
    policy: { type: 'string', pattern: POLICY_ID, maxLength: 100 },
    registry: { enum: SIGNED_REGISTRIES },
    approvals: {
      type: 'array',
      maxItems: 50,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['approver', 'jws'],
        properties: {
          approver: { type: 'string', pattern: APPROVER_ID, maxLength: 100 },
          jws: { type: 'string', pattern: DETACHED_JWS },
        },
      },
    },
  },
} as const;

const validate = contractAjv({ allErrors: true }).compile(approvalsSchema);

/** One approval as written in the file. */
export interface ApprovalEntry {
  readonly approver: string;
  readonly jws: string;
  /** Where it stands in the file, for messages: JSON pointer and line. */
  readonly pointer: string;
  readonly line: number | undefined;
}

/** A policy's approvals file as read: absent (no approvals yet), or its entries. */
export interface ApprovalsFile {
  /** The file as messages name it (relative to the project root). */
  readonly file: string;
  readonly exists: boolean;
  readonly entries: readonly ApprovalEntry[];
  /** A LoadError at a place in the file, with its line. */
  readonly error: (pointer: string, problem: string) => LoadError;
}

/** What an approvals file is about: a policy, or a signed registry (registries.ts). */
export type ApprovalsOf = 'policy' | 'registry';

/** Where the approvals of policy (or signed registry) `id` are kept. */
export function approvalsPath(dir: string, id: string): string {
  return path.join(dir, `${id}${APPROVALS_SUFFIX}`);
}

/** The policy ids of the approvals files in `dir`. */
export function approvalsFilesIn(dir: string): string[] {
  return readdirSync(dir)
    .filter((n) => n.endsWith(APPROVALS_SUFFIX))
    .map((n) => n.slice(0, -APPROVALS_SUFFIX.length))
    .sort();
}

/**
 * Reads the approvals of policy `id` in `dir`: the file, or its problems (unreadable, not YAML,
 * not of the schema, about another policy, an approver listed twice). No file: no approvals.
 */
export function readApprovals(dir: string, id: string, kind: ApprovalsOf = 'policy'): ApprovalsFile | LoadError[] {
  const full = approvalsPath(dir, id);
  const shown = displayPath(full);
  let bytes: Buffer;
  try {
    bytes = readFileSync(full);
  } catch (err) {
    const at = (pointer: string, problem: string): LoadError => new LoadError(shown, pointer, problem);
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { file: shown, exists: false, entries: [], error: at };
    return [at('', `cannot read the approvals file: ${(err as NodeJS.ErrnoException).code ?? 'error'}`)];
  }
  // Refused by its size before it is parsed: parsing megabytes of YAML stalls a reload.
  if (bytes.length > MAX_APPROVALS_BYTES)
    return [
      new LoadError(
        shown,
        '',
        `the approvals file is larger than ${MAX_APPROVALS_BYTES / 1024} KiB; it holds at most 50 approvals of a few kilobytes`,
      ),
    ];
  const src = parseYamlSource(shown, bytes.toString('utf8'));
  if (Array.isArray(src)) return src;
  if (!validate(src.value)) return schemaErrors(src, validate.errors ?? [], validate.schema);
  const doc: {
    readonly policy?: string;
    readonly registry?: string;
    readonly approvals: readonly { approver: string; jws: string }[];
  } = src.value;
  const problems: LoadError[] = [];
  const about = doc.policy !== undefined ? `policy "${doc.policy}"` : `registry "${doc.registry}"`;
  if (doc[kind] !== id)
    problems.push(
      src.error(
        doc.policy !== undefined ? '/policy' : '/registry',
        `this file holds the approvals of ${about}, but its name says "${id}"; approvals belong beside their own ${kind}`,
      ),
    );
  const seen = new Map<string, number>();
  doc.approvals.forEach((a, i) => {
    const first = seen.get(a.approver);
    if (first !== undefined)
      problems.push(
        src.error(
          `/approvals/${i}/approver`,
          `approver "${a.approver}" is listed twice (also at /approvals/${first}); keep one approval per approver`,
        ),
      );
    else seen.set(a.approver, i);
  });
  if (problems.length > 0) return problems;
  return {
    file: shown,
    exists: true,
    entries: doc.approvals.map((a, i) => ({
      approver: a.approver,
      jws: a.jws,
      pointer: `/approvals/${i}`,
      line: src.lineOf(`/approvals/${i}`),
    })),
    error: src.error,
  };
}

/**
 * Writes approver's approval of policy `id` into its approvals file, replacing the approver's
 * earlier one and keeping the others, in approver order; atomically (a reload never reads half a
 * file). Returns the file written.
 */
export function writeApproval(
  dir: string,
  id: string,
  approver: string,
  jws: string,
  others: readonly ApprovalEntry[],
  kind: ApprovalsOf = 'policy',
): string {
  const entries = [...others.filter((e) => e.approver !== approver), { approver, jws }].sort((a, b) =>
    a.approver < b.approver ? -1 : a.approver > b.approver ? 1 : 0,
  );
  const head =
    kind === 'policy'
      ? [
          `# Approvals of policy ${id}: detached JWS signatures (RFC 7515 Appendix F) over the policy's`,
          '# canonical content, its contract and its purpose, by the approvers the gateway is configured',
          '# with (policies.approvers). Written by "snitflade policy sign"; checked at start-up, on every',
          '# reload and by "snitflade policy approvals". Changing what the policy means (its file, its',
          '# contract, its purpose) makes them stale: the policy is refused until it is signed again.',
        ]
      : [
          `# Approvals of the registry ${id}.yaml: detached JWS signatures (RFC 7515 Appendix F) over its`,
          '# canonical content by the approvers the gateway is configured with (policies.approvers).',
          '# Written by "snitflade policy sign --registry"; checked at start-up, on every reload and by',
          '# "snitflade policy approvals". Changing the registry makes these approvals stale: the rules',
          '# are then refused until it is signed again.',
        ];
  const text = [
    ...head,
    `${kind}: ${id}`,
    'approvals:',
    ...entries.flatMap((e) => [`  - approver: ${e.approver}`, `    jws: ${e.jws}`]),
    '',
  ].join('\n');
  const full = approvalsPath(dir, id);
  // A name nobody can guess, created new ('wx'): a symlink planted in a checkout is never followed.
  const temporary = `${full}.${randomBytes(8).toString('hex')}.tmp`;
  writeFileSync(temporary, text, { mode: 0o644, flag: 'wx' });
  renameSync(temporary, full);
  return full;
}

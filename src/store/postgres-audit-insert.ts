import { AUDIT_COLUMNS } from './rows.js';

/**
 * The PostgreSQL audit insert, shared by the store's append and the bulk loader: one statement for
 * a whole batch, each column travelling as one array parameter.
 */

/** Every column of audit_record with the array type it is sent as by append. */
const COLUMN_TYPES: Record<(typeof AUDIT_COLUMNS)[number], string> = {
  chain: 'text',
  seq: 'bigint',
  id: 'text',
  audit_id: 'text',
  time: 'timestamptz',
  kind: 'text',
  subject: 'text',
  caller_system: 'text',
  administration: 'text',
  caseworker: 'text',
  contract: 'text',
  purpose: 'text',
  policy_id: 'text',
  policy_version: 'int',
  decision: 'text',
  reasons: 'jsonb',
  record: 'text',
};

/** One INSERT for a whole batch: each column travels as one array parameter. */
export const INSERT_AUDIT =
  `INSERT INTO audit_record (${AUDIT_COLUMNS.join(', ')}) SELECT ${AUDIT_COLUMNS.map((c) => (c === 'reasons' ? 'reasons::jsonb' : c)).join(', ')} ` +
  `FROM unnest(${AUDIT_COLUMNS.map((c, i) => `$${i + 1}::${COLUMN_TYPES[c] === 'jsonb' ? 'text' : COLUMN_TYPES[c]}[]`).join(', ')}) ` +
  `AS t(${AUDIT_COLUMNS.join(', ')})`;

const KEPT = AUDIT_COLUMNS.filter((c) => c !== 'chain' && c !== 'seq');

/**
 * The PostgreSQL erasure (AuditCheckpointStore.erase): one statement replaces the text and search
 * columns of every record erased in a batch, found by chain, seq and id; each column travels as
 * one array parameter, in AUDIT_COLUMNS order, as for INSERT_AUDIT.
 */
export const ERASE_AUDIT =
  `UPDATE audit_record a SET ${KEPT.map((c) => `${c} = t.${c}${c === 'reasons' ? '::jsonb' : ''}`).join(', ')} ` +
  `FROM unnest(${AUDIT_COLUMNS.map((c, i) => `$${i + 1}::${COLUMN_TYPES[c] === 'jsonb' ? 'text' : COLUMN_TYPES[c]}[]`).join(', ')}) ` +
  `AS t(${AUDIT_COLUMNS.join(', ')}) WHERE a.chain = t.chain AND a.seq = t.seq AND a.id = t.id`;

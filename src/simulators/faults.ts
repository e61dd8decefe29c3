/**
 * Faults a simulated provider system can be switched into, so tests see the gateway meet real
 * misbehaviour over a real connection.
 */
export type Fault =
  /** Answer normally, but only after `ms` milliseconds. */
  | { readonly kind: 'delay'; readonly ms: number }
  /** Answer every query with this HTTP status and a problem+json body. */
  | { readonly kind: 'status'; readonly status: number }
  /** Answer 200, labelled application/json, with a body that is not JSON. */
  | { readonly kind: 'garbage' }
  /** Answer 200 with one known field (the first one asked for) of the wrong type. */
  | { readonly kind: 'schema-break' }
  /** Send the headers and part of the body, then close the connection. */
  | { readonly kind: 'destroy' }
  /** Answer 200 with the real record plus a padding field, `bytes` long in all (a provider sending far too much). */
  | { readonly kind: 'oversized'; readonly bytes: number };

/** Checks a fault given at run time; a bad one is a programming mistake (TypeError). */
export function checkFault(fault: Fault | null): Fault | null {
  if (fault === null) return null;
  switch (fault.kind) {
    case 'delay':
      if (!Number.isInteger(fault.ms) || fault.ms < 0 || fault.ms > 600_000)
        throw new TypeError('delay fault: ms must be an integer 0-600000');
      return { kind: 'delay', ms: fault.ms };
    case 'status':
      if (!Number.isInteger(fault.status) || fault.status < 200 || fault.status > 599)
        throw new TypeError('status fault: status must be an integer 200-599');
      return { kind: 'status', status: fault.status };
    case 'oversized':
      if (!Number.isInteger(fault.bytes) || fault.bytes < 1 || fault.bytes > 64 * 1024 * 1024)
        throw new TypeError('oversized fault: bytes must be an integer 1-67108864');
      return { kind: 'oversized', bytes: fault.bytes };
    case 'garbage':
    case 'schema-break':
    case 'destroy':
      return { kind: fault.kind };
    default:
      throw new TypeError(`unknown fault kind "${String((fault as { kind?: unknown }).kind)}"`);
  }
}

/** The same field with a value of another JSON type. */
export function breakValue(value: unknown): unknown {
  if (typeof value === 'string') return 12345;
  if (typeof value === 'number') return String(value);
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (Array.isArray(value)) return 'not-a-list';
  return 'not-an-object'; // objects and null
}

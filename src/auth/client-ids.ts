import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

/**
 * The ids of the clients named in a client registry, read without importing keys: used to
 * generate development keys before the registry can be loaded for real.
 */
export function registeredClientIds(file: string): string[] {
  const data = parse(readFileSync(file, 'utf8')) as { clients?: Array<{ id?: unknown }> } | null;
  return (data?.clients ?? []).map((c) => c.id).filter((id): id is string => typeof id === 'string');
}

import type { CliIO } from '../../src/cli/commands/shared.js';

/** A CliIO that collects what a command writes, for the CLI tests. */
export function captureIO(): CliIO & { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return {
    stdout: { write: (t: string) => (out += t) },
    stderr: { write: (t: string) => (err += t) },
    out: () => out,
    err: () => err,
  };
}

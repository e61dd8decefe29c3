/**
 * A broken contract, policy, purpose, client or configuration file. Stops start-up (and
 * `snitflade check`) with a message naming the file, the place in it and what is wrong.
 * A configuration mistake, not hostile input: it is a TypeError, as in jose.
 */
export class LoadError extends TypeError {
  readonly file: string;
  /** JSON pointer into the document, e.g. /fields/2 ('' for the whole file). */
  readonly path: string;
  /** 1-based line in the file, when known. */
  readonly line: number | undefined;
  readonly problem: string;

  constructor(file: string, path: string, problem: string, line?: number) {
    super(`${file}${line !== undefined ? `:${line}` : ''}${path ? ` at ${path}` : ''}: ${problem}`);
    this.name = 'LoadError';
    this.file = file;
    this.path = path;
    this.line = line;
    this.problem = problem;
  }
}

/** Several load errors at once, so a developer sees every problem in one run. */
export class LoadErrors extends TypeError {
  readonly errors: readonly LoadError[];
  constructor(errors: readonly LoadError[]) {
    super(`${errors.length} problem(s) in the gateway's files:\n${errors.map((e) => `  - ${e.message}`).join('\n')}`);
    this.name = 'LoadErrors';
    this.errors = errors;
  }
}

/** The load errors a thrown value carries (one LoadError or several in LoadErrors), or undefined for anything else. */
export function loadErrorsIn(err: unknown): LoadError[] | undefined {
  if (err instanceof LoadErrors) return [...err.errors];
  if (err instanceof LoadError) return [err];
  return undefined;
}

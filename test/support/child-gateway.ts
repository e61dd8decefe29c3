/**
 * A gateway in a child process (test/support/run-gateway.ts): configured like `npm start`, from
 * a JSON file named by SNITFLADE_CONFIG, with the production signal handling, so tests can stop
 * it with SIGTERM, kill it with SIGKILL (nothing flushed on the way out) and start it again.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ConfigInput } from '../../src/config/config.js';
import { ROOT } from './env.js';

export interface ChildGateway {
  readonly process: ChildProcess;
  readonly url: string;
  readonly port: number;
  /** Settles when the process has ended. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** What the process wrote to stderr so far. */
  stderr(): string;
  /** SIGKILL, and wait for the end. */
  kill(): Promise<void>;
}

export interface ChildOptions {
  /** The host name the process sees (os.hostname), as a gateway in a recreated container would. */
  readonly hostname?: string;
}

export async function startChildGateway(config: ConfigInput, options: ChildOptions = {}): Promise<ChildGateway> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'snitflade-child-'));
  const file = path.join(dir, 'config.json');
  // Like npm start: the repository's example policies are unsigned (unless the test says otherwise).
  writeFileSync(file, JSON.stringify({ ...config, policies: { requireApprovals: false, ...config.policies } }));
  const child = spawn(process.execPath, ['--no-warnings', '--import', './test/support/register-ts.mjs', 'test/support/run-gateway.ts'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      SNITFLADE_CONFIG: file,
      ...(options.hostname !== undefined ? { SNITFLADE_TEST_HOSTNAME: options.hostname } : {}),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (c: Buffer) => {
    err += c.toString('utf8');
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString('utf8');
      const m = /^(\{"event":"listening".*\})$/m.exec(out);
      if (m) resolve((JSON.parse(m[1]!) as { port: number }).port);
    });
    void exited.then(({ code, signal }) =>
      reject(new Error(`the gateway process ended before it listened (${code ?? signal}): ${err.slice(0, 2000)}`)),
    );
  });
  return {
    process: child,
    url: `https://localhost:${port}`,
    port,
    exited,
    stderr: () => err,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

// Runs once before the suite: a clean folder for the operational logs the suite writes.
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';

export default async function globalSetup() {
  const logs = path.resolve('test-output', 'logs');
  rmSync(logs, { recursive: true, force: true });
  mkdirSync(logs, { recursive: true });
}

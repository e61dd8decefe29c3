// Runs once before the suite: clean folders for the operational logs and leak evidence the suite writes.
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';

export default async function globalSetup() {
  const logs = path.resolve('test-output', 'logs');
  rmSync(logs, { recursive: true, force: true });
  mkdirSync(logs, { recursive: true });
  // Error responses and metrics pages the hardening suite collects for the leak scan.
  rmSync(path.resolve('test-output', 'leak-evidence'), { recursive: true, force: true });
}

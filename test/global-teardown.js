// Runs once after the suite: no operational log written during the whole run may hold anything
// shaped like a CPR number (ten digits, optionally DDMMYY-SSSS) or a bearer token.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const CPR_LIKE = /(?<![0-9])[0-9]{6}-?[0-9]{4}(?![0-9])/;
const JWT_LIKE = /eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\./;

export default async function globalTeardown() {
  const dir = path.resolve('test-output', 'logs');
  const files = readdirSync(dir).filter((f) => f.endsWith('.log'));
  let lines = 0;
  const leaks = [];
  for (const f of files) {
    for (const line of readFileSync(path.join(dir, f), 'utf8').split('\n')) {
      if (line === '') continue;
      lines++;
      if (CPR_LIKE.test(line) || JWT_LIKE.test(line)) leaks.push(`${f}: ${line.slice(0, 200).replace(/[0-9]/g, '#')}`);
    }
  }
  if (leaks.length > 0) {
    throw new Error(`personal data or tokens in operational logs (${leaks.length} lines):\n${leaks.slice(0, 10).join('\n')}`);
  }
  process.stdout.write(`\nlog scan: ${lines} operational log lines in ${files.length} files, no CPR number or token found\n`);
}

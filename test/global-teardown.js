// Runs once after the suite: no operational log written during the whole run may hold anything
// shaped like a CPR number (ten digits, optionally DDMMYY-SSSS), a bearer token, or a data value
// of the synthetic population (caseworker and contact names, phones and mail addresses, internal
// notes, bank accounts, diagnosis codes). The error responses and metrics pages the hardening
// suite collected (test-output/leak-evidence/) are held to the same rules, and to no stack traces.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const CPR_LIKE = /(?<![0-9])[0-9]{6}-?[0-9]{4}(?![0-9])/;
// In responses, which are not scrubbed: a CPR number standing alone (a UUID may hold ten digits in a row).
const CPR_ALONE = /(?<![0-9A-Za-z])[0-9]{6}-?[0-9]{4}(?![0-9A-Za-z])/;
const JWT_LIKE = /eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\./;
// The shapes of the synthetic population's data values (src/simulators/population.ts).
const DATA_VALUE = /Sagsbehandler \d{4}|Kontaktperson \d{4}|\+45 000[01] \d{4}|[a-z]+\.\d{4}@example\.invalid|SYNTETISK TESTDATA|0000 00000\d{5}|SYNT-\d{2}\.\d/;
const STACK_TRACE = /\bat [^\s]+ \(|\.(ts|js):\d+:\d+|node:internal/;
// Metrics values may be ten-digit timestamps; label values may not hold a CPR number.
const CPR_IN_LABEL = /="[^"]*(?<![0-9])[0-9]{6}-?[0-9]{4}(?![0-9])[^"]*"/;

const mask = (s) => s.slice(0, 200).replace(/[0-9]/g, '#');

function scanLogs() {
  const dir = path.resolve('test-output', 'logs');
  const files = readdirSync(dir).filter((f) => f.endsWith('.log'));
  let lines = 0;
  const leaks = [];
  for (const f of files) {
    for (const line of readFileSync(path.join(dir, f), 'utf8').split('\n')) {
      if (line === '') continue;
      lines++;
      if (CPR_LIKE.test(line) || JWT_LIKE.test(line) || DATA_VALUE.test(line)) leaks.push(`${f}: ${mask(line)}`);
    }
  }
  return { files: files.length, lines, leaks };
}

function scanEvidence() {
  const dir = path.resolve('test-output', 'leak-evidence');
  if (!existsSync(dir)) return { items: 0, leaks: [] };
  let items = 0;
  const leaks = [];
  for (const f of readdirSync(dir).filter((f) => f.endsWith('.jsonl'))) {
    for (const line of readFileSync(path.join(dir, f), 'utf8').split('\n')) {
      if (line === '') continue;
      items++;
      const { kind, text } = JSON.parse(line);
      const bad = kind === 'metrics'
        ? CPR_IN_LABEL.test(text) || JWT_LIKE.test(text) || DATA_VALUE.test(text)
        : CPR_ALONE.test(text) || JWT_LIKE.test(text) || DATA_VALUE.test(text) || STACK_TRACE.test(text);
      if (bad) leaks.push(`${f} (${kind}): ${mask(text)}`);
    }
  }
  return { items, leaks };
}

export default async function globalTeardown() {
  const logs = scanLogs();
  const evidence = scanEvidence();
  const leaks = [...logs.leaks, ...evidence.leaks];
  if (leaks.length > 0) {
    throw new Error(`personal data, tokens, data values or stack traces leaked (${leaks.length}):\n${leaks.slice(0, 10).join('\n')}`);
  }
  process.stdout.write(`\nleak scan: ${logs.lines} operational log lines in ${logs.files} files and ${evidence.items} collected error responses/metrics pages; no CPR number, token, data value or stack trace found\n`);
}

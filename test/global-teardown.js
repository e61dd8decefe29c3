// Runs once after the suite: no operational log written during the whole run may hold a CPR
// number in any written form the gateway's own detector knows (src/lib/cpr.ts), a bearer token,
// or a data value of the synthetic population (caseworker and contact names, phones and mail addresses, internal
// notes, bank accounts, diagnosis codes). The error responses and metrics pages the hardening
// suite collected (test-output/leak-evidence/) are held to the same rules, and to no stack traces.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { register } from 'node:module';
import path from 'node:path';

/** The gateway's own detector (src/lib/cpr.ts), loaded from its TypeScript source through the tests' module hooks. */
let mayHoldCpr;

const JWT_LIKE = /eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\./;
// The shapes of the synthetic population's data values (src/simulators/population.ts).
const DATA_VALUE =
  /Sagsbehandler \d{4}|Kontaktperson \d{4}|\+45 000[01] \d{4}|[a-z]+\.\d{4}@example\.invalid|SYNTETISK TESTDATA|0000 00000\d{5}|SYNT-\d{2}\.\d/;
const STACK_TRACE = /\bat [^\s]+ \(|\.(ts|js):\d+:\d+|node:internal/;
// Metrics values may be ten-digit timestamps; label values may not hold a CPR number.
const LABEL_VALUES = /="([^"]*)"/g;
const cprInLabels = (text) => [...text.matchAll(LABEL_VALUES)].some((m) => mayHoldCpr(m[1]));

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
      if (mayHoldCpr(line) || JWT_LIKE.test(line) || DATA_VALUE.test(line)) leaks.push(`${f}: ${mask(line)}`);
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
      const bad =
        kind === 'metrics'
          ? cprInLabels(text) || JWT_LIKE.test(text) || DATA_VALUE.test(text)
          : mayHoldCpr(text) || JWT_LIKE.test(text) || DATA_VALUE.test(text) || STACK_TRACE.test(text);
      if (bad) leaks.push(`${f} (${kind}): ${mask(text)}`);
    }
  }
  return { items, leaks };
}

export default async function globalTeardown() {
  register('../src/store/sqlite-thread-dev-hooks.mjs', import.meta.url);
  const detector = await import('../src/lib/cpr.js');
  mayHoldCpr = detector.mayHoldCpr;
  const logs = scanLogs();
  const evidence = scanEvidence();
  const leaks = [...logs.leaks, ...evidence.leaks];
  if (leaks.length > 0) {
    throw new Error(`personal data, tokens, data values or stack traces leaked (${leaks.length}):\n${leaks.slice(0, 10).join('\n')}`);
  }
  process.stdout.write(
    `\nleak scan: ${logs.lines} operational log lines in ${logs.files} files and ${evidence.items} collected error responses/metrics pages; no CPR number in any of ${detector.CPR_WRITTEN_FORMS.length} written forms, no token, data value or stack trace found\n`,
  );
}

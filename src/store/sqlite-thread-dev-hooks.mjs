// Module hooks for the SQLite store's worker thread when the gateway runs from its TypeScript
// sources (jest, or node with a TypeScript loader) instead of the build in dist/. The build never
// uses this file: there the worker's entry is dist/src/store/sqlite-thread.js. sqlite-worker.ts
// registers it in the worker only, through the worker's execArgv, when no compiled entry exists.
// The tests' child processes register it too (test/support/register-ts.mjs).
//
// Relative imports ending in .js resolve to the .ts file beside them when it exists; .ts files
// are transpiled one by one (isolatedModules), types are not checked. Output is cached by content
// digest under node_modules/.cache/ (importing TypeScript alone takes about a second).
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export async function resolve(specifier, context, nextResolve) {
  if (
    (specifier.startsWith('./') || specifier.startsWith('../')) &&
    specifier.endsWith('.js') &&
    context.parentURL?.startsWith('file:') &&
    !context.parentURL.includes('/node_modules/')
  ) {
    const url = new URL(specifier.replace(/\.js$/, '.ts'), context.parentURL);
    if (existsSync(fileURLToPath(url))) return { url: url.href, shortCircuit: true, format: 'module' };
  }
  return nextResolve(specifier, context);
}

const CACHE = fileURLToPath(new URL('../../node_modules/.cache/snitflade-ts/', import.meta.url));
const require = createRequire(import.meta.url);
let typescript; // loaded on the first cache miss only
let tsVersion;

export async function load(url, context, nextLoad) {
  if (!url.startsWith('file:') || !url.endsWith('.ts')) return nextLoad(url, context);
  const file = fileURLToPath(url);
  const source = readFileSync(file, 'utf8');
  tsVersion ??= JSON.parse(readFileSync(require.resolve('typescript/package.json'), 'utf8')).version;
  const cached = path.join(CACHE, `${createHash('sha256').update(`${tsVersion}\0${file}\0${source}`).digest('hex')}.js`);
  if (existsSync(cached)) return { format: 'module', source: readFileSync(cached, 'utf8'), shortCircuit: true };
  typescript ??= (await import('typescript')).default;
  const ts = typescript;
  const out = ts.transpileModule(source, {
    fileName: file,
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true, inlineSourceMap: true },
  });
  mkdirSync(CACHE, { recursive: true });
  const tmp = `${cached}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  writeFileSync(tmp, out.outputText);
  renameSync(tmp, cached);
  return { format: 'module', source: out.outputText, shortCircuit: true };
}

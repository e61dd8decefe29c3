// A tiny ESM loader for child processes in tests: runs the TypeScript sources directly, as jest
// does, without a build. Relative imports ending in .js resolve to the .ts file beside them when
// it exists; .ts files are transpiled one by one (isolatedModules), types are not checked.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

export async function resolve(specifier, context, nextResolve) {
  if ((specifier.startsWith('./') || specifier.startsWith('../')) && specifier.endsWith('.js') && context.parentURL?.startsWith('file:') && !context.parentURL.includes('/node_modules/')) {
    const url = new URL(specifier.replace(/\.js$/, '.ts'), context.parentURL);
    if (existsSync(fileURLToPath(url))) return { url: url.href, shortCircuit: true, format: 'module' };
  }
  return nextResolve(specifier, context);
}

// Transpiled output is cached by content digest (transpiling every source takes seconds on a busy
// machine, and tests start gateway processes again and again).
const CACHE = fileURLToPath(new URL('../../test-output/ts-cache/', import.meta.url));
const require = createRequire(import.meta.url);
const TS_VERSION = JSON.parse(readFileSync(require.resolve('typescript/package.json'), 'utf8')).version;
let typescript; // loaded on the first cache miss only: importing it takes a second

export async function load(url, context, nextLoad) {
  if (url.startsWith('file:') && url.endsWith('.ts')) {
    const file = fileURLToPath(url);
    const source = readFileSync(file, 'utf8');
    const cached = path.join(CACHE, `${createHash('sha256').update(`${TS_VERSION}\0${file}\0${source}`).digest('hex')}.js`);
    if (existsSync(cached)) return { format: 'module', source: readFileSync(cached, 'utf8'), shortCircuit: true };
    typescript ??= (await import('typescript')).default;
    const ts = typescript;
    const out = ts.transpileModule(source, {
      fileName: file,
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true, inlineSourceMap: true },
    });
    mkdirSync(CACHE, { recursive: true });
    const tmp = `${cached}.${process.pid}.tmp`;
    writeFileSync(tmp, out.outputText);
    renameSync(tmp, cached);
    return { format: 'module', source: out.outputText, shortCircuit: true };
  }
  return nextLoad(url, context);
}

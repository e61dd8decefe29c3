// node --import ./test/support/register-ts.mjs some-file.ts
// Runs the TypeScript sources directly, as jest does, without a build: the same module hooks the
// SQLite store's worker thread uses when the gateway runs from its sources.
import { register } from 'node:module';

register('../../src/store/sqlite-thread-dev-hooks.mjs', import.meta.url);

// The architecture's "never" arrows (see the README's layout section), checked on every CI run by
// `npm run lint`. A rule names the two folders; its comment says why the arrow must not exist.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'pipeline-never-http',
      comment: 'The pipelines (exchange/) know nothing of HTTP: routes in server/ turn requests into calls.',
      severity: 'error',
      from: { path: '^src/exchange/' },
      to: { path: ['^src/server/', '^src/dpo/', '(^|/)node_modules/(express|supertest)/'] },
    },
    {
      name: 'policy-never-store',
      comment: 'Policy evaluation is pure: it never reads or writes a store.',
      severity: 'error',
      from: { path: '^src/policy/' },
      to: { path: ['^src/store/', '(^|/)node_modules/(pg|better-sqlite3)/'] },
    },
    {
      name: 'policy-or-audit-never-upstream',
      comment: 'Neither a policy decision nor the audit trail may call a provider system.',
      severity: 'error',
      from: { path: ['^src/policy/', '^src/audit/'] },
      to: { path: '^src/upstream/' },
    },
    {
      name: 'simulators-never-pipeline-or-policy',
      comment: 'The simulated systems stand outside the gateway: they talk to it over HTTP only.',
      severity: 'error',
      from: { path: '^src/simulators/' },
      to: { path: ['^src/exchange/', '^src/policy/', '^src/rules/'] },
    },
    {
      name: 'contracts-never-store',
      comment: 'Contracts are checked and compiled from files; they never depend on stored state.',
      severity: 'error',
      from: { path: '^src/contracts/' },
      to: { path: ['^src/store/', '(^|/)node_modules/(pg|better-sqlite3)/'] },
    },
    {
      name: 'src-never-tests',
      comment: 'Shipped code never imports test support.',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^test/' },
    },
    {
      name: 'no-runtime-cycles',
      comment: 'Modules load in one order: a cycle of runtime imports makes start-up order-dependent.',
      severity: 'error',
      from: {},
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'Every import resolves to a file or an installed package.',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.js', '.mjs', '.cjs', '.json', '.d.ts'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};

/**
 * The architecture, enforced (`npm run lint:deps`, and test/architecture.test.ts in `npm test`):
 * - src/platform/ is the kernel every module builds on: it never imports a module;
 * - a module (src/modules/<name>/) reaches another only through that module's index.ts, its
 *   declared interface; files directly in src/modules/ compose the modules and may import any;
 * - no import cycles (between files here; between folders in the test).
 */
module.exports = {
  forbidden: [
    {
      name: 'platform-imports-no-module',
      comment: 'The platform is the kernel: modules depend on it, never the other way round.',
      severity: 'error',
      from: { path: '^src/platform/' },
      to: { path: '^src/modules/' },
    },
    {
      name: 'platform-imports-no-composition',
      comment: 'app.ts, server.ts, main.ts and cli/ compose everything; nothing below imports them.',
      severity: 'error',
      from: { path: '^src/(platform|modules)/' },
      to: { path: '^src/(app|server|main)\\.ts$|^src/cli/' },
    },
    {
      name: 'modules-meet-through-their-interface',
      comment: "A module uses another only through the other's index.ts.",
      severity: 'error',
      from: { path: '^src/modules/([^/]+)/' },
      to: { path: '^src/modules/([^/]+)/', pathNot: ['^src/modules/$1/', '^src/modules/[^/]+/index\\.ts$'] },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'no-orphans',
      comment: 'A file nothing imports is dead code (entry points excepted).',
      severity: 'error',
      from: { orphan: true, pathNot: ['^src/(main|app|server)\\.ts$', '^src/cli/', '\\.d\\.ts$', '-cli\\.ts$', '/cli\\.ts$'] },
      to: {},
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    includeOnly: '^src/',
  },
};

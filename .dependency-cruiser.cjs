/**
 * The dependency direction of src/, checked by `npm run lint` (dependency-cruiser).
 *
 * Layers, lowest first; a module may import its own layer and any layer below it, never one above:
 *   errors.ts, clock.ts → crypto/ → observability/ → config/ → client/ → state/ → session/ → web/
 *   → context.ts → app/ → routes/ → doctor/ → par-login.ts → index.ts
 * Type-only imports count (tsPreCompilationDeps), and no cycle is allowed at all.
 */
const LAYERS = [
  ['errors', '^src/(errors|clock)\\.ts$'],
  ['crypto', '^src/crypto/'],
  ['observability', '^src/observability/'],
  ['config', '^src/config/'],
  ['client', '^src/client/'],
  ['state', '^src/state/'],
  ['session', '^src/session/'],
  ['web', '^src/web/'],
  ['context', '^src/context\\.ts$'],
  ['app', '^src/app/'],
  ['routes', '^src/routes/'],
  ['doctor', '^src/doctor/'],
  ['par-login', '^src/par-login\\.ts$'],
  ['index', '^src/index\\.ts$'],
];

const upward = LAYERS.slice(0, -1).map(([name, path], i) => ({
  name: `${name}-imports-upward`,
  comment: `${name} may import only the layers below it: ${
    LAYERS.slice(0, i)
      .map(([n]) => n)
      .join(', ') || 'none'
  }.`,
  severity: 'error',
  from: { path },
  to: { path: LAYERS.slice(i + 1).map(([, p]) => p) },
}));

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'No import cycle, type-only imports included.',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'no-express-below-session',
      comment:
        'Protocol, crypto and state code never depends on Express (config/ may name express-session types).',
      severity: 'error',
      from: { path: '^src/(errors\\.ts|observability|crypto|client|state)/?' },
      to: { path: '(^|/)node_modules/(express|express-session|@types/express|@types/express-session)/' },
    },
    {
      name: 'src-imports-no-tests-or-tools',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(test|bench|sample-app|scripts)/' },
    },
    ...upward,
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
    },
  },
};

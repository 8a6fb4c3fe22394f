/**
 * Layer rules for src/ (issue 10; DESIGN.md "Layers"). A folder may import only folders of a LOWER
 * rank — never one of its own rank or above — so the folder graph is a DAG by construction, and
 * no module-level cycle is allowed anywhere. `npm run lint:layers` checks the tree;
 * test/layers.test.ts checks it too and proves the rules catch an upward import and a cycle.
 *
 * Parser: swc (TypeScript 7 has no JS compiler API for dependency-cruiser to use).
 */
const RANKS = [
  ['util'],
  ['core'], // types and constants shared by every layer (and by WGSL kernels and their references)
  ['geometry'], // camera models, solvers, RANSAC, linear algebra
  ['io', 'gpu'], // file formats and media; WebGPU device and WGSL kernels
  ['ingest', 'scene'], // photos/video → images + priors; Gaussian model, rasterizer, training, eval
  ['sfm', 'import', 'synthetic', 'eval'], // structure from motion; imported models; test scenes; pose accuracy
  ['assets'], // selection, meshing, export, library (built on scene)
  ['pipeline'], // workspace, stage spec, runner, lock
  ['stages', 'viewer-server'], // one module per stage; the viewer's read-only server
  ['batch'], // pipelines over many captures, queues, workers
  ['cli'], // the r2s command: a thin shell
];

const rankOf = new Map(RANKS.flatMap((folders, r) => folders.map((f) => [f, r])));
const layerRules = [...rankOf].map(([folder, rank]) => {
  const notBelow = [...rankOf].filter(([f, r]) => r >= rank && f !== folder).map(([f]) => f);
  return {
    name: `layer-${folder}`,
    comment: `src/${folder} (rank ${rank}) may import only lower layers: not ${notBelow.join(', ')}`,
    severity: 'error',
    from: { path: `^src/${folder}/` },
    to: { path: `^src/(${notBelow.join('|')})/` },
  };
});

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'import cycles make load order and layering ambiguous',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'unknown-folder',
      comment: 'every folder of src/ has a rank in .dependency-cruiser.cjs',
      severity: 'error',
      from: { path: `^src/(?!(${[...rankOf.keys()].join('|')})/)` },
      to: { path: '^src/' },
    },
    ...layerRules,
  ],
  options: {
    parser: 'swc',
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|viewer|test|bench)/' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};

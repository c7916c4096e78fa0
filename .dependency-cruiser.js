// The layers of src/ as rules on the import graph (README "Layout", STYLE.md "The folders are the
// pipeline"). dependency-cruiser sees what ESLint cannot from one file at a time: where an import
// resolves to, what a module reaches through others, and cycles through several files. Rules on
// what code *does* (process.env, `new Redis(`) are in eslint.config.js; cycles between folders of
// src/ in bin/check-boundaries.js, which runs this config (`npm run lint`).

/** The pure core and the stateful adapters under it: the edges use them, never the other way. */
const CORE = '^src/(render|subscribers|campaign|delivery)/';
/** The edges (HTTP, CLI, preview, the editor's console, demo, the operations the edges share, the process builders) and the composition root. */
const EDGES = '^src/(http|cli|preview|console|demo|operations|processes)/|^src/app[.]ts$';

/** @type {import('dependency-cruiser').IConfiguration} */
export default {
  forbidden: [
    {
      name: 'core-imports-no-edge',
      severity: 'error',
      comment:
        'src/render, src/subscribers, src/campaign and src/delivery are used by the edges and by src/app.ts, never the other way: ' +
        'take what you need as a parameter (a narrow dependencies object), or move the code to the edge that needs it.',
      from: { path: CORE },
      to: { path: EDGES },
    },
    {
      name: 'render-reaches-no-io',
      severity: 'error',
      comment:
        'src/render turns a post into an issue and nothing else: no Redis, queue, SMTP or HTTP, not even through another module. ' +
        'Do the I/O at the edge and pass the result in.',
      from: { path: '^src/render/' },
      to: {
        reachable: true,
        path: ['node_modules/(ioredis|bullmq|nodemailer|fastify|@fastify/[^/]+)/', '^(node:)?(http|https|http2|net|tls|dgram)$'],
      },
    },
    {
      name: 'no-module-cycle',
      severity: 'error',
      comment: 'These modules import each other in a cycle: move what both need into a module that imports neither.',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // Type-only imports count: a layer that names another's types depends on it all the same.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};

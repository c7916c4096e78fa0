// `npm run lint` (with bin/check-boundaries.js and prettier --check). typescript-eslint's
// type-checked rules find the bugs this codebase can have (a promise nobody awaits, an async
// callback where a sync one is expected, a method passed without its object); the house rules
// after them hold the shape one file can show (who reads process.env, who creates clients, what
// src/render may touch). Which folder may import which is in .dependency-cruiser.js.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/** Tests and benches build their own clients and environments for the processes they start. */
const HARNESSES = ['test/**', 'bench/**'];

const CLIENT_MESSAGE =
  'Clients (Redis, BullMQ queues and workers, SMTP transports) are created only in the composition root, src/app.ts ' +
  '(its Redis clients in src/redis/redis-connection.ts, the one place that reads the deployment: server, Sentinel or Cluster), ' +
  'or in the process that needs them, src/processes/. Take the client in your dependencies object instead.';
const CLIENT_CLASSES = '/^(Redis|Cluster|Queue|Worker|QueueEvents|FlowProducer)$/';
/** no-restricted-syntax takes one list per file: src/render's adds its own to these. */
const CLIENT_SYNTAX = [
  { selector: `NewExpression[callee.name=${CLIENT_CLASSES}]`, message: CLIENT_MESSAGE },
  { selector: `NewExpression[callee.property.name=${CLIENT_CLASSES}]`, message: CLIENT_MESSAGE },
  { selector: "CallExpression:matches([callee.name='createTransport'], [callee.property.name='createTransport'])", message: CLIENT_MESSAGE },
  { selector: "CallExpression[callee.property.name='duplicate']", message: `Redis#duplicate() opens a connection. ${CLIENT_MESSAGE}` },
];

export default defineConfig(
  { ignores: ['node_modules/', 'outbox/', 'test-output/', 'dist/'] },
  js.configs.recommended,
  {
    files: ['**/*.ts'],
    extends: [tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: {
        // vitest.faults.config.ts is outside tsconfig.json's include.
        projectService: { allowDefaultProject: ['vitest.faults.config.ts'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      // Fastify plugins, hooks and handlers are async by contract whether or not they await,
      // and so are the async methods that implement an interface: the rule fights that shape.
      '@typescript-eslint/require-await': 'off',
      // An assertion that changes nothing (`child.stdout!` where stdio is 'pipe') is tidiness, not a bug.
      '@typescript-eslint/no-unnecessary-type-assertion': 'off',
      // Promise.all([done ? undefined : stopped(w), ...]) waits only for what is still running.
      '@typescript-eslint/await-thenable': ['error', { allowMixedPromiseArrays: true }],
      // `const { SECRET: _s, ...rest } = env` leaves a key out on purpose, and so does a parameter named `_options`.
      '@typescript-eslint/no-unused-vars': ['error', { ignoreRestSiblings: true, argsIgnorePattern: '^_' }],
      '@typescript-eslint/restrict-template-expressions': [
        'error',
        {
          allow: [
            { from: 'lib', name: ['Error', 'URL', 'URLSearchParams'] },
            // html`` returns SafeHtml, already escaped, and `${page}` is how it is meant to be read.
            { from: 'file', name: 'SafeHtml', path: 'src/http/html.ts' },
          ],
        },
      ],
    },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      // Tests read JSON bodies (`await response.json()`, typed any) and check them with expect:
      // a type for each would restate the assertion.
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      // `const { join } = await import('node:path')` reads as a method taken off its object.
      '@typescript-eslint/unbound-method': 'off',
      // String(value) of a setting or a reply is compared with the expected text: a wrong string fails the test itself.
      '@typescript-eslint/no-base-to-string': 'off',
    },
  },
  {
    files: ['**/*.js'],
    languageOptions: { globals: globals.node },
  },
  {
    rules: {
      // Input checks reject control characters on purpose (CR/LF in a header, NUL in a CSV field).
      'no-control-regex': 'off',
    },
  },

  // The house's shape. Each message says where the code goes instead.
  {
    name: 'house/config-reads-the-environment',
    ignores: ['src/config.ts', ...HARNESSES],
    rules: {
      'no-restricted-properties': [
        'error',
        {
          object: 'process',
          property: 'env',
          message: 'Only src/config.ts reads process.env: add the setting to Config (and .env.example) and take it from there.',
        },
      ],
    },
  },
  {
    name: 'house/composition-root-creates-clients',
    files: ['**/*.ts'],
    ignores: ['src/app.ts', 'src/redis/redis-connection.ts', 'src/processes/**', ...HARNESSES],
    rules: {
      'no-restricted-syntax': ['error', ...CLIENT_SYNTAX],
      // Also an import under another name (`import { Redis as R }`); `import type` stays free.
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [
            { name: 'ioredis', importNames: ['default', 'Redis', 'Cluster'], allowTypeImports: true, message: CLIENT_MESSAGE },
            { name: 'bullmq', importNames: ['Queue', 'Worker', 'QueueEvents', 'FlowProducer'], allowTypeImports: true, message: CLIENT_MESSAGE },
            { name: 'nodemailer', importNames: ['default', 'createTransport'], allowTypeImports: true, message: CLIENT_MESSAGE },
          ],
        },
      ],
    },
  },
  {
    name: 'house/render-is-pure',
    files: ['src/render/**'],
    rules: {
      'no-restricted-globals': [
        'error',
        { name: 'process', message: 'src/render is pure: no environment, working directory or arguments. Take the value as a parameter.' },
      ],
      'no-restricted-syntax': [
        'error',
        ...CLIENT_SYNTAX,
        {
          selector: "CallExpression[callee.object.name='Date'][callee.property.name='now'], NewExpression[callee.name='Date'][arguments.length=0]",
          message: 'src/render is pure: it never reads the clock. Take `now` as a parameter.',
        },
      ],
    },
  },
);

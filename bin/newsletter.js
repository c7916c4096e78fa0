#!/usr/bin/env node
// Runs the TypeScript sources directly through tsx, so a fresh clone needs no build step.
import { createRequire } from 'node:module';
import { register } from 'tsx/esm/api';

// mjml pulls in hundreds of CommonJS files; caching their compiled code cuts start-up by a third.
// v8-compile-cache compiles everything `require`d as CommonJS, which breaks Node's require() of an
// ES module (content-disposition 3, under Bull Board's @fastify/static): those go to Node's own loader.
const require = createRequire(import.meta.url);
const { Module } = require('node:module');
const compileAsNode = Module.prototype._compile;
require('v8-compile-cache');
const compileCached = Module.prototype._compile;
Module.prototype._compile = function compile(content, filename, format) {
  return format === 'module' ? compileAsNode.call(this, content, filename, format) : compileCached.call(this, content, filename);
};

register();
const { run } = await import('../src/cli/run.ts');
// Commands that keep running (server, worker, preview) resolve once started; the process lives on until they stop.
// The entry point hands the process's environment to run(), whose commands read it through loadConfig.
// eslint-disable-next-line no-restricted-properties
process.exitCode = await run(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd() });

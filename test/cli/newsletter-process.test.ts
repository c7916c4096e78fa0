/**
 * bin/newsletter.js as the shell runs it: the exit code the process ends with, what it prints.
 * Everything else about the commands runs in-process (runCli), through the same run(argv, io).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { spawnCli } from '../helpers/run-cli.ts';

describe.concurrent('the newsletter process', () => {
  it('--help lists every command and exits 0', async () => {
    const run = await spawnCli(['--help'], { env: {} });
    expect(run.code, run.stderr).toBe(0);
    for (const command of ['demo', 'render', 'subscribers', 'server', 'send', 'campaign', 'worker', 'preview']) {
      expect(run.stdout).toMatch(new RegExp(`^  ${command}\\b`, 'm'));
    }
    expect(run.stderr).toBe('');
  });

  it('exits 1 for a post that cannot be rendered, with one line naming the file and line', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'nl-process-')), 'bad.md');
    writeFileSync(file, '---\ntitle: ok\ntags: [a, b\n---\nbody\n');
    const run = await spawnCli(['render', file, '--out', join(file, '..', 'out')], { env: {} });
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('0 rendered, 1 failed\n');
    expect(run.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^newsletter: .*bad\.md:\d+: front matter is not valid YAML.*\[POST_FRONT_MATTER_INVALID\]$/),
    ]);
  });

  it('exits 1 for a bad setting, with one line naming it', async () => {
    const run = await spawnCli(['subscribers', 'count'], { env: { REDIS_URL: 'http://127.0.0.1:6379' } });
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^newsletter: REDIS_URL: a redis:\/\/, rediss:\/\/, redis\+sentinel:\/\/ or redis\+cluster:\/\/ URL.*\[CONFIG_INVALID\]$/),
    ]);
  });
});

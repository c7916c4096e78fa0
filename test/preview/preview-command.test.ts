/** `newsletter preview` as a process: prints its local URL, serves the posts, stops on SIGTERM; bad input gets one line. */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/run-cli.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const env = () => {
  const copy: NodeJS.ProcessEnv = { ...process.env, NEWSLETTER_CONFIG: 'newsletter.yaml' };
  delete copy.SMTP_URL;
  return copy;
};

describe('newsletter preview', () => {
  it('serves the seed on 127.0.0.1, says how to enable "Send a test", and stops cleanly on SIGTERM', async () => {
    const child = spawn('node', ['bin/newsletter.js', 'preview', 'emails/posts', '--port', '0'], { cwd: root, env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const match = /at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
        if (match) resolve(match[1]!);
      });
      child.once('exit', (code) => reject(new Error(`exited ${code}: ${out}`)));
    });
    try {
      const index = await (await fetch(url)).text();
      expect(index).toContain('SOFA Weekly | 每周精选【10/28 - 11/01】');
      expect(index).toContain('/post/sofa-weekly-2019-11-01.md');
      expect(out).toContain('"Send a test" is off: Set SMTP_URL');
    } finally {
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    }
  });

  it('refuses a path that does not exist, naming it', async () => {
    const run = await runCli(['preview', 'emails/no-such-folder'], env());
    expect(run.code).toBe(1);
    expect(run.stderr.trim()).toBe('newsletter: emails/no-such-folder: no such file or folder [POST_UNREADABLE]');
  });
});

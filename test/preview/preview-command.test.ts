/** `newsletter preview` as a process: prints its local URL, serves the posts, stops on SIGTERM; bad input gets one line. */
import { describe, expect, it } from 'vitest';
import { processesPerTest } from '../helpers/processes.ts';
import { runCli } from '../helpers/run-cli.ts';

const processes = processesPerTest();
/** No SMTP_URL: "Send a test" is off. */
const env = { NEWSLETTER_CONFIG: 'newsletter.yaml' };

describe('newsletter preview', () => {
  it('serves the seed on 127.0.0.1, says how to enable "Send a test", and stops cleanly on SIGTERM', async () => {
    const preview = await processes.newsletter(['preview', 'emails/posts', '--port', '0'], env, /at (http:\/\/127\.0\.0\.1:\d+\/)/);
    const url = preview.ready[1]!;
    const index = await (await fetch(url)).text();
    expect(index).toContain('SOFA Weekly | 每周精选【10/28 - 11/01】');
    expect(index).toContain('/post/sofa-weekly-2019-11-01.md');
    expect(preview.output()).toContain('"Send a test" is off: Set SMTP_URL');
    expect(await preview.stop('SIGTERM')).toEqual({ code: 0, signal: null });
  });

  it('refuses a path that does not exist, naming it', async () => {
    const run = await runCli(['preview', 'emails/no-such-folder'], { env });
    expect(run.code).toBe(1);
    expect(run.stderr.trim()).toBe('newsletter: emails/no-such-folder: no such file or folder [POST_UNREADABLE]');
  });
});

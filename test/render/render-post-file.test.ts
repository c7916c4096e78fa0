import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Identity } from '../../src/config.ts';
import { readPostSource, renderPostFile } from '../../src/render/render-post-file.ts';

const identity: Identity = {
  name: 'Demo Weekly',
  fromAddress: 'weekly@demo.example.org',
  siteUrl: 'https://demo.example.org',
  postalAddress: '1 Example Street, Example City',
  language: 'en',
  reason: 'You get this because you subscribed to Demo Weekly.',
  listId: 'weekly.demo.example.org',
};
const dir = mkdtempSync(join(tmpdir(), 'newsletter-post-file-'));
const write = (name: string, content: string | Buffer) => {
  const file = join(dir, name);
  writeFileSync(file, content);
  return file;
};

describe('reading a post file', () => {
  it('renders a post that quotes U+FFFD, a valid character', async () => {
    const file = write('replacement.md', 'Title: On \uFFFD\nDate: 2014-2-9\n\nA bad byte shows as \uFFFD in your editor.\n');
    const issue = await renderPostFile(file, { identity });
    expect(issue.date).toBe('2014-02-09');
    expect(issue.text).toContain('A bad byte shows as \uFFFD');
  });

  it('refuses bytes that are not UTF-8 with the line of the first one', async () => {
    const file = write('latin1.md', Buffer.concat([Buffer.from('Title: T\nDate: 2024-01-01\n\nfine\n', 'utf8'), Buffer.from('caf\xe9\n', 'latin1')]));
    await expect(readPostSource(file)).rejects.toMatchObject({ code: 'POST_UNREADABLE', location: { file, line: 5 } });
  });
});

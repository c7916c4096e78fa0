/**
 * A campaign message, built as delivery builds it (MIME template, List-Unsubscribe, both
 * parts, a signed unsubscribe link), scored by Debian's SpamAssassin with its local rules
 * only. Nothing the layout produces may count against it. SpamAssassin is required: a
 * machine without it fails here rather than skipping (apt-get install spamassassin).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Identity } from '../../src/config.ts';
import { buildMessageTemplate, messageIdFor, personalise } from '../../src/delivery/message-template.ts';
import { recipientLinks } from '../../src/delivery/recipient-links.ts';
import { parsePost } from '../../src/render/parse-post.ts';
import { renderIssue } from '../../src/render/render-issue.ts';
import { loadTemplates } from '../../src/render/templates.ts';
import { DEV_SECRET } from '../../src/subscribers/signing-secrets.ts';

const SPAMASSASSIN = '/usr/bin/spamassassin';
/** Says only that the message has an HTML part (score 0.001): every HTML email hits it. */
const INFORMATIONAL = new Set(['HTML_MESSAGE']);

const identity: Identity = {
  name: 'SOFA Weekly',
  fromName: 'SOFA Weekly',
  fromAddress: 'weekly@sofastack.tech',
  replyTo: 'weekly@sofastack.tech',
  siteUrl: 'https://www.sofastack.tech',
  postalAddress: 'SOFAStack Open Source Community, 556 Xixi Road, Hangzhou, China',
  language: 'zh-CN',
  reason: '您收到这封邮件，是因为您订阅了 SOFA Weekly。',
  listId: 'weekly.sofastack.tech',
};

const POSTS = [
  { name: 'the seed post (Chinese, quotes, images)', file: resolve('emails/posts/sofa-weekly-2019-11-01.md') },
  { name: 'the narrow-screen post (tables, code, links)', file: resolve('test/fixtures/posts/narrow-screen.md') },
];

async function campaignMessage(file: string): Promise<string> {
  const issue = await renderIssue(parsePost(await readFile(file, 'utf8'), file), { identity, templates: loadTemplates() });
  const campaignId = `${issue.slug}--weekly`;
  const links = recipientLinks(DEV_SECRET, 'https://news.sofastack.tech', identity)('sub-1', { id: campaignId });
  const template = buildMessageTemplate({
    issue,
    identity,
    campaignId,
    date: new Date('2026-11-30T09:00:00Z'),
    viewUrl: `https://news.sofastack.tech/issues/${issue.slug}`,
  });
  return personalise(template, {
    to: 'reader@example.com',
    messageId: messageIdFor(campaignId, 'sub-1', identity.fromAddress),
    listUnsubscribe: links.listUnsubscribe,
    unsubscribeUrl: links.unsubscribeUrl,
  }).toString('utf8');
}

interface Verdict {
  score: number;
  rules: string[];
  report: string;
}

let home: string;
beforeAll(async () => {
  // SpamAssassin keeps per-user state in ~/.spamassassin: give it a home of its own.
  home = await mkdtemp(join(tmpdir(), 'nl-spamassassin-'));
});
afterAll(async () => {
  if (home) await rm(home, { recursive: true, force: true });
});

/** Local tests only (no DNS or network lists), no Bayes database: the score the message itself earns. */
function score(message: string): Promise<Verdict> {
  if (!existsSync(SPAMASSASSIN)) throw new Error(`SpamAssassin not found at ${SPAMASSASSIN}: this test needs it (apt-get install spamassassin)`);
  const args = ['--local', '--test-mode', '--cf=use_bayes 0', '--cf=bayes_auto_learn 0'];
  return new Promise((done, fail) => {
    const child = spawn(SPAMASSASSIN, args, { env: { PATH: process.env.PATH, HOME: home, LANG: 'C.UTF-8' } });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.on('error', fail);
    child.on('close', (code) => {
      const status = /^X-Spam-Status: (.*(?:\r?\n[ \t].*)*)/m.exec(out)?.[1]?.replace(/\s+/g, ' ');
      if (code !== 0 || !status) return fail(new Error(`spamassassin exited ${code} without a verdict: ${err.slice(0, 2000)}`));
      const tests = /\btests=(\S*)/.exec(status)?.[1] ?? 'none';
      done({
        score: Number(/\bscore=(-?[\d.]+)/.exec(status)![1]),
        rules: tests === 'none' ? [] : tests.split(',').filter(Boolean),
        report: out.slice(out.indexOf('Content analysis details')),
      });
    });
    child.stdin.end(message);
  });
}

describe.each(POSTS)('a campaign message of $name', ({ file }) => {
  it('scores 0 or below with SpamAssassin, and no HTML or MIME rule hits', async () => {
    const verdict = await score(await campaignMessage(file));
    const layoutRules = verdict.rules.filter((rule) => /^(HTML_|MIME_)/.test(rule) && !INFORMATIONAL.has(rule));
    expect(layoutRules, verdict.report).toEqual([]);
    expect(verdict.score, verdict.report).toBeLessThanOrEqual(0);
  });
});

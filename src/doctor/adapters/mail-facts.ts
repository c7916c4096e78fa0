/**
 * A message built from a post the way a delivery worker builds one (template, then one
 * recipient's values), to look at, never to send. Adapter: it reads the post from disk.
 */
import { readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { issueUrl } from '../../campaign/issue-url.ts';
import type { Config } from '../../config.ts';
import { buildMessageTemplate, messageIdFor, personalise } from '../../delivery/message-template.ts';
import { recipientLinks } from '../../delivery/recipient-links.ts';
import { TEST_REF } from '../../delivery/return-path.ts';
import { PLACEHOLDERS } from '../../render/placeholders.ts';
import { renderPostFile } from '../../render/render-post-file.ts';
import type { MailFacts } from '../mail-checks.ts';

/** The posts folder's last post by name (posts are usually named by date), searched one level deep. */
export async function examplePost(postsDir: string): Promise<string | undefined> {
  const entries = await readdir(postsDir, { withFileTypes: true, recursive: true }).catch(() => []);
  const posts = entries.filter((entry) => entry.isFile() && entry.name.endsWith('.md')).map((entry) => join(entry.parentPath, entry.name));
  return posts.sort().at(-1);
}

function header(head: string, name: string): string | undefined {
  return new RegExp(`^${name}:[ \\t]*(.*)$`, 'im').exec(head)?.[1]?.trim();
}

export async function readMailFacts(config: Config, post: string, secret: string, cwd: string): Promise<MailFacts> {
  const issue = await renderPostFile(post, { identity: config.identity });
  const viewUrl = issueUrl(config.http.publicUrl, issue.slug);
  const campaignId = `doctor-${issue.slug}`;
  const template = buildMessageTemplate({ issue, identity: config.identity, campaignId, date: new Date(), viewUrl });
  const id = 'doctor';
  const links = recipientLinks(secret, config.http.publicUrl, config.identity, config.bounces.domain)(id, { ref: TEST_REF });
  const raw = personalise(template, {
    to: `postmaster@${config.identity.fromAddress.split('@')[1]}`,
    messageId: messageIdFor(campaignId, id, config.identity.fromAddress),
    ...links,
  }).toString('utf8');
  const head = raw.slice(0, raw.indexOf('\r\n\r\n'));
  const html = issue.html.split(PLACEHOLDERS.viewInBrowserUrl).join(viewUrl).split(PLACEHOLDERS.unsubscribeUrl).join(links.unsubscribeUrl);
  const hasTextPart = /^Content-Type: text\/plain/im.test(raw);
  return {
    post: relative(cwd, post) || post,
    listUnsubscribe: header(head, 'List-Unsubscribe'),
    listUnsubscribePost: header(head, 'List-Unsubscribe-Post'),
    htmlBytes: Buffer.byteLength(html, 'utf8'),
    textLength: hasTextPart ? issue.text.trim().length : undefined,
  };
}

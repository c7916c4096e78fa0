/**
 * What one subscriber would receive, built with the same code delivery uses: the
 * planned view URL, a signed unsubscribe link, the MIME template and its personalised
 * headers. PURE: the time is passed in. The sample reader is signed with the public
 * development secret, so its links are realistic but unsubscribe no one.
 */
import type { Identity } from '../config.ts';
import { planCampaign } from '../campaign/plan.ts';
import { buildMessageTemplate, messageIdFor, personalise } from '../delivery/message-template.ts';
import { recipientLinks } from '../delivery/recipient-links.ts';
import type { Issue } from '../render/issue.ts';
import { fillPlaceholders } from '../render/placeholders.ts';
import { DEV_SECRET } from '../subscribers/signing-secrets.ts';
import { parseHeaderLines, type MessageHeader } from './captured-message.ts';

export const SAMPLE_SUBSCRIBER = { id: 'preview-sample', email: 'reader@example.com' } as const;

export interface SampleMessage {
  /** The HTML and text parts with every placeholder filled for the sample reader. */
  html: string;
  text: string;
  viewUrl: string;
  unsubscribeUrl: string;
  /** The message's header block as sent (unfolded lines, encoded words left encoded). */
  headers: MessageHeader[];
  /** Bytes of the whole MIME message and of the HTML part before transfer encoding. */
  messageBytes: number;
  htmlBytes: number;
  fromName: string;
}

export function sampleMessage(issue: Issue, identity: Identity, publicUrl: string, now: Date): SampleMessage {
  const { snapshot } = planCampaign({ issue, list: 'preview', now, publicUrl });
  const links = recipientLinks(DEV_SECRET, publicUrl, identity)(SAMPLE_SUBSCRIBER.id);
  const unsubscribe = links.unsubscribeUrl;
  const template = buildMessageTemplate({ issue, identity, campaignId: `preview-${issue.slug}`, date: now, viewUrl: snapshot.viewUrl });
  const raw = personalise(template, {
    to: SAMPLE_SUBSCRIBER.email,
    messageId: messageIdFor(`preview-${issue.slug}`, SAMPLE_SUBSCRIBER.id, identity.fromAddress),
    listUnsubscribe: links.listUnsubscribe,
    unsubscribeUrl: unsubscribe,
  }).toString('utf8');
  const values = { unsubscribeUrl: unsubscribe, viewInBrowserUrl: snapshot.viewUrl };
  const html = fillPlaceholders(issue.html, values);
  return {
    html,
    text: fillPlaceholders(issue.text, values),
    viewUrl: snapshot.viewUrl,
    unsubscribeUrl: unsubscribe,
    headers: parseHeaderLines(raw.slice(0, raw.indexOf('\r\n\r\n'))),
    messageBytes: Buffer.byteLength(raw),
    htmlBytes: Buffer.byteLength(html),
    fromName: identity.fromName ?? identity.name,
  };
}

/**
 * `send --test-to`: one message, marked as a test, straight through the SMTP pool. No
 * campaign, no counters, no ledger. The unsubscribe link is the subscriber's own when the
 * address is subscribed, so the editor can click through it; otherwise a token for "test".
 */
import type { Identity } from '../config.ts';
import type { IssueSnapshot } from '../campaign/campaign.ts';
import type { SigningSecrets } from '../subscribers/tokens.ts';
import { recipientLinks } from './recipient-links.ts';
import { TEST_REF } from './return-path.ts';
import { buildMessageTemplate, messageIdFor, personalise } from './message-template.ts';
import type { MessageTransport } from './transport.ts';

export interface TestMessageInput {
  issue: Pick<IssueSnapshot, 'subject' | 'html' | 'text' | 'slug' | 'viewUrl'>;
  to: string;
  subscriberId: string | undefined;
  now: Date;
}

export async function sendTestMessage(
  deps: { transport: MessageTransport; identity: Identity; secrets: SigningSecrets; publicUrl: string; bounceDomain?: string },
  input: TestMessageInput,
): Promise<string> {
  const campaignId = `test-${input.issue.slug}`;
  const template = buildMessageTemplate({ issue: input.issue, identity: deps.identity, campaignId, date: input.now, viewUrl: input.issue.viewUrl, test: true });
  const id = input.subscriberId ?? 'test';
  const links = recipientLinks(deps.secrets.current, deps.publicUrl, deps.identity, deps.bounceDomain)(id, { ref: TEST_REF });
  const raw = personalise(template, {
    to: input.to,
    messageId: messageIdFor(`${campaignId}-${input.now.getTime()}`, id, deps.identity.fromAddress),
    ...links,
  });
  return deps.transport.send({ from: links.returnPath ?? template.from, to: input.to }, raw);
}

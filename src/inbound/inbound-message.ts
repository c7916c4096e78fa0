/**
 * One message that came back to us (a bounce, a complaint, a reply, anything), read into plain
 * data by parse-inbound-message.ts and judged by classify-inbound-message.ts. Types only.
 */
import type { DeliveryStatus } from './delivery-status.ts';
import type { HeaderFields } from './header-fields.ts';

/** What the returned copy of our message says about itself: the candidates for matching it to a delivery. */
export interface OriginalMessage {
  /** Without angle brackets. Ours look like `<campaign id>.<subscriber id>@<from domain>`. */
  messageId: string | null;
  /** The identifier between the angle brackets of List-Id, e.g. `weekly.example.org`. */
  listId: string | null;
  /** The envelope sender it was sent with (for us, a VERP address), without angle brackets. */
  returnPath: string | null;
  /** Every address in To. */
  to: string[];
  from: string | null;
  subject: string | null;
  /** Our X-Newsletter-Campaign header, when the copy kept it. */
  campaign: string | null;
  autoSubmitted: string | null;
  /** The subscriber a feedback loop names inside the returned copy (Microsoft's X-HmXmrOriginalRecipient). */
  feedbackLoopRecipient: string | null;
}

export interface InboundMessage {
  /** The top-level header fields, lower-case names, unfolded values as written (encoded words left encoded). */
  headers: HeaderFields;
  /** Decoded. */
  subject: string;
  /** The sender's address from From, lower case, or null. */
  from: string | null;
  /** `multipart/report` and the like, lower case; `text/plain` when absent. */
  contentType: string;
  /** The `report-type` parameter (`delivery-status`, `feedback-report`), lower case, or null. */
  reportType: string | null;
  /** The human-readable text: the text/plain parts, else the HTML as text. At most MAX_TEXT_CHARS. */
  text: string;
  /** From the message/delivery-status part; else read from the text when it carries the same fields. */
  deliveryStatus: DeliveryStatus | null;
  /** The fields of the message/feedback-report part (RFC 5965), or of a report written into the text. */
  feedbackReport: HeaderFields | null;
  /** The returned message's headers: from message/rfc822 or text/rfc822-headers, else found in the text. */
  original: OriginalMessage | null;
  /** Whether the input was longer than the cap and only its beginning was read. */
  truncated: boolean;
  /** Why parsing stopped early (the MIME structure was broken), or null. What was read before is kept. */
  problem: string | null;
}

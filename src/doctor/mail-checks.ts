/**
 * A message as a subscriber receives it, built from a post exactly as a delivery worker builds
 * it: valid List-Unsubscribe headers, HTML under Gmail's clip, a text part. PURE.
 */
import { verdict, type CheckResult } from './check.ts';

/** Gmail shows "[Message clipped]" and hides the rest, the footer's unsubscribe link included, past this much HTML. */
export const GMAIL_CLIP_BYTES = 102 * 1024;

export interface MailFacts {
  /** The post the message was built from (relative to the working directory). */
  readonly post: string;
  readonly listUnsubscribe: string | undefined;
  readonly listUnsubscribePost: string | undefined;
  /** The HTML part, personalised, in bytes. */
  readonly htmlBytes: number;
  /** The text part's characters, without surrounding space; undefined when the message has none. */
  readonly textLength: number | undefined;
}

const ONE_CLICK = 'List-Unsubscribe=One-Click';

/** RFC 2369 (angle brackets, commas), RFC 8058 (one https URI, the One-Click Post header). */
export function checkListUnsubscribe(facts: Pick<MailFacts, 'post' | 'listUnsubscribe' | 'listUnsubscribePost'>, publicUrl: string): CheckResult {
  const v = verdict('http.list-unsubscribe', 'http');
  const value = facts.listUnsubscribe?.trim();
  const fixCode = 'a bug: List-Unsubscribe is built in src/subscribers/tokens.ts; please report it';
  if (!value) return v.fail(`a message built from ${facts.post} has no List-Unsubscribe header`, fixCode);
  if (!/^<[^<>\s]+>(\s*,\s*<[^<>\s]+>)*$/.test(value)) return v.fail(`List-Unsubscribe "${value}" is not a list of URIs in angle brackets`, fixCode);
  const uris = [...value.matchAll(/<([^<>]+)>/g)].map((match) => match[1]!);
  const web = uris.find((uri) => /^https?:\/\//i.test(uri));
  const mailto = uris.find((uri) => /^mailto:[^@\s]+@[^@\s?]+/i.test(uri));
  if (!web) return v.fail('List-Unsubscribe has no http(s) URI: one-click unsubscribe is impossible', fixCode);
  if (!mailto) return v.fail('List-Unsubscribe has no mailto: URI', fixCode);
  if (facts.listUnsubscribePost?.trim() !== ONE_CLICK) {
    return v.fail(`List-Unsubscribe-Post is "${facts.listUnsubscribePost ?? ''}", not "${ONE_CLICK}": providers will not offer one-click`, fixCode);
  }
  if (!web.startsWith(`${publicUrl}/`)) return v.fail(`the List-Unsubscribe URI does not start with PUBLIC_URL (${publicUrl})`, fixCode);
  if (!/^https:/i.test(web)) {
    return v.warn(
      'List-Unsubscribe and List-Unsubscribe-Post are well formed, but the URI is http: RFC 8058 one-click needs https',
      'set PUBLIC_URL to an https:// address',
    );
  }
  return v.pass(`List-Unsubscribe has an https URI and a mailto, in angle brackets, with List-Unsubscribe-Post: ${ONE_CLICK}`);
}

export function checkClip(facts: Pick<MailFacts, 'post' | 'htmlBytes'>): CheckResult {
  const v = verdict('mail.size', 'mail');
  const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;
  const fix = 'shorten the post, or link to the rest on the web (large tables and pasted HTML weigh most)';
  if (facts.htmlBytes >= GMAIL_CLIP_BYTES) {
    return v.fail(
      `the HTML of ${facts.post} is ${kib(facts.htmlBytes)}: Gmail clips past ${kib(GMAIL_CLIP_BYTES)}, hiding the rest and the unsubscribe link`,
      fix,
    );
  }
  if (facts.htmlBytes >= GMAIL_CLIP_BYTES * 0.9)
    return v.warn(`the HTML of ${facts.post} is ${kib(facts.htmlBytes)}, close to Gmail's clip at ${kib(GMAIL_CLIP_BYTES)}`, fix);
  return v.pass(`the HTML of ${facts.post} is ${kib(facts.htmlBytes)}, under Gmail's clip at ${kib(GMAIL_CLIP_BYTES)}`);
}

export function checkTextPart(facts: Pick<MailFacts, 'post' | 'textLength'>): CheckResult {
  const v = verdict('mail.text-part', 'mail');
  if (facts.textLength === undefined)
    return v.fail(
      `a message built from ${facts.post} has no text/plain part: spam filters count that against it`,
      'a bug: the text part is built in src/delivery/message-template.ts; please report it',
    );
  if (facts.textLength === 0) return v.fail(`the text part of ${facts.post} is empty`, 'give the post some text (not only images or pasted HTML)');
  return v.pass(`a message built from ${facts.post} has a text part (${facts.textLength} characters)`);
}

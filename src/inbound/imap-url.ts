/**
 * BOUNCE_IMAP_URL (`imaps://user:pass@imap.example.com/INBOX`) read into what an IMAP client
 * needs, and the form that may be logged: the password never leaves this object except as the
 * client's credentials. PURE.
 */
import { NewsletterError } from '../errors.ts';

export interface ImapMailboxAddress {
  host: string;
  port: number;
  /** imaps: TLS from the first byte (port 993); imap: STARTTLS when the server offers it (port 143). */
  secure: boolean;
  user: string;
  pass: string;
  /** The mailbox to read: the URL's path, INBOX when it has none. */
  mailbox: string;
  /** The URL with the password replaced by `***`, for logs and error messages. */
  masked: string;
}

const FIELD = 'BOUNCE_IMAP_URL';

export function readImapUrl(text: string): ImapMailboxAddress {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new NewsletterError('CONFIG_INVALID', 'not a URL; expected e.g. imaps://user:pass@imap.example.com/INBOX', { field: FIELD });
  }
  const secure = url.protocol === 'imaps:';
  if (!secure && url.protocol !== 'imap:') {
    throw new NewsletterError('CONFIG_INVALID', `expected an imaps:// or imap:// URL, not ${url.protocol}//`, { field: FIELD });
  }
  const user = decodeURIComponent(url.username);
  const pass = decodeURIComponent(url.password);
  const mailbox = decodeURIComponent(url.pathname.replace(/^\/+/, '')) || 'INBOX';
  const port = url.port ? Number(url.port) : secure ? 993 : 143;
  const masked = `${url.protocol}//${url.username}${url.password ? ':***' : ''}@${url.host}/${url.pathname.replace(/^\/+/, '') || 'INBOX'}`;
  if (!url.hostname) throw new NewsletterError('CONFIG_INVALID', `no host in ${masked}`, { field: FIELD });
  if (!user || !pass) {
    throw new NewsletterError('CONFIG_INVALID', `the user name and the password go in the URL, as in imaps://user:pass@imap.example.com/INBOX; got ${masked}`, {
      field: FIELD,
    });
  }
  // An IPv6 literal keeps its brackets in a URL, not in a socket address.
  return { host: url.hostname.replace(/^\[(.*)\]$/, '$1'), port, secure, user, pass, mailbox, masked };
}

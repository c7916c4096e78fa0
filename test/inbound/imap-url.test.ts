import { describe, expect, it } from 'vitest';
import { isNewsletterError } from '../../src/errors.ts';
import { readImapUrl } from '../../src/inbound/imap-url.ts';

describe('readImapUrl', () => {
  it('reads an imaps URL: TLS on port 993, the mailbox from the path, the password only as the credential', () => {
    expect(readImapUrl('imaps://bounces%40news.example.com:p%40ss%3Aw0rd@imap.example.com/Bounces%2FNews')).toEqual({
      host: 'imap.example.com',
      port: 993,
      secure: true,
      user: 'bounces@news.example.com',
      pass: 'p@ss:w0rd',
      mailbox: 'Bounces/News',
      masked: 'imaps://bounces%40news.example.com:***@imap.example.com/Bounces%2FNews',
    });
  });

  it('reads an imap URL: port 143 unless given, INBOX when there is no path, an IPv6 host without its brackets', () => {
    expect(readImapUrl('imap://u:p@[::1]')).toMatchObject({ host: '::1', port: 143, secure: false, mailbox: 'INBOX', masked: 'imap://u:***@[::1]/INBOX' });
    expect(readImapUrl('imap://u:p@127.0.0.1:10143/')).toMatchObject({ host: '127.0.0.1', port: 10143, mailbox: 'INBOX' });
  });

  it('wants the user name and the password in the URL, and says so without repeating what it got in clear', () => {
    for (const url of ['imaps://imap.example.com/INBOX', 'imaps://bounces@imap.example.com/INBOX', 'imaps://:secret-pw@imap.example.com/']) {
      let error: unknown;
      try {
        readImapUrl(url);
      } catch (e) {
        error = e;
      }
      expect(isNewsletterError(error, 'CONFIG_INVALID')).toBe(true);
      expect(error).toMatchObject({ location: { field: 'BOUNCE_IMAP_URL' } });
      expect(String((error as Error).message)).not.toContain('secret-pw');
    }
  });

  it('refuses what is not an IMAP URL', () => {
    expect(() => readImapUrl('https://u:p@imap.example.com/')).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    expect(() => readImapUrl('imap.example.com')).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });
});

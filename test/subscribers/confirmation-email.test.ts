import { describe, expect, it } from 'vitest';
import { confirmationEmail } from '../../src/subscribers/confirmation-email.ts';

const identity = { name: 'Test & Weekly', fromAddress: 'weekly@example.com', siteUrl: 'https://example.com' };

describe('confirmationEmail', () => {
  it('carries the link in both parts and escapes everything in the HTML part', () => {
    const url = 'https://news.example.com/confirm/abc.def';
    const message = confirmationEmail({ identity, email: 'a@example.com', confirmUrl: url });
    expect(message.subject).toBe('Confirm your subscription to Test & Weekly');
    // No display name: the subscriber's name is text a visitor typed (test/bad-input/subscribe-name.test.ts).
    expect(message.to).toBe('a@example.com');
    expect(message.from).toEqual({ name: 'Test & Weekly', address: 'weekly@example.com' });
    expect(message.text).toContain(url);
    expect(message.html).toContain(`href="${url}"`);
    expect(message.html).toContain('Test &amp; Weekly');
    expect(message.headers['Auto-Submitted']).toBe('auto-generated');
  });
});

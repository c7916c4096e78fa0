/**
 * Which secret signs tokens. Without NEWSLETTER_SECRET the newsletter refuses to run,
 * except in explicit dev mode, where a fixed secret that is PUBLIC (it is in this file)
 * is used: tokens made with it are forgeable by anyone, so never use dev mode in production.
 */
import type { Config } from '../config.ts';
import { NewsletterError } from '../errors.ts';
import type { SigningSecrets } from './tokens.ts';

export const DEV_SECRET = 'newsletter-dev-mode-secret-PUBLIC-never-use-in-production';

export function signingSecrets(config: Pick<Config, 'secrets' | 'devMode'>): SigningSecrets {
  const { current, previous } = config.secrets;
  if (current) return previous ? { current, previous } : { current };
  if (config.devMode) return { current: DEV_SECRET };
  throw new NewsletterError(
    'CONFIG_INVALID',
    'required to sign unsubscribe and confirmation links: set it to at least 32 random characters (openssl rand -base64 48), or NEWSLETTER_DEV_MODE=1 for local development',
    { field: 'NEWSLETTER_SECRET' },
  );
}

/**
 * The double opt-in email. PURE: gets the confirmation URL, returns a nodemailer message.
 * It goes from the newsletter's domain to any address a visitor types, so it carries no text
 * the visitor chose: no name (it could read "verify your account at https://…"), only the
 * address it is sent to.
 */
import type { Identity } from '../config.ts';
import { escapeHtml as escape } from '../escape-html.ts';

export interface ConfirmationMessage {
  from: { name: string; address: string };
  replyTo?: string;
  to: string;
  subject: string;
  text: string;
  html: string;
  headers: Record<string, string>;
  /** MAIL FROM, when it is not the From address: the signed return path with BOUNCE_DOMAIN. */
  envelope?: { from: string; to: string };
}

export function confirmationEmail(opts: {
  identity: Pick<Identity, 'name' | 'fromName' | 'fromAddress' | 'replyTo' | 'siteUrl'>;
  email: string;
  confirmUrl: string;
  returnPath?: string;
}): ConfirmationMessage {
  const { identity, email, confirmUrl, returnPath } = opts;
  const subject = `Confirm your subscription to ${identity.name}`;
  const text = [
    'Hello,',
    '',
    `Someone (hopefully you) asked to subscribe ${email} to ${identity.name}.`,
    'To confirm, open this link and press the button on the page:',
    '',
    confirmUrl,
    '',
    'If you did not ask for this, ignore this email: you will not be subscribed and will not hear from us again.',
    '',
    `${identity.name} - ${identity.siteUrl}`,
    '',
  ].join('\n');
  const html = `<!doctype html><html><body style="font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;font-size:16px;line-height:1.5;color:#1b1b1b">
<p>Hello,</p>
<p>Someone (hopefully you) asked to subscribe <strong>${escape(email)}</strong> to ${escape(identity.name)}.</p>
<p><a href="${escape(confirmUrl)}" style="display:inline-block;background:#1f5fbf;color:#ffffff;padding:12px 20px;border-radius:6px;text-decoration:none;font-weight:600">Confirm my subscription</a></p>
<p style="color:#555;font-size:14px">Or copy this link into your browser: ${escape(confirmUrl)}</p>
<p style="color:#555;font-size:14px">If you did not ask for this, ignore this email: you will not be subscribed and will not hear from us again.</p>
</body></html>`;
  return {
    from: { name: identity.fromName ?? identity.name, address: identity.fromAddress },
    ...(identity.replyTo ? { replyTo: identity.replyTo } : {}),
    to: email,
    subject,
    text,
    html,
    // RFC 3834: an automatic reply, so vacation responders stay quiet.
    headers: { 'Auto-Submitted': 'auto-generated' },
    ...(returnPath ? { envelope: { from: returnPath, to: email } } : {}),
  };
}

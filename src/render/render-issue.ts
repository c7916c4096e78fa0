/**
 * Post -> Issue: the whole email, rendered once per issue. Per-recipient values stay
 * as placeholders (placeholders.ts) for delivery to fill.
 */
import mjml2html from 'mjml';
import Mustache from 'mustache';
import { decodeHTML } from 'entities';
import { escapeHtml } from '../escape-html.ts';
import type { Identity } from '../config.ts';
import { NewsletterError } from '../errors.ts';
import { htmlToText } from './html-to-text.ts';
import type { Issue, Post, RenderWarning } from './issue.ts';
import { compactHtml } from './compact-html.ts';
import { breaksLines, formatCalendarDate, issueLabel, labelsFor } from './labels.ts';
import { markdownToHtml } from './markdown-to-html.ts';
import { PLACEHOLDERS } from './placeholders.ts';
import { postLanguage } from './post-language.ts';
import { preheaderFromDescription, preheaderFromHtml } from './preheader.ts';
import { resolveUrl } from './resolve-url.ts';
import type { Templates } from './templates.ts';

/** Gmail clips messages whose HTML is larger than this, hiding the footer and its unsubscribe link. */
export const GMAIL_CLIP_BYTES = 102 * 1024;

export interface RenderOptions {
  identity: Identity;
  templates: Templates;
  /** Overrides the post's and the config's base URL for site-relative links. */
  baseUrl?: string;
}

const plain = (text: string) => decodeHTML(text).replace(/\s+/g, ' ').trim();

/** A broken layout or partial is the operator's to fix: say which folder, not Mustache's internals. */
function fillTemplate(templates: Templates, name: string, fill: () => string): string {
  try {
    return fill();
  } catch (cause) {
    throw new NewsletterError('RENDER_FAILED', `the email template ${name} (or a partial) is broken: ${(cause as Error).message}`, {
      file: templates.dir,
      cause,
    });
  }
}

export async function renderIssue(post: Post, { identity, templates, baseUrl }: RenderOptions): Promise<Issue> {
  // The post's own language decides its line breaks; the labels follow it only when declared.
  const language = postLanguage(post.meta.language, post.markdown, identity.language);
  const siteUrl = baseUrl ?? post.meta.baseUrl ?? identity.siteUrl;
  const body = markdownToHtml(post.markdown, {
    baseUrl: siteUrl,
    firstLine: post.bodyLine,
    lineBreaks: breaksLines(language.text),
  });
  const warnings: RenderWarning[] = [...post.warnings, ...body.warnings];

  let cover: string | undefined;
  if (post.meta.cover) {
    const verdict = resolveUrl(post.meta.cover, siteUrl);
    const line = post.fieldLines.cover ?? post.fieldLines.image;
    if (verdict.kind === 'ok') {
      cover = verdict.url;
      if (verdict.insecure) warnings.push({ code: 'IMAGE_INSECURE', message: `cover image uses http: ${cover}`, line });
    } else {
      warnings.push({ code: 'LINK_UNFOLLOWABLE', message: `cover image "${post.meta.cover}" cannot be shown; left out`, line });
    }
  }
  if (!post.meta.date) {
    warnings.push({ code: 'POST_DATE_MISSING', message: 'the post has no date; the header shows none', line: 1 });
  }

  const bodyText = htmlToText(body.html, { wrap: !breaksLines(language.text) });
  const subject = plain(post.meta.title);
  // A description that is only a link has nothing left to preview: the body speaks instead.
  const preheader = (post.meta.description && preheaderFromDescription(post.meta.description)) || preheaderFromHtml(body.html);
  const view = {
    language: language.text,
    subject,
    preheader,
    title: subject,
    newsletterName: identity.name,
    date: post.meta.date,
    displayDate: post.meta.date ? formatCalendarDate(post.meta.date, language.labels) : undefined,
    issueLabel: post.meta.number ? issueLabel(post.meta.number, language.labels) : undefined,
    author: post.meta.author ? plain(post.meta.author) : undefined,
    cover,
    bodyHtml: body.html,
    bodyText,
    reason: identity.reason,
    postalAddress: identity.postalAddress,
    labels: labelsFor(language.labels),
    unsubscribeUrl: PLACEHOLDERS.unsubscribeUrl,
    viewInBrowserUrl: PLACEHOLDERS.viewInBrowserUrl,
  };

  // Mustache's own escaping also encodes `/` and `=`, which would mangle URLs in attributes.
  const mjml = fillTemplate(templates, 'layouts/issue.mjml', () => Mustache.render(templates.mjml, view, templates.partials, { escape: escapeHtml }));
  let result: Awaited<ReturnType<typeof mjml2html>>;
  try {
    result = await mjml2html(mjml, { validationLevel: 'soft', keepComments: false });
  } catch (cause) {
    throw new NewsletterError('RENDER_FAILED', `MJML could not render the layout: ${(cause as Error).message}`, {
      file: post.file,
      cause,
    });
  }
  result.html = compactHtml(result.html);
  for (const error of result.errors) {
    warnings.push({ code: 'MJML_INVALID', message: `layout line ${error.line}: ${error.message}`, line: undefined });
  }
  const htmlBytes = Buffer.byteLength(result.html);
  if (htmlBytes > GMAIL_CLIP_BYTES) {
    warnings.push({
      code: 'HTML_TOO_LARGE',
      message: `HTML is ${(htmlBytes / 1024).toFixed(1)} KB; Gmail clips messages over 102 KB, hiding the unsubscribe link`,
      line: undefined,
    });
  }
  const text =
    fillTemplate(templates, 'layouts/issue.txt', () => Mustache.render(templates.text, view, {}, { escape: (value: string) => value })).trim() + '\n';
  return { slug: post.slug, subject, preheader, date: post.meta.date, mjml, html: result.html, text, warnings };
}

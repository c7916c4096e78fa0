/**
 * Which language a post is written in, for what depends on it: whether a single line break
 * is meant (CJK writers don't hard-wrap; English writers do), the `lang` of the email, and
 * the words and date format of the layout.
 *
 * - Declared (`lang`/`language` in the front matter): used for everything.
 * - Not declared: the text decides line breaks and `lang` (CJK or not, from the share of CJK
 *   characters among the letters of the prose, code and URLs left out); the labels and the
 *   date stay in the newsletter's language, which is all the post said about them.
 */

const CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/gu;
const KANA = /[\p{Script=Hiragana}\p{Script=Katakana}]/gu;
const HANGUL = /\p{Script=Hangul}/gu;
const LETTER = /\p{L}/gu;

/**
 * Prose is CJK when at least this share of its letters are CJK characters. A Chinese
 * sentence naming English projects (`SOFARPC 发布了 5.5.8 版本`) stays far above it, an
 * English one quoting a Chinese name (`thanks to 张三`) far below: one CJK character
 * carries about as much as a whole English word of five letters.
 */
export const CJK_SHARE = 0.2;

/** The prose of a Markdown body: fenced and inline code, URLs and tags left out. */
export function proseOfMarkdown(markdown: string): string {
  return (
    markdown
      // An unclosed fence runs to the end of the post, as in CommonMark.
      .replace(/^( {0,3})(`{3,}|~{3,})[^\n]*\n[\s\S]*?(?:\n\1\2[`~]*[^\S\n]*(?=\n|(?![\s\S]))|(?![\s\S]))/gm, ' ')
      .replace(/`+[^`\n]*`+/g, ' ')
      .replace(/\]\([^)\s]*(?:\s+"[^"]*")?\)/g, '] ')
      .replace(/\b(?:https?:\/\/|www\.)\S+/gi, ' ')
      .replace(/<[^>\n]*>/g, ' ')
  );
}

export type Script = 'zh' | 'ja' | 'ko' | 'other';

/** The script family the prose is written in; `other` for no letters at all. */
export function detectScript(markdown: string): Script {
  const prose = proseOfMarkdown(markdown);
  const letters = prose.match(LETTER)?.length ?? 0;
  const cjk = prose.match(CJK)?.length ?? 0;
  if (letters === 0 || cjk / letters < CJK_SHARE) return 'other';
  // Japanese mixes kana into its kanji on almost every line; Korean is nearly all Hangul.
  if ((prose.match(HANGUL)?.length ?? 0) * 2 > cjk) return 'ko';
  if ((prose.match(KANA)?.length ?? 0) * 10 > cjk) return 'ja';
  return 'zh';
}

const primary = (tag: string) => tag.toLowerCase().split('-')[0]!;
const isCjkTag = (tag: string) => ['zh', 'ja', 'ko'].includes(primary(tag));

/** A tag Intl accepts (`zh_CN` written the POSIX way becomes `zh-CN`), or undefined. */
export function canonicalLanguage(tag: string | undefined): string | undefined {
  if (!tag) return undefined;
  try {
    return Intl.getCanonicalLocales(tag.trim().replace(/_/g, '-'))[0];
  } catch {
    return undefined;
  }
}

export interface PostLanguage {
  /** The post's language: `<mjml lang>` and whether a single line break is kept. */
  text: string;
  /** The layout's words and the date format. */
  labels: string;
}

export function postLanguage(declared: string | undefined, markdown: string, newsletterLanguage: string): PostLanguage {
  const valid = canonicalLanguage(declared);
  if (valid) return { text: valid, labels: valid };
  const script = detectScript(markdown);
  let text: string;
  if (script === 'other') {
    // Most non-CJK posts in a CJK newsletter are English; a post in another language says so with `lang`.
    text = isCjkTag(newsletterLanguage) ? 'en' : newsletterLanguage;
  } else {
    text = primary(newsletterLanguage) === script ? newsletterLanguage : script;
  }
  return { text, labels: newsletterLanguage };
}

/** The shapes that flow through rendering: a post (what the editor wrote) becomes an issue (what subscribers get). */

export interface PostMeta {
  title: string;
  /** The post's own calendar date, YYYY-MM-DD, in the time zone the author wrote it in. */
  date: string | undefined;
  description: string | undefined;
  author: string | undefined;
  cover: string | undefined;
  /** Site-relative links resolve against this; from front matter `baseUrl`/`base_url`. */
  baseUrl: string | undefined;
  /** BCP 47 language tag from front matter `lang`/`language`. */
  language: string | undefined;
  /** The issue's number (`number`/`issue` in the front matter), a positive whole number. */
  number: number | undefined;
  /** Every front matter field as written, for templates and later use. */
  fields: Readonly<Record<string, unknown>>;
}

export interface Post {
  /** Path of the source file, for messages. */
  file: string;
  /** From the file name, or the folder name when the file is index.md. */
  slug: string;
  meta: PostMeta;
  markdown: string;
  /** 1-based line in the file where `markdown` starts, so warnings can point at the file. */
  bodyLine: number;
  /** 1-based line of each front matter field, for messages. */
  fieldLines: Readonly<Record<string, number>>;
  /** What reading the front matter found worth fixing but not worth refusing the post for. */
  warnings: readonly RenderWarning[];
}

export type WarningCode =
  | 'LINK_UNFOLLOWABLE'
  | 'LINK_MISCLOSED'
  | 'EMPHASIS_UNCLOSED'
  | 'LINK_INSECURE'
  | 'IMAGE_INSECURE'
  | 'IMAGE_ALT_MISSING'
  | 'IMAGE_DATA_URI'
  | 'HTML_REMOVED'
  | 'HTML_TOO_LARGE'
  | 'MJML_INVALID'
  | 'POST_DATE_MISSING'
  | 'POST_FIELD_INVALID';

export interface RenderWarning {
  code: WarningCode;
  message: string;
  /** 1-based line in the post file, when the problem has one. */
  line: number | undefined;
  /** The front matter field at fault, when the problem is one. */
  field?: string;
}

export interface Issue {
  slug: string;
  subject: string;
  preheader: string;
  /** YYYY-MM-DD, the post's own calendar date. */
  date: string | undefined;
  mjml: string;
  /** Complete HTML document with delivery placeholders (see placeholders.ts) still in it. */
  html: string;
  /** Plain-text part, placeholders still in it. */
  text: string;
  warnings: RenderWarning[];
}

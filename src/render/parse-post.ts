/**
 * post.md -> Post. Two header styles occur in real posts: YAML front matter between
 * `---` lines (Hugo, Jekyll) and Pelican's `Key: value` lines up to the first blank
 * line (This Week in Rust). Both end up as the same PostMeta.
 */
import { basename, dirname } from 'node:path';
import matter from 'gray-matter';
import yaml from 'js-yaml';
import { NewsletterError } from '../errors.ts';
import type { Post, PostMeta, RenderWarning } from './issue.ts';
import { calendarDateOf } from './post-date.ts';
import { canonicalLanguage } from './post-language.ts';

interface Header {
  fields: Record<string, unknown>;
  fieldLines: Record<string, number>;
  markdown: string;
  bodyLine: number;
}

const PELICAN_LINE = /^([A-Za-z][A-Za-z0-9_ -]*):\s*(.*)$/;

/** A post file's extension: the slug drops it, the preview lists such files, the admin API takes only these. */
export const POST_FILE = /\.(md|markdown|mdown|mkd)$/i;

/** The slug is the file name without extension, or the folder's name for `index.md`. */
export function slugFromPath(file: string): string {
  const name = basename(file).replace(POST_FILE, '');
  return name.toLowerCase() === 'index' ? basename(dirname(file)) : name;
}

function parseYamlFrontMatter(source: string, file: string): Header {
  // Checked first: without a closing line the whole post would be parsed as YAML and
  // the error would point at some body line with a reason that makes no sense there.
  const lines = source.split('\n');
  const closing = lines.findIndex((line, index) => index > 0 && /^(---|\.\.\.)\s*$/.test(line));
  if (closing === -1) {
    throw new NewsletterError('POST_FRONT_MATTER_INVALID', 'front matter opened with --- is never closed', {
      file,
      line: 1,
    });
  }
  // gray-matter finds the delimiters; js-yaml parses with the core schema, so dates stay
  // the strings the author wrote (time zone included). js-yaml, like Hugo's parser,
  // accepts the multi-line quoted strings that real posts contain.
  const parsed = matter(source, {
    engines: {
      yaml: (text: string) => {
        try {
          return (yaml.load(text, { schema: yaml.CORE_SCHEMA }) ?? {}) as object;
        } catch (cause) {
          // js-yaml counts from 0 within the text gray-matter hands over, which starts on the
          // opening --- line's newline when there is one, else on the line after it.
          const firstLine = text.startsWith('\n') ? 1 : 2;
          const line = cause instanceof yaml.YAMLException ? cause.mark.line + firstLine : 1;
          const reason = cause instanceof yaml.YAMLException ? cause.reason : String(cause);
          throw new NewsletterError('POST_FRONT_MATTER_INVALID', `front matter is not valid YAML: ${reason}`, {
            file,
            line,
            cause,
          });
        }
      },
    },
  });
  const fields = parsed.data as Record<string, unknown>;
  if (typeof fields !== 'object' || fields === null || Array.isArray(fields)) {
    throw new NewsletterError('POST_FRONT_MATTER_INVALID', 'front matter must be a mapping of `key: value` lines', {
      file,
      line: 2,
    });
  }
  const fieldLines: Record<string, number> = {};
  for (let index = 1; index < closing; index++) {
    const key = /^([^\s#:][^:]*):(\s|$)/.exec(lines[index]!)?.[1]?.trim();
    if (key && !(key in fieldLines)) fieldLines[key] = index + 1;
  }
  return { fields, fieldLines, markdown: parsed.content, bodyLine: closing + 2 };
}

function parsePelicanHeader(source: string): Header | undefined {
  const lines = source.split('\n');
  const fields: Record<string, unknown> = {};
  const fieldLines: Record<string, number> = {};
  let index = 0;
  for (; index < lines.length; index++) {
    const line = lines[index]!;
    if (line.trim() === '') break;
    const match = PELICAN_LINE.exec(line);
    if (!match) return undefined;
    const key = match[1]!.trim().toLowerCase();
    fields[key] = match[2]!.trim();
    fieldLines[key] = index + 1;
  }
  if (!('title' in fields)) return undefined;
  return { fields, fieldLines, markdown: lines.slice(index + 1).join('\n'), bodyLine: index + 2 };
}

function optionalString(fields: Record<string, unknown>, ...keys: string[]): string | undefined {
  for (const key of keys) {
    const value = fields[key];
    if (typeof value === 'string' && value.trim() !== '') return value.trim();
    if (typeof value === 'number') return String(value);
  }
  return undefined;
}

/** YYYY-MM-DD as the author wrote it: `2019-11-01T15:00:00+08:00` is 1 November wherever the reader is. */
function calendarDate(fields: Record<string, unknown>, file: string, line: number | undefined): string | undefined {
  const value = fields.date;
  if (value === undefined || value === null || value === '') return undefined;
  // A list or a mapping is quoted as written (JSON), not as "[object Object]".
  const text = value instanceof Date ? value.toISOString() : typeof value === 'string' ? value : JSON.stringify(value);
  const date = calendarDateOf(text);
  if (date) return date;
  throw new NewsletterError(
    'POST_DATE_INVALID',
    `date "${text}" is not a date like 2019-11-01, 2019-11-01 15:00, 2019/11/1 or 1 Nov 2019 (or that day does not exist)`,
    { file, line, field: 'date' },
  );
}

/** Keys an issue number is written under (Pelican's are lower-cased when read). */
const NUMBER_FIELDS = ['number', 'Number', 'issue', 'Issue'];

/** The issue number, or a warning naming the field when it is not a positive whole number. */
function issueNumber(fields: Record<string, unknown>, fieldLines: Record<string, number>, warnings: RenderWarning[]): number | undefined {
  const field = NUMBER_FIELDS.find((key) => fields[key] !== undefined && fields[key] !== null && fields[key] !== '');
  if (!field) return undefined;
  const value = fields[field];
  const text = typeof value === 'string' ? value.trim() : typeof value === 'number' ? String(value) : JSON.stringify(value);
  const number = /^\d{1,15}$/.test(text) ? Number(text) : NaN;
  if (number > 0) return number;
  warnings.push({
    code: 'POST_FIELD_INVALID',
    message: `${field}: "${text.slice(0, 40)}" is not a positive whole number; the issue is shown without a number`,
    line: fieldLines[field],
    field,
  });
  return undefined;
}

/** `lang`/`language` as a tag Intl reads; one it cannot read is a warning and counts as not declared. */
function declaredLanguage(fields: Record<string, unknown>, fieldLines: Record<string, number>, warnings: RenderWarning[]): string | undefined {
  const field = ['lang', 'language'].find((key) => optionalString(fields, key));
  if (!field) return undefined;
  const written = optionalString(fields, field)!;
  const tag = canonicalLanguage(written);
  if (tag) return tag;
  warnings.push({
    code: 'POST_FIELD_INVALID',
    message: `${field}: "${written.slice(0, 40)}" is not a language tag like en, zh-CN or ja; the language is taken from the text`,
    line: fieldLines[field],
    field,
  });
  return undefined;
}

/** Far above any real post (the largest in the corpus is 30 KB); Gmail already clips an email at 102 KB. */
export const MAX_POST_BYTES = 1024 * 1024;

/**
 * Refuses what is not a post at all: a huge file, a binary file. Encoding errors are found
 * where a file's bytes are read (decode-post.ts); a string handed over is already text.
 */
function assertPostText(source: string, file: string): void {
  const bytes = Buffer.byteLength(source, 'utf8');
  if (bytes > MAX_POST_BYTES) {
    const size = (bytes / MAX_POST_BYTES).toFixed(1);
    throw new NewsletterError(
      'POST_TOO_LARGE',
      `the post is ${size} MB; a post may be at most 1 MB (Gmail clips an email over 102 KB, hiding its unsubscribe link)`,
      { file },
    );
  }
  if (source.includes('\0')) {
    throw new NewsletterError('POST_UNREADABLE', 'not a text file (it contains NUL bytes): a post is Markdown saved as UTF-8', { file });
  }
}

export function parsePost(source: string, file: string): Post {
  assertPostText(source, file);
  const normalised = source.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
  const header = /^---\s*\n/.test(normalised)
    ? parseYamlFrontMatter(normalised, file)
    : (parsePelicanHeader(normalised) ?? { fields: {}, fieldLines: {}, markdown: normalised, bodyLine: 1 });
  const { fields, fieldLines } = header;

  const title = optionalString(fields, 'title');
  if (!title) {
    throw new NewsletterError('POST_TITLE_MISSING', 'the post has no title: add `title: ...` to the front matter', {
      file,
      line: fieldLines.title ?? 1,
      field: 'title',
    });
  }
  // A YAML escape ("\r\n") or a `|` block can put a line break in the title; in the Subject
  // header it would start a header of its own.
  if (/[\r\n\0]/.test(title)) {
    throw new NewsletterError('HEADER_VALUE_INVALID', 'the title must be one line: it becomes the Subject header', {
      file,
      line: fieldLines.title,
      field: 'title',
    });
  }
  const warnings: RenderWarning[] = [];
  const meta: PostMeta = {
    title,
    date: calendarDate(fields, file, fieldLines.date),
    description: optionalString(fields, 'description', 'summary'),
    author: optionalString(fields, 'author', 'authors'),
    cover: optionalString(fields, 'cover', 'image', 'cover_image'),
    baseUrl: optionalString(fields, 'baseUrl', 'base_url', 'baseurl'),
    language: declaredLanguage(fields, fieldLines, warnings),
    number: issueNumber(fields, fieldLines, warnings),
    fields,
  };
  return { file, slug: slugFromPath(file), meta, markdown: header.markdown, bodyLine: header.bodyLine, fieldLines, warnings };
}

/**
 * Markdown body -> safe HTML fragment for the email, with warnings that point at
 * lines of the post. marked does the parsing; this file only adjusts what real posts
 * need (CJK emphasis, links a mail client cannot follow, table alignment, line breaks);
 * raw-html.ts decides which tag-like text is HTML, link-tokenizer.ts which `[…](…)` is a link.
 */
import { Marked, Renderer, type MarkedExtension, type Token, type Tokens } from 'marked';
import { escapeHtml } from '../escape-html.ts';
import { sanitizeFragment } from './sanitize-fragment.ts';
import { resolveUrl } from './resolve-url.ts';
import { authorHtml, isLineBreakTag, type OpenElements } from './raw-html.ts';
import { lenientLinks } from './link-tokenizer.ts';
import { isMisclosed } from './misclosed-links.ts';
import type { RenderWarning } from './issue.ts';

export interface MarkdownOptions {
  /** Site-relative URLs resolve against this. */
  baseUrl: string;
  /** 1-based line of the post file where the Markdown starts. */
  firstLine: number;
  /** Render single line breaks as <br>: CJK writers don't hard-wrap prose, they mean each line. */
  lineBreaks: boolean;
}

export interface MarkdownResult {
  html: string;
  warnings: RenderWarning[];
}

const ALIGNMENTS = new Set(['left', 'center', 'right']);

/**
 * A line end right after a `<br>` the author typed is that same break, not a second one:
 * with `breaks` (CJK posts) marked would add its own `<br>` and show an empty line.
 */
const lineEndAfterBreakTag: NonNullable<MarkedExtension['extensions']>[number] = {
  name: 'lineEndAfterBreakTag',
  level: 'inline',
  tokenizer(src, tokens) {
    const previous = tokens.at(-1);
    if (previous?.type !== 'html' || !isLineBreakTag((previous as Tokens.HTML).raw)) return undefined;
    const lineEnd = /^[ \t]*\n[ \t]*/.exec(src);
    return lineEnd ? { type: 'text', raw: lineEnd[0], text: '\n' } : undefined;
  },
};

const marked = new Marked({
  gfm: true,
  tokenizer: lenientLinks,
  extensions: [lineEndAfterBreakTag],
  renderer: {
    // Wide tables scroll inside their own block instead of widening the whole email.
    table(token: Tokens.Table) {
      return `<div class="nl-table">${Renderer.prototype.table.call(this, token)}</div>\n`;
    },
    // `align` alone loses to the stylesheet's `text-align: left` once MJML inlines it, and
    // some clients ignore it: the column's alignment also goes inline, where it wins.
    tablecell(token: Tokens.TableCell) {
      const tag = token.header ? 'th' : 'td';
      const content = this.parser.parseInline(token.tokens);
      if (!token.align || !ALIGNMENTS.has(token.align)) return `<${tag}>${content}</${tag}>\n`;
      return `<${tag} align="${token.align}" style="text-align:${token.align}">${content}</${tag}>\n`;
    },
  },
});

const LENIENT_STRONG = /\*\*(?=[^\s*])([^*\n]*?[^\s*])(\s*)\*\*/g;
/** `**` that nothing closes, then text up to the end of its line: the author meant that text bold. */
const UNCLOSED_STRONG = /\*\*(?=[^\s*])([^*\n]*[^\s*])()[ \t]*$/gm;

/**
 * CommonMark only closes `**` when the delimiter is "right-flanking", which fails for
 * `**官网: **` and `**提问：**中文`: real Chinese posts then show the asterisks. marked
 * leaves such pairs as literal text; turn them into <strong> here. A `**` the author never
 * closed (`**同步开源进展` on a line of its own) would show its asterisks too: it makes the
 * rest of its line bold, and the caller warns, since only the author knows where it ends.
 * Returns true when it did that.
 */
function rescueStrong(token: Tokens.Text, lexer: Marked, options: Marked['defaults']): boolean {
  if (!token.text.includes('**') || token.tokens?.length) return false;
  let matches = [...token.text.matchAll(LENIENT_STRONG)];
  const unclosed = matches.length === 0;
  if (unclosed) matches = [...token.text.matchAll(UNCLOSED_STRONG)];
  if (matches.length === 0) return false;
  const children: Token[] = [];
  let last = 0;
  for (const match of matches) {
    if (match.index > last) children.push(...lexer.Lexer.lexInline(token.text.slice(last, match.index), options));
    const inner = match[1]!;
    children.push({ type: 'strong', raw: match[0], text: inner, tokens: lexer.Lexer.lexInline(inner, options) });
    // The space the author typed before the closing ** still separates the words.
    if (match[2]) children.push({ type: 'text', raw: ' ', text: ' ' });
    last = match.index + match[0].length;
  }
  if (last < token.text.length) children.push(...lexer.Lexer.lexInline(token.text.slice(last), options));
  token.tokens = children;
  return unclosed;
}

/** Tracks where in the post a token's raw text sits, to give warnings a line. */
class LineLocator {
  private cursor = 0;
  constructor(
    private readonly blockRaw: string,
    private readonly blockLine: number,
  ) {}
  lineOf(raw: string): number {
    const at = this.blockRaw.indexOf(raw, this.cursor);
    if (at === -1) return this.blockLine;
    this.cursor = at;
    return this.blockLine + (this.blockRaw.slice(0, at).match(/\n/g)?.length ?? 0);
  }
}

const isHttpUrlAutolink = (token: Tokens.Link) => /^(https?:|mailto:|www\.)/i.test(token.text) || token.href.startsWith('mailto:');

export function markdownToHtml(markdown: string, options: MarkdownOptions): MarkdownResult {
  const warnings: RenderWarning[] = [];
  const warn = (code: RenderWarning['code'], message: string, line: number) => warnings.push({ code, message, line });
  // lexer()/parser() take a whole options object, not overrides: start from the instance's.
  const markedOptions = { ...marked.defaults, breaks: options.lineBreaks };
  const tokens = marked.lexer(markdown, markedOptions);
  const openElements: OpenElements = new Map();
  const unsafeLines = new Set<number>();

  let line = options.firstLine;
  for (const block of tokens) {
    const locate = new LineLocator(block.raw, line);
    // Synchronous walkers only (the instance is not `async`): the array it returns holds no promise.
    void marked.walkTokens([block], (token) => {
      switch (token.type) {
        case 'text':
          if (rescueStrong(token as Tokens.Text, marked, markedOptions)) {
            warn('EMPHASIS_UNCLOSED', 'a ** is never closed: the rest of its line is shown bold; close it where the bold text ends', locate.lineOf(token.raw));
          }
          break;
        case 'link': {
          const link = token as Tokens.Link;
          const at = locate.lineOf(link.raw);
          if (isMisclosed(link)) warn('LINK_MISCLOSED', `link "${link.text}" ends in "]" where ")" belongs; made a link`, at);
          if (link.raw.startsWith('<') && !isHttpUrlAutolink(link)) {
            // `<SOFA:RPCLab/>` parses as an autolink with scheme "SOFA"; the author meant the text.
            Object.assign(link, { type: 'text', text: escapeHtml(link.raw), escaped: true, tokens: undefined });
            break;
          }
          const verdict = resolveUrl(link.href, options.baseUrl);
          if (verdict.kind === 'ok') {
            link.href = verdict.url;
            if (verdict.insecure) warn('LINK_INSECURE', `link uses http, not https: ${verdict.url}`, at);
          } else {
            warn(
              'LINK_UNFOLLOWABLE',
              `link "${link.text}" -> "${link.href}": ${verdict.kind === 'unfollowable' ? verdict.reason : 'not a link'}; shown as text`,
              at,
            );
            // Keep what the link says (it may hold an image or emphasis), drop the dead target.
            Object.assign(link, { type: 'text', tokens: link.tokens });
          }
          break;
        }
        case 'image': {
          const image = token as Tokens.Image;
          const at = locate.lineOf(image.raw);
          if (isMisclosed(image)) warn('LINK_MISCLOSED', `image "${image.text}" ends in "]" where ")" belongs; shown`, at);
          const verdict = resolveUrl(image.href, options.baseUrl, { allowData: true });
          if (!image.text.trim()) warn('IMAGE_ALT_MISSING', `image without alt text: ${image.href.slice(0, 80)}`, at);
          if (verdict.kind === 'unfollowable') {
            warn('LINK_UNFOLLOWABLE', `image "${image.href.slice(0, 80)}": ${verdict.reason}`, at);
          } else {
            image.href = verdict.url;
            if (verdict.kind === 'data') warn('IMAGE_DATA_URI', 'data: image: Gmail and Outlook do not show it', at);
            else if (verdict.insecure) warn('IMAGE_INSECURE', `image uses http, not https: ${verdict.url}`, at);
          }
          break;
        }
        case 'html': {
          const html = token as Tokens.HTML;
          const at = locate.lineOf(html.raw);
          // An HTML block can span lines: point each warning at its own line.
          const lineAt = (index: number) => at + (html.text.slice(0, index).match(/\n/g)?.length ?? 0);
          html.text = authorHtml(html.text, options.baseUrl, openElements, (code, message, index) => {
            if (code !== 'HTML_REMOVED') return warn(code, message, lineAt(index));
            // One warning per line, however many unsafe tags and handlers it holds.
            if (!unsafeLines.has(lineAt(index))) warn(code, message, lineAt(index));
            unsafeLines.add(lineAt(index));
          });
          break;
        }
      }
    });
    line += block.raw.match(/\n/g)?.length ?? 0;
  }

  const unsafe = marked.parser(tokens, markedOptions);
  return { html: sanitizeFragment(unsafe), warnings };
}

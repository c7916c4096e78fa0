/**
 * `[full report](https://…/2025-12-02.md] for details`: the author typed `]` where the link's
 * `)` belongs. No Markdown reads that as a link, so the reader sees `[full report](` and a URL
 * ending in `]`, which leads nowhere. When the target is a whole http(s) URL that the `]`
 * directly ends, the link is made as meant and flagged, so the author is told to fix the post.
 */
import { Tokenizer, type Tokens } from 'marked';

const MISCLOSED = /^!?\[[^[\]\n]+\]\(\s*https?:\/\/[^\s()<>[\]]+\](?![([])/;

export type MisclosedLink = (Tokens.Link | Tokens.Image) & { misclosed: true };

export const isMisclosed = (token: Tokens.Link | Tokens.Image): token is MisclosedLink => 'misclosed' in token;

export function misclosedLink(tokenizer: Tokenizer, src: string): MisclosedLink | undefined {
  const match = MISCLOSED.exec(src);
  if (!match || Tokenizer.prototype.link.call(tokenizer, src)) return undefined;
  // The `)` in place of the `]` keeps every offset: marked's own link tokenizer reads the rest.
  const end = match[0].length - 1;
  // marked skips links in text without a `)`, which is the case here: the source it saw had none.
  const state = tokenizer.lexer.state;
  const parenPossible = state.linkParenPossible;
  state.linkParenPossible = true;
  const token = Tokenizer.prototype.link.call(tokenizer, `${src.slice(0, end)})${src.slice(end + 1)}`);
  state.linkParenPossible = parenPossible;
  if (token?.raw.length !== match[0].length) return undefined;
  return { ...token, raw: match[0], misclosed: true };
}

/**
 * marked's link tokenizers, made to read what authors meant: link text with a lone backtick
 * (unmatched-backticks.ts) and a link closed with `]` instead of `)` (misclosed-links.ts).
 * Returning `false` hands the source to marked's own tokenizer unchanged.
 */
import type { Tokenizer, Tokens } from 'marked';
import { misclosedLink } from './misclosed-links.ts';
import { backtickAwareLink, backtickAwareReflink } from './unmatched-backticks.ts';

export const lenientLinks = {
  link(this: Tokenizer, src: string): Tokens.Link | Tokens.Image | false {
    return backtickAwareLink(this, src) ?? misclosedLink(this, src) ?? false;
  },
  reflink(this: Tokenizer, src: string, links: Parameters<Tokenizer['reflink']>[1]): Tokens.Link | Tokens.Image | false {
    return backtickAwareReflink(this, src, links) ?? false;
  },
};

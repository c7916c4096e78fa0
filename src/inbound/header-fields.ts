/**
 * A block of `Name: value` lines (RFC 5322 header section, RFC 3464 delivery-status groups,
 * RFC 5965 feedback reports) as a plain map. PURE.
 *
 * Written to be lenient, because the blocks come from thousands of mail systems: folded lines
 * are joined, a space before the colon is accepted (seen in Mimecast's reports), lines that are
 * not fields are skipped rather than ending the block, and nothing here throws.
 */

/** Field names in lower case, each with every value it had, in order, unfolded and trimmed. */
export type HeaderFields = Map<string, string[]>;

const FIELD = /^([!-9;-~]{1,76}?)[ \t]*:[ \t]*(.*)$/;

/** Reads fields until the first empty line (or the end); `text` is the block, not a whole message. */
export function parseHeaderFields(text: string, { stopAtBlankLine = true } = {}): HeaderFields {
  const fields: HeaderFields = new Map();
  let current: { name: string; value: string } | undefined;
  const flush = () => {
    if (!current) return;
    const values = fields.get(current.name) ?? [];
    values.push(current.value.replace(/\s+/g, ' ').trim());
    fields.set(current.name, values);
    current = undefined;
  };
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === '') {
      flush();
      if (stopAtBlankLine && fields.size > 0) break;
      continue;
    }
    if (/^[ \t]/.test(line) && current) {
      current.value += ` ${line.trim()}`;
      continue;
    }
    flush();
    const match = FIELD.exec(line);
    if (match) current = { name: match[1]!.toLowerCase(), value: match[2]! };
  }
  flush();
  return fields;
}

/** The first value of a field, or null. */
export function firstField(fields: HeaderFields, name: string): string | null {
  return fields.get(name)?.[0] ?? null;
}

/**
 * Every address in a header value, in order, trailing dots dropped. Split on the characters an
 * address cannot contain rather than searched with a pattern, so a megabyte of junk costs a
 * megabyte of work, not its square.
 */
export function addressesIn(value: string | null | undefined): string[] {
  if (!value) return [];
  return value
    .slice(0, 64 * 1024)
    .split(/[\s<>"'(),;[\]\\]+/)
    .map((token) => token.replace(/^mailto:/i, '').replace(/^:+|[.:]+$/g, ''))
    .filter((token) => /^[^@:]+@[^@:]+$/.test(token) && /^[^@]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*$/.test(token));
}

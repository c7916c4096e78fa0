/** Just enough Markdown reading for the docs tests: sections, table rows, links and heading anchors. */

export interface TableRow {
  /** The `## ` heading the row sits under. */
  section: string;
  /** The cells, trimmed, without the outer pipes. */
  cells: string[];
  line: number;
}

/** Lines outside fenced code blocks, with their 1-based numbers. */
function proseLines(text: string): { text: string; line: number }[] {
  const lines: { text: string; line: number }[] = [];
  let fenced = false;
  text.split('\n').forEach((line, index) => {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    else if (!fenced) lines.push({ text: line, line: index + 1 });
  });
  return lines;
}

/** Splits a table row on pipes that are not escaped (`\|`) and not inside a code span. */
function splitRow(row: string): string[] {
  const cells: string[] = [];
  let cell = '';
  let inCode = false;
  for (let i = 0; i < row.length; i++) {
    const char = row[i]!;
    if (char === '\\' && row[i + 1] === '|') {
      cell += '|';
      i++;
    } else if (char === '`') {
      inCode = !inCode;
      cell += char;
    } else if (char === '|' && !inCode) {
      cells.push(cell.trim());
      cell = '';
    } else cell += char;
  }
  cells.push(cell.trim());
  return cells.slice(1, -1);
}

const DIVIDER = /^\s*\|[\s:|-]+\|\s*$/;

/** Every body row of every table: a table line that is neither the divider nor the header above it. */
export function tableRows(text: string): TableRow[] {
  const rows: TableRow[] = [];
  const lines = proseLines(text);
  let section = '';
  lines.forEach(({ text: line, line: number }, index) => {
    const heading = /^## (.+)$/.exec(line);
    if (heading) section = heading[1]!.trim();
    if (!line.trimStart().startsWith('|') || DIVIDER.test(line)) return;
    if (DIVIDER.test(lines[index + 1]?.text ?? '')) return;
    rows.push({ section, cells: splitRow(line.trim()), line: number });
  });
  return rows;
}

/** The code spans outside fenced code blocks, in order (a span never crosses a line here). */
export function codeSpans(text: string): string[] {
  return proseLines(text).flatMap(({ text: line }) => [...line.matchAll(/`([^`]+)`/g)].map((match) => match[1]!));
}

/** GitHub's anchor for a heading: lower-cased, punctuation dropped, spaces to hyphens; repeats get -1, -2. */
export function headingAnchors(text: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const { text: line } of proseLines(text)) {
    const heading = /^#{1,6} (.+?)\s*#*\s*$/.exec(line);
    if (!heading) continue;
    const plain = heading[1]!
      .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
      .replace(/<[^>]+>/g, '')
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const count = seen.get(plain) ?? 0;
    seen.set(plain, count + 1);
    anchors.add(count === 0 ? plain : `${plain}-${count}`);
  }
  return anchors;
}

export interface MarkdownLink {
  target: string;
  line: number;
}

/** Inline links and images `[text](target)` outside code, with the target's title dropped. */
export function links(text: string): MarkdownLink[] {
  const found: MarkdownLink[] = [];
  for (const { text: line, line: number } of proseLines(text)) {
    const withoutCode = line.replace(/`[^`]*`/g, '');
    for (const match of withoutCode.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) found.push({ target: match[1]!, line: number });
  }
  return found;
}

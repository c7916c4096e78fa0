/**
 * Spreadsheet formula injection (OWASP "CSV injection"): a cell that starts with `=`, `+`, `-`,
 * `@`, a tab or a carriage return is run as a formula when the export is opened in a
 * spreadsheet, and names and attributes come from visitors. The export writes such a cell with
 * a single quote in front (shown as text, never run); the import takes that quote off again, so
 * an export imports back as the same records. PURE.
 */

// OWASP's characters, and their fullwidth forms, which Apple Numbers also reads as a formula.
// Quotes already in front count too: a real `'=1` is written `''=1`, or the import would strip
// the quote it did not add.
const FORMULA_START = /^'*[=+\-@\t\r\uFF1D\uFF0B\uFF0D\uFF20]/;
const ESCAPED_FORMULA = /^'+[=+\-@\t\r\uFF1D\uFF0B\uFF0D\uFF20]/;

/** The cell as a spreadsheet shows it verbatim: a single quote in front when it would start a formula. */
export function escapeFormula(cell: string): string {
  return FORMULA_START.test(cell) ? `'${cell}` : cell;
}

/** The value escapeFormula was given: one leading quote off when a formula follows it, any other cell as it is. */
export function unescapeFormula(cell: string): string {
  return ESCAPED_FORMULA.test(cell) ? cell.slice(1) : cell;
}

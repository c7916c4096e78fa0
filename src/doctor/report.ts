/** What doctor prints: a line per check with its fix, or one JSON document; never a secret. PURE. */
import type { CheckResult } from './check.ts';

const LABEL = { pass: 'ok  ', warn: 'warn', fail: 'FAIL', skip: 'skip' } as const;

/**
 * Replaces every secret (and its percent-encoded form, as it stands in a URL) with ***. A last
 * guard: checks never put one in a message, but a server's reply could echo what it was sent.
 */
export function redact(text: string, secrets: readonly (string | undefined)[]): string {
  let out = text;
  const forms = secrets.filter((s): s is string => typeof s === 'string' && s.length >= 4).flatMap((s) => [s, encodeURIComponent(s)]);
  for (const secret of [...new Set(forms)].sort((a, b) => b.length - a.length)) out = out.split(secret).join('***');
  return out;
}

export function summaryOf(checks: readonly CheckResult[]): Record<CheckResult['status'], number> {
  const counts = { pass: 0, warn: 0, fail: 0, skip: 0 };
  for (const check of checks) counts[check.status] += 1;
  return counts;
}

export function formatText(checks: readonly CheckResult[]): string {
  const width = Math.max(...checks.map((check) => check.id.length));
  const lines: string[] = [];
  for (const check of checks) {
    lines.push(`${LABEL[check.status]}  ${check.id.padEnd(width)}  ${check.message}`);
    if (check.fix && check.status !== 'pass') lines.push(`${' '.repeat(width + 8)}fix: ${check.fix}`);
  }
  const { pass, warn, fail, skip } = summaryOf(checks);
  lines.push('', `${fail} failed, ${warn} warning(s), ${pass} passed, ${skip} skipped${fail > 0 ? ': fix what FAILs before the first send' : ''}`);
  return `${lines.join('\n')}\n`;
}

export function formatJson(checks: readonly CheckResult[]): string {
  return `${JSON.stringify({ checks: checks.map(({ id, area, status, message, fix }) => ({ id, area, status, message, fix })) }, null, 2)}\n`;
}

/**
 * What `newsletter doctor` says about one thing an operator can get wrong: a verdict, in plain
 * words, and the fix. PURE: checks take facts an adapter gathered and return these.
 */

export type CheckArea = 'dns' | 'http' | 'smtp' | 'redis' | 'mail';

/** `warn` does not fail the run; `skip` says why the check could not run (a setting is absent, or what it needs failed). */
export type CheckStatus = 'pass' | 'warn' | 'fail' | 'skip';

export interface CheckResult {
  /** Stable: scripts match on it (`dns.spf`, `smtp.starttls`, …). */
  readonly id: string;
  readonly area: CheckArea;
  readonly status: CheckStatus;
  /** What was found. */
  readonly message: string;
  /** What to do about it; empty when nothing is to be done. */
  readonly fix: string;
}

export function verdict(id: string, area: CheckArea) {
  const make =
    (status: CheckStatus) =>
    (message: string, fix = ''): CheckResult => ({ id, area, status, message, fix });
  return { pass: make('pass'), warn: make('warn'), fail: make('fail'), skip: make('skip') };
}

/** 1 exactly when a check failed: warnings and skips do not stop a send. */
export function exitCodeOf(checks: readonly CheckResult[]): 0 | 1 {
  return checks.some((check) => check.status === 'fail') ? 1 : 0;
}

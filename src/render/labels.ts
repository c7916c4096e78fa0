/** The few words the layout itself says, in the issue's language. */
export interface Labels {
  viewInBrowser: string;
  unsubscribe: string;
  /** "Issue 587": `{number}` stands for the issue's number. */
  issue: string;
}

const LABELS: Record<string, Labels> = {
  en: { viewInBrowser: 'View in browser', unsubscribe: 'Unsubscribe', issue: 'Issue {number}' },
  zh: { viewInBrowser: '在浏览器中查看', unsubscribe: '退订', issue: '第 {number} 期' },
};

/** "Issue 587", "第 587 期". */
export function issueLabel(number: number, language: string): string {
  return labelsFor(language).issue.replace('{number}', String(number));
}

export function labelsFor(language: string): Labels {
  return LABELS[language.toLowerCase().split('-')[0]!] ?? LABELS.en!;
}

/** "1 November 2019", "2019年11月1日": the calendar date as written, never shifted by a time zone. */
export function formatCalendarDate(date: string, language: string): string {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return new Intl.DateTimeFormat(language, { dateStyle: 'long', timeZone: 'UTC' }).format(new Date(Date.UTC(y, m - 1, d)));
}

/** Languages whose writers don't hard-wrap prose: a single line break in the source is meant. */
export function breaksLines(language: string): boolean {
  return /^(zh|ja|ko)\b/i.test(language);
}

import { describe, expect, it } from 'vitest';
import { Rejections } from '../../src/subscribers/import-rejections.ts';

describe('Rejections', () => {
  it('lists the first rows by line whatever order they come in, and counts every one', () => {
    const rejections = new Rejections(3);
    for (const line of [5, 3, 9, 1, 7, 2]) rejections.add(line, line % 2 ? 'email-invalid' : 'field-count', `row ${line}`);
    expect(rejections.report()).toEqual({
      rejected: [
        { line: 1, reason: 'row 1' },
        { line: 2, reason: 'row 2' },
        { line: 3, reason: 'row 3' },
      ],
      rejectedTotal: 6,
      rejectedByKind: { 'email-invalid': 5, 'field-count': 1 },
    });
  });

  it('names the kinds in the same order whatever order they were first seen in', () => {
    const rejections = new Rejections(0);
    rejections.add(9, 'quote-not-closed', 'late');
    rejections.add(2, 'attribute-invalid', 'early');
    expect(Object.keys(rejections.report().rejectedByKind)).toEqual(['attribute-invalid', 'quote-not-closed']);
    expect(rejections.report().rejected).toEqual([]);
  });
});

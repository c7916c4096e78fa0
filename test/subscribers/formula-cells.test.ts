import { describe, expect, it } from 'vitest';
import { escapeFormula, unescapeFormula } from '../../src/subscribers/formula-cells.ts';

const FORMULAS = ['=1+1', '+1', '-1', '@SUM(A1)', '\t=1', '\r=1', '\uFF1D1', '\uFF0B1', '\uFF0D1', '\uFF20x', "'=1", "''+x"];
const PLAIN = ['Ann', "'Tis Ann", "O'Brien", "'", "''", '', ' =1', 'a=b', '1-2', 'ann@example.com', '2026-11-24T00:00:00.000Z'];

describe('escapeFormula', () => {
  it.each(FORMULAS)('puts a single quote in front of %j', (cell) => {
    expect(escapeFormula(cell)).toBe(`'${cell}`);
  });

  it.each(PLAIN)('leaves %j as it is', (cell) => {
    expect(escapeFormula(cell)).toBe(cell);
  });
});

describe('unescapeFormula', () => {
  it.each([...FORMULAS, ...PLAIN])('gives back %j from its escaped form', (cell) => {
    expect(unescapeFormula(escapeFormula(cell))).toBe(cell);
  });

  it('takes off one quote, and only in front of a formula character', () => {
    expect(unescapeFormula("'=1")).toBe('=1');
    expect(unescapeFormula("''=1")).toBe("'=1");
    expect(unescapeFormula("'Tis Ann")).toBe("'Tis Ann");
    expect(unescapeFormula("'")).toBe("'");
    expect(unescapeFormula('=1')).toBe('=1');
  });
});

/**
 * docs/configuration.md and .env.example against the config schemas in src/config.ts: a setting
 * added to the code and not to the docs (or the other way round), or a default that drifted, fails here.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SETTINGS } from '../../src/config.ts';
import { ERROR_CODES } from '../../src/errors.ts';
import { codeSpans, tableRows } from './markdown.ts';

const PAGE = 'docs/configuration.md';
const page = readFileSync(PAGE, 'utf8');
const rows = tableRows(page);

/** The setting a table row documents: the code span that is its whole first cell. */
function documented(section: string): Map<string, string> {
  const found = new Map<string, string>();
  for (const row of rows.filter((r) => r.section === section)) {
    const name = /^`([^`]+)`$/.exec(row.cells[0] ?? '')?.[1];
    if (!name) throw new Error(`${PAGE}:${row.line}: the first cell must be one setting in backticks, not ${row.cells[0]}`);
    if (found.has(name)) throw new Error(`${PAGE}:${row.line}: ${name} is documented twice`);
    found.set(name, row.cells[1] ?? '');
  }
  return found;
}

const sorted = (names: Iterable<string>) => [...names].sort();

describe('docs/configuration.md', () => {
  const env = documented('Environment variables');
  const identity = documented('newsletter.yaml');

  it('documents every environment variable the config reads, and no other', () => {
    expect(env.size).toBeGreaterThan(0);
    expect(sorted(env.keys())).toEqual(sorted(SETTINGS.env));
  });

  it("gives each environment variable the code's default, or says it is unset", () => {
    const wrong: string[] = [];
    for (const name of SETTINGS.env) {
      const value = SETTINGS.envDefaults[name];
      const cell = env.get(name);
      const expected = value === undefined || value === '' ? 'unset' : `\`${String(value)}\``;
      if (cell !== expected) wrong.push(`${name}: the page says ${cell}, the code ${expected}`);
    }
    expect(wrong).toEqual([]);
  });

  it('documents every newsletter.yaml field, and no other', () => {
    expect(identity.size).toBeGreaterThan(0);
    expect(sorted(identity.keys())).toEqual(sorted(SETTINGS.identity));
  });

  it('names no setting (or error code) in its prose that the code does not have', () => {
    const known = new Set<string>([...SETTINGS.env, ...Object.keys(ERROR_CODES)]);
    const settingLike = codeSpans(page).filter((span) => /^[A-Z][A-Z0-9]*_[A-Z0-9_]+$/.test(span));
    expect(settingLike.length).toBeGreaterThan(0);
    expect(settingLike.filter((name) => !known.has(name))).toEqual([]);
  });
});

describe('.env.example', () => {
  const lines = readFileSync('.env.example', 'utf8').split('\n');
  const entries = new Map<string, string>();
  for (const line of lines) {
    const match = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
    if (match) entries.set(match[1]!, match[2]!);
  }

  it('lists every environment variable the config reads, and no other', () => {
    expect(sorted(entries.keys())).toEqual(sorted(SETTINGS.env));
  });

  it('gives each setting that has a default exactly that default (or leaves it empty)', () => {
    const wrong = SETTINGS.env.filter((name) => {
      const value = SETTINGS.envDefaults[name];
      const given = entries.get(name);
      return value !== undefined && given !== '' && given !== String(value);
    });
    expect(wrong).toEqual([]);
  });
});

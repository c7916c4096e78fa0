/**
 * CR/LF in values that end up in mail headers. In a post's title (the Subject) or in
 * newsletter.yaml's name, fromName or replyTo (From, List-Id, Reply-To) it is refused with
 * its location before anything happens. A subscriber's name never goes into a header (To
 * carries the bare address), and control characters in it are turned into spaces on the
 * way in, from a CSV import or the subscribe form alike.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorLines, expectCliError, literal, openWorld, startWeb, type World } from './harness.ts';

let world: World;
beforeAll(async () => {
  world = await openWorld('bad-headers');
});
afterAll(() => world?.close());

describe('a line break in a post title (the Subject header) is refused with its line', () => {
  it.each([
    ['a "\\r\\n" escape in a quoted title', '---\ndate: 2024-01-05\ntitle: "Weekly\\r\\nBcc: everyone@example.com"\n---\nBody\n', 3],
    ['a literal block title', '---\ntitle: |\n  Weekly\n  Bcc: everyone@example.com\ndate: 2024-01-05\n---\nBody\n', 2],
    ['a NUL escape', '---\ntitle: "Weekly\\0"\n---\nBody\n', 2],
  ])('%s', async (name, content, line) => {
    const file = world.scratch.write(`${name.replace(/\W+/g, '-')}.md`, content);
    const before = await world.snapshot();
    const result = await world.cli(['send', file, '--list', 'weekly']);
    expectCliError(
      result,
      'HEADER_VALUE_INVALID',
      new RegExp(`^newsletter: ${literal(file)}:${line}: title: the title must be one line: it becomes the Subject header \\[`),
    );
    expect(await world.snapshot()).toEqual(before);
  });

  it('a description with line breaks is fine: the preheader is body text, on one line', async () => {
    const file = world.scratch.write(
      'multi-line-description.md',
      '---\ntitle: Weekly\ndate: 2024-01-05\ndescription: |\n  First line\n  Bcc: everyone@example.com\n---\nBody\n',
    );
    const result = await world.cli(['render', file, '--out', `${world.scratch.dir}/out`, '--json']);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ subject: 'Weekly', preheader: 'First line Bcc: everyone@example.com' });
  });
});

const IDENTITY = {
  name: 'Bad Input Weekly',
  fromName: 'The Editors',
  fromAddress: 'weekly@example.com',
  replyTo: 'editor@example.com',
  siteUrl: 'https://example.com',
  postalAddress: '1 Main St',
  listId: 'weekly.example.com',
};

describe('a line break in newsletter.yaml name, fromName or replyTo is refused with the file and field', () => {
  it.each([
    ['fromName', '"The Editors\\r\\nBcc: everyone@example.com"', 'fromName: one line: it goes into the From header'],
    ['name', '"Bad Input\\nWeekly"', 'name: one line: it goes into the From and List-Id header'],
    ['replyTo', '"editor@example.com\\r\\nBcc: everyone@example.com"', 'replyTo: Invalid email address'],
  ])('%s', async (field, value, message) => {
    const yaml = Object.entries(IDENTITY)
      .map(([key, text]) => `${key}: ${key === field ? value : JSON.stringify(text)}`)
      .join('\n');
    const file = world.scratch.write(`identity-${field}.yaml`, `${yaml}\n`);
    const before = await world.snapshot();
    const result = await world.cli(['subscribers', 'add', 'new@example.com'], { NEWSLETTER_CONFIG: file });
    expectCliError(result, 'CONFIG_INVALID', new RegExp(`^newsletter: ${literal(file)}: ${literal(message)} \\[`));
    expect(await world.snapshot()).toEqual(before);
  });
});

describe("a subscriber's name never carries a line break into Redis", () => {
  it('from a CSV import: the row goes in with the break turned into a space', async () => {
    const file = world.scratch.write('names.csv', 'email,name\r\ncrlf@example.com,"Evil\r\nBcc: everyone@example.com"\r\nplain@example.com,Plain\r\n');
    const result = await world.cli(['subscribers', 'import', file, '--json']);
    expect(result.code, errorLines(result).join('\n')).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ imported: 2, rejected: [] });
    expect((await world.store.getByEmail('crlf@example.com'))?.name).toBe('Evil Bcc: everyone@example.com');
  });

  it('from the subscribe form: stored on one line, and the confirmation email has no extra header', async () => {
    const web = await startWeb(world);
    try {
      const response = await web.request('POST', '/subscribe', {
        type: 'application/x-www-form-urlencoded',
        body: new URLSearchParams({ email: 'form@example.com', name: 'Mallory\r\nBcc: everyone@example.com\r\n' }).toString(),
      });
      expect(response.status).toBe(202);
      expect((await world.store.getByEmail('form@example.com'))?.name).toBe('Mallory Bcc: everyone@example.com');
      const [message] = await web.smtp.waitForMessages(1);
      expect(message!.to).toEqual(['form@example.com']);
      const headers = message!.raw.slice(0, message!.raw.indexOf('\r\n\r\n'));
      expect(headers).not.toMatch(/^Bcc:/im);
    } finally {
      await web.close();
    }
  });
});

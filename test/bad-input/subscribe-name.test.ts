/**
 * A visitor's name on the subscribe form is text anyone can type, and the confirmation email
 * goes from the newsletter's own domain to any address the visitor gives: a name that reads
 * "Claim your refund at https://…" would make it a phishing mail signed by us. So the name is
 * stored (it is the subscriber's) but never put into the confirmation email: not in the
 * greeting, not in the To header, in neither part.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openWorld, startWeb, type Web, type World } from './harness.ts';

let world: World;
let web: Web;

beforeAll(async () => {
  world = await openWorld('subscribe-name');
  web = await startWeb(world);
});
afterAll(async () => {
  await web?.close();
  await world?.close();
});

/** The message as a reader sees it: quoted-printable soft breaks and escapes undone, base64 parts decoded. */
function readable(raw: string): string {
  const unfolded = raw.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  const base64Parts = [...raw.matchAll(/Content-Transfer-Encoding: base64\r?\n(?:[^\r\n]+\r?\n)*\r?\n([A-Za-z0-9+/=\r\n]+)/gi)].map((m) =>
    Buffer.from(m[1]!.replace(/\s/g, ''), 'base64').toString('utf8'),
  );
  return [unfolded, ...base64Parts].join('\n');
}

describe('the name typed on the subscribe form', () => {
  it('is stored, but the confirmation email carries none of it', async () => {
    const name = 'Your account is suspended, verify at https://evil.example/login now';
    const response = await web.request('POST', '/subscribe', {
      type: 'application/x-www-form-urlencoded',
      body: new URLSearchParams({ email: 'victim@example.org', name }).toString(),
    });
    expect(response.status).toBe(202);
    expect((await world.store.getByEmail('victim@example.org'))?.name).toBe(name);

    const [message] = await web.smtp.waitForMessages(1);
    expect(message!.to).toEqual(['victim@example.org']);
    const text = readable(message!.raw);
    expect(text).toContain('/confirm/');
    for (const piece of ['evil.example', 'suspended', 'verify at', 'https://evil']) expect(text, piece).not.toContain(piece);
    expect(message!.raw.slice(0, message!.raw.indexOf('\r\n\r\n'))).toMatch(/^To: <?victim@example\.org>?\r?$/m);
  });
});

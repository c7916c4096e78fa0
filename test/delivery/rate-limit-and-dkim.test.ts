import { createHash, generateKeyPairSync, verify } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { buildDeliveryWorker } from '../../src/processes/delivery-worker.ts';
import { countByRecipient, startHarness, type Harness } from '../helpers/delivery-harness.ts';

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

describe('a rate limit shared by every worker', () => {
  it('holds for two workers together', async () => {
    const rate = 100;
    harness = await startHarness({ env: { SEND_RATE_PER_SECOND: String(rate) } });
    const subscribers = await harness.addSubscribers(250);
    const second = await harness.newApp();
    const batchesBy = [0, 0];
    harness.startWorker().worker.on('completed', () => batchesBy[0]!++);
    buildDeliveryWorker(second).worker.on('completed', () => batchesBy[1]!++);
    await harness.send();
    await harness.waitFor((c) => c.state === 'completed', 20_000);
    expect(batchesBy[0]).toBeGreaterThan(0);
    expect(batchesBy[1]).toBeGreaterThan(0);
    const times = harness.smtp.messages.map((m) => m.receivedAt).sort((a, b) => a - b);
    expect(times).toHaveLength(250);
    // 250 messages at 100/s take at least 2.49 s; each worker alone at 100/s would take ~1.25 s.
    expect(times.at(-1)! - times[0]!).toBeGreaterThanOrEqual(2_200);
    for (let i = 0; i + rate + 10 < times.length; i++) expect(times[i + rate + 10]! - times[i]!).toBeGreaterThanOrEqual(900);
    const counts = countByRecipient(harness.smtp);
    for (const { email } of subscribers) expect(counts.get(email)).toBe(1);
  });
});

function relaxedHeader(line: string): string {
  const colon = line.indexOf(':');
  return `${line.slice(0, colon).trim().toLowerCase()}:${line
    .slice(colon + 1)
    .replace(/\r\n/g, '')
    .replace(/[ \t]+/g, ' ')
    .trim()}`;
}

function relaxedBody(body: string): string {
  const lines = body.split('\r\n').map((l) => l.replace(/[ \t]+/g, ' ').replace(/ $/, ''));
  while (lines.length && lines.at(-1) === '') lines.pop();
  return lines.length ? `${lines.join('\r\n')}\r\n` : '';
}

describe('DKIM', () => {
  it('signs every message with the configured key, covering the list headers, and the signature verifies', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString().replace(/\n/g, '\\n');
    harness = await startHarness({ env: { DKIM_DOMAIN: 'sofastack.tech', DKIM_SELECTOR: 'nl2026', DKIM_PRIVATE_KEY: pem } });
    await harness.addSubscribers(2);
    harness.startWorker();
    await harness.send();
    await harness.waitFor((c) => c.state === 'completed');
    expect(harness.smtp.messages).toHaveLength(2);
    for (const { raw } of harness.smtp.messages) {
      const split = raw.indexOf('\r\n\r\n');
      const headerLines = raw.slice(0, split).split(/\r\n(?![ \t])/);
      const signatureLine = headerLines.find((l) => /^dkim-signature:/i.test(l))!;
      expect(signatureLine).toBeDefined();
      const tags = Object.fromEntries(
        signatureLine
          .slice(signatureLine.indexOf(':') + 1)
          .replace(/\s+/g, '')
          .split(';')
          .filter(Boolean)
          .map((t) => [t.slice(0, t.indexOf('=')), t.slice(t.indexOf('=') + 1)]),
      );
      expect(tags.d).toBe('sofastack.tech');
      expect(tags.s).toBe('nl2026');
      const signed = tags.h!.toLowerCase().split(':');
      for (const name of ['from', 'to', 'subject', 'message-id', 'list-unsubscribe', 'list-unsubscribe-post', 'list-id']) expect(signed).toContain(name);
      expect(tags.c).toBe('relaxed/relaxed');
      expect(
        createHash('sha256')
          .update(relaxedBody(raw.slice(split + 4)))
          .digest('base64'),
      ).toBe(tags.bh);
      const available = headerLines.filter((l) => l !== signatureLine);
      const canonical = signed
        .map((name) => available.findLast((l) => l.toLowerCase().startsWith(`${name}:`)))
        .filter((l): l is string => !!l)
        .map((l) => `${relaxedHeader(l)}\r\n`)
        .join('');
      const unsigned = relaxedHeader(signatureLine.replace(/b=[^;]*$/, 'b='));
      expect(verify('sha256', Buffer.from(canonical + unsigned), publicKey, Buffer.from(tags.b!, 'base64'))).toBe(true);
    }
  });
});

/**
 * A generated subscriber CSV for the import and scale benchmarks: a BOM, CRLF line ends,
 * UTF-8 names, quoted commas and two attribute columns, like a real export from elsewhere.
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';

const NAMES = ['Zoë Müller', '李伟', "O'Brien, Pat", 'José Ñúñez', 'Anna'];

/** The generated subscriber number i: the same person in every benchmark. */
export function benchSubscriber(i: number): { email: string; name: string; attributes: { city: string; plan: string } } {
  return { email: `reader${i}@example${i % 97}.com`, name: NAMES[i % NAMES.length]!, attributes: { city: `City ${i % 1000}`, plan: i % 3 ? 'free' : 'pro' } };
}

/**
 * Writes `rows` distinct subscribers (`reader<i>@example<i % 97>.com`) to `file`; with `every`,
 * only row i where i % every is 0, each exactly as the full file has it (the same subscribers
 * again, for an import into a second list).
 */
export async function writeSubscribersCsv(file: string, rows: number, { every = 1 }: { every?: number } = {}): Promise<void> {
  const out = createWriteStream(file);
  out.write('\uFEFFemail,name,city,plan\r\n');
  for (let i = 0; i < rows; i += every) {
    const { email, name, attributes } = benchSubscriber(i);
    const line = `${email},"${name.replace(/"/g, '""')}",${attributes.city},${attributes.plan}\r\n`;
    if (!out.write(line)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

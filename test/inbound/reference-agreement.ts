/**
 * How far our verdicts agree with a reference bounce parser's (../shared/bounces/expected.json,
 * Sisimai 4.25), counted over the recipients the reference acts on.
 *
 * - found: the reference's recipient is among ours (address, case-insensitive). Where the
 *   reference could not name one and wrote a placeholder (`undisclosed-recipient-in-headers@...
 *   .invalid`), the message counts as found when we give it any kind but `none`.
 * - same kind: found, and our kind for that address (for a placeholder: the message's kind) is
 *   the reference's.
 * - hard where soft: we say hard and the reference says soft, complaint or auto-reply for that
 *   address, or leaves it out of a message in which it names others. Must be zero.
 * - hard where the reference found nothing: messages the reference reads no recipient in
 *   (it does not know the format, or it is no bounce) that we call hard. Listed for a person
 *   to read; not counted in the three figures, which are about recipients the reference acts on.
 */
import type { InboundVerdict } from '../../src/inbound/classify-inbound-message.ts';

export interface ReferenceEntry {
  recipient: string;
  kind: 'hard' | 'soft' | 'complaint' | 'auto-reply';
  reason: string;
  status: string | null;
}

export interface Agreement {
  recipients: number;
  found: number;
  sameKind: number;
  hardWhereSoft: string[];
  hardWhereReferenceSilent: string[];
  /** reference kind -> our kind (`missing` when we did not name the recipient) -> count */
  confusion: Record<string, Record<string, number>>;
  /** `file: address reference-kind -> our-kind` for every recipient not of the same kind. */
  differences: string[];
}

const PLACEHOLDER = /^undisclosed-recipient|\.invalid$/i;

export function compareWithReference(expected: Record<string, ReferenceEntry[]>, ours: Record<string, InboundVerdict>): Agreement {
  const result: Agreement = { recipients: 0, found: 0, sameKind: 0, hardWhereSoft: [], hardWhereReferenceSilent: [], confusion: {}, differences: [] };
  for (const [file, entries] of Object.entries(expected)) {
    const verdict = ours[file];
    if (!verdict) throw new Error(`no verdict for ${file}`);
    const byAddress = new Map(verdict.recipients.map((r) => [r.address.toLowerCase(), r.kind]));
    for (const entry of entries) {
      result.recipients++;
      const placeholder = PLACEHOLDER.test(entry.recipient);
      const kind = placeholder ? (verdict.kind === 'none' ? undefined : verdict.kind) : byAddress.get(entry.recipient.toLowerCase());
      const row = (result.confusion[entry.kind] ??= {});
      row[kind ?? 'missing'] = (row[kind ?? 'missing'] ?? 0) + 1;
      if (kind !== undefined) result.found++;
      if (kind === entry.kind) result.sameKind++;
      else result.differences.push(`${file}: ${entry.recipient} ${entry.kind}/${entry.reason} -> ${kind ?? 'missing'}`);
    }
    const referenceKinds = new Map(entries.map((e) => [e.recipient.toLowerCase(), e.kind]));
    for (const recipient of verdict.recipients) {
      if (recipient.kind !== 'hard') continue;
      const reference = referenceKinds.get(recipient.address.toLowerCase());
      if (entries.length === 0) result.hardWhereReferenceSilent.push(`${file}: ${recipient.address} (${recipient.reason}: ${recipient.diagnostic})`);
      else if (reference !== 'hard')
        result.hardWhereSoft.push(`${file}: ${recipient.address} we say hard (${recipient.reason}), the reference ${reference ?? 'leaves it out'}`);
    }
  }
  return result;
}

export function percent(part: number, whole: number): string {
  return whole === 0 ? 'n/a' : ((100 * part) / whole).toFixed(1);
}

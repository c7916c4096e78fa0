/**
 * DMARC records and identifier alignment (RFC 7489 3.1, 6.3). PURE.
 *
 * Relaxed alignment compares organizational domains. Without the Public Suffix List, the
 * organizational domain is taken as the last two labels, three under a handful of well-known
 * two-label suffixes (co.uk, com.au …): right for the usual sender domains, and stated as such.
 */
import { tagList } from './dkim-key.ts';

export type DmarcPolicy = 'none' | 'quarantine' | 'reject';

export interface DmarcRecord {
  readonly policy: DmarcPolicy;
  /** `r` (relaxed, the default) or `s` (strict). */
  readonly adkim: 'r' | 's';
  readonly aspf: 'r' | 's';
  readonly text: string;
}

const TWO_LABEL_SUFFIXES = new Set([
  'co.uk',
  'org.uk',
  'ac.uk',
  'gov.uk',
  'me.uk',
  'com.au',
  'net.au',
  'org.au',
  'co.nz',
  'org.nz',
  'co.jp',
  'ne.jp',
  'or.jp',
  'com.br',
  'com.cn',
  'com.mx',
  'co.za',
  'co.in',
  'co.kr',
  'com.tr',
  'com.sg',
  'com.hk',
  'com.tw',
  'co.il',
]);

export function organizationalDomain(domain: string): string {
  const labels = domain.toLowerCase().replace(/\.$/, '').split('.');
  const keep = labels.length >= 3 && TWO_LABEL_SUFFIXES.has(labels.slice(-2).join('.')) ? 3 : 2;
  return labels.slice(-keep).join('.');
}

/** Strict: the same domain. Relaxed: the same organizational domain (news.example.com and bounces.example.com). */
export function aligned(domain: string, fromDomain: string, mode: 'r' | 's'): boolean {
  const a = domain.toLowerCase();
  const b = fromDomain.toLowerCase();
  return mode === 's' ? a === b : organizationalDomain(a) === organizationalDomain(b);
}

export type ParsedDmarc = { ok: true; record: DmarcRecord } | { ok: false; why: string };

export function parseDmarc(text: string): ParsedDmarc {
  const tags = tagList(text);
  if (!/^v\s*=\s*DMARC1\s*(;|$)/.test(text.trim())) return { ok: false, why: 'it does not start with v=DMARC1' };
  const policy = tags.get('p')?.toLowerCase();
  if (policy === undefined) return { ok: false, why: 'it has no policy (p=none, p=quarantine or p=reject)' };
  if (policy !== 'none' && policy !== 'quarantine' && policy !== 'reject')
    return { ok: false, why: `p=${policy} is not a policy (none, quarantine or reject)` };
  const mode = (tag: string) => (tags.get(tag)?.toLowerCase() === 's' ? 's' : 'r');
  return { ok: true, record: { policy, adkim: mode('adkim'), aspf: mode('aspf'), text } };
}

/** The records that are DMARC's among a name's TXT records. */
export function dmarcRecords(txt: readonly string[]): string[] {
  return txt.filter((record) => /^v\s*=\s*DMARC1\b/i.test(record.trim()));
}

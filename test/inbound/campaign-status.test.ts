import { describe, expect, it } from 'vitest';
import { buildWebServer } from '../../src/processes/web-server.ts';
import { TOKEN } from '../helpers/admin-server.ts';
import { runCli } from '../helpers/run-cli.ts';
import { arfComplaint, dsn, returnedHeaders, returnedJob } from './returned-mail-fixtures.ts';
import { setUp } from './returned-mail-setup.ts';

describe('campaign status and failures, once mail came back', () => {
  it('show the counts next to accepted/failed/skipped, the complaint rate with a warning past 0.1 %, and the late bounces with status and diagnostic', async () => {
    const setup = await setUp(4, { NEWSLETTER_ADMIN_TOKEN: TOKEN });
    const { harness, process, subscribers } = setup;
    const [ann, ben, cat] = subscribers;
    const { campaign, to } = await setup.send('issue-1');
    const bounce = (email: string, status: string, diagnostic: string) => {
      const sent = to(email);
      return returnedJob(dsn({ to: sent.from, finalRecipient: email, status, diagnostic, headers: returnedHeaders(sent) }), [sent.from]);
    };
    await process(bounce(ann!.email, '5.1.1', '550 5.1.1 User unknown'));
    await process(bounce(ben!.email, '5.7.1', '554 5.7.1 Service unavailable; client [192.0.2.50] blocked using zen.spamhaus.org'));
    await process(returnedJob(arfComplaint({ headers: returnedHeaders(to(cat!.email)) }), ['fbl@bounces.news.example.org']));

    const status = await runCli(['campaign', 'status', campaign.id], { env: harness.env });
    expect(status.code).toBe(0);
    expect(status.stdout).toContain('  total 4: accepted 4, failed 0, skipped 0\n');
    expect(status.stdout).toContain('  came back by mail: bounced 1 hard, 0 soft; complained 1 (25.00 % of accepted); unsubscribed 0\n');
    expect(status.stdout).toContain('  not counted against readers: blocked 1 (refused because of us), delayed 0\n');
    expect(status.stdout).toMatch(/ {2}warning: complaints are 25\.00 % of accepted messages, above 0\.10 %/);

    const failures = await runCli(['campaign', 'failures', campaign.id], { env: harness.env });
    expect(failures.stdout.split('\n').filter(Boolean).sort()).toEqual(
      [
        `${ann!.email}\tcame back by mail: hard 5.1.1: smtp; 550 5.1.1 User unknown`,
        `${ben!.email}\tcame back by mail: blocked 5.7.1: smtp; 554 5.7.1 Service unavailable; client [192.0.2.50] blocked using zen.spamhaus.org`,
      ].sort(),
    );

    const server = await buildWebServer(harness.app);
    try {
      const base = await server.listen({ port: 0, host: '127.0.0.1' });
      const api = async (path: string) => (await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } })).json();
      expect((await api(`/api/campaigns/${campaign.id}`)).campaign).toMatchObject({
        accepted: 4,
        returned: { hard: 1, soft: 0, blocked: 1, delayed: 0, complained: 1, unsubscribed: 0 },
        complaintRate: 0.25,
        warnings: [expect.stringMatching(/^complaints are 25\.00 %/)],
      });
      const listed = await api(`/api/campaigns/${campaign.id}/failures`);
      expect(listed.total).toBe(2);
      expect(listed.failures).toContainEqual({
        subscriberId: ann!.id,
        email: ann!.email,
        reply: 'smtp; 550 5.1.1 User unknown',
        returned: { kind: 'hard', status: '5.1.1' },
      });
    } finally {
      await server.close();
    }
  });

  it('say nothing of returned mail while none came back', async () => {
    const setup = await setUp(1);
    const { campaign } = await setup.send('issue-1');
    const status = await runCli(['campaign', 'status', campaign.id], { env: setup.harness.env });
    expect(status.stdout).not.toMatch(/came back|warning/);
    expect(JSON.parse((await runCli(['campaign', 'status', campaign.id, '--json'], { env: setup.harness.env })).stdout)).toMatchObject({
      returned: { hard: 0, complained: 0 },
      complaintRate: 0,
      warnings: [],
    });
  });
});

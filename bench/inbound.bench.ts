/**
 * npm run bench:inbound: DSNs through a running `newsletter inbound` process, as a relay sends
 * them (nodemailer's pooled SMTP client, MAIL FROM:<>, one signed return path each). Two
 * figures a run: SMTP in to recorded (every 250 means the message is a job in Redis), and
 * recorded to processed (the returned-mail worker in the same process has finished the job).
 * Two sizes: a DSN with the returned headers only, and one with the whole returned message.
 * BENCH_DSNS (default 5,000 a size) and BENCH_CONNECTIONS (default 10) override the load.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { clearPrefix } from '../src/demo/clear-prefix.ts';
import { campaignRef, returnPathFor } from '../src/delivery/return-path.ts';
import { DEV_SECRET } from '../src/subscribers/signing-secrets.ts';
import { createTransport } from 'nodemailer';

const N = Number(process.env.BENCH_DSNS ?? 5_000);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);
const DOMAIN = 'bounces.bench.example.org';
const CAMPAIGN = 'bench-weekly--default';
const log = (line: string) => process.stderr.write(`${line}\n`);

const prefix = `bench:inbound:${randomBytes(4).toString('hex')}`;
const env = { ...process.env, REDIS_PREFIX: prefix, NEWSLETTER_DEV_MODE: '1', BOUNCE_DOMAIN: DOMAIN, LOG_LEVEL: 'info' } as Record<string, string>;
const app = await createApp(loadConfig({ env }), { warn: log });
const queue = app.returnedMailQueue();

/** A Postfix-style DSN for one recipient; `returned` is the copy of our message it carries back. */
function dsn(i: number, returned: string): Buffer {
  const subscriber = `sub${i}`;
  const text = `Return-Path: <>
Received: by mx.example.net (Postfix) id 4F1A2B3C; Tue, 03 Dec 2024 10:00:00 +0000 (UTC)
Date: Tue, 03 Dec 2024 10:00:00 +0000 (UTC)
From: MAILER-DAEMON@mx.example.net (Mail Delivery System)
Subject: Undelivered Mail Returned to Sender
To: ${returnPathFor(DEV_SECRET, DOMAIN, campaignRef(CAMPAIGN), subscriber)}
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B${i}"
Message-Id: <dsn${i}.${prefix}@mx.example.net>

--B${i}
Content-Type: text/plain; charset=us-ascii

I'm sorry to have to inform you that your message could not be delivered to one or more recipients.

<reader${i}@example.net>: host mx.example.net said: 550 5.1.1 <reader${i}@example.net>: Recipient address rejected: User unknown

--B${i}
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.net
Arrival-Date: Tue, 03 Dec 2024 09:59:58 +0000 (UTC)

Final-Recipient: rfc822; reader${i}@example.net
Original-Recipient: rfc822;reader${i}@example.net
Action: failed
Status: 5.1.1
Remote-MTA: dns; mx.example.net
Diagnostic-Code: smtp; 550 5.1.1 <reader${i}@example.net>: Recipient address rejected: User unknown

--B${i}
Content-Type: message/rfc822

Message-ID: <${CAMPAIGN}.${subscriber}@news.example.org>
List-Id: Bench Weekly <bench.example.org>
From: Bench Weekly <weekly@news.example.org>
To: reader${i}@example.net
Subject: This week
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

${returned}
--B${i}--
`;
  return Buffer.from(text.replace(/\n/g, '\r\n'), 'utf8');
}

/** User and system CPU time of a process so far, in ms (Linux /proc; clock ticks are 10 ms). */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function completed(): Promise<number> {
  return (await queue.getJobCounts('completed')).completed ?? 0;
}

// The inbound process, as `newsletter inbound` runs in production (its JSON lines are read and dropped).
const child = spawn(process.execPath, ['bin/newsletter.js', 'inbound', '--port', '0'], { env, stdio: ['ignore', 'pipe', 'inherit'] });
const url = await new Promise<string>((resolve, reject) => {
  let out = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    const match = /inbound listening at (smtp:\/\/[\d.]+:\d+)/.exec(out);
    if (match) resolve(match[1]!);
    if (out.length > 100_000) out = out.slice(-1_000);
  });
  child.once('exit', (code) => reject(new Error(`newsletter inbound exited (${code}) before it was ready`)));
});
log(`newsletter inbound at ${url} (pid ${child.pid}), ${N} DSNs a size over ${CONNECTIONS} connections, prefix ${prefix}`);

const { hostname, port } = new URL(url);
const transport = createTransport({ pool: true, host: hostname, port: Number(port), maxConnections: CONNECTIONS, maxMessages: Infinity, ignoreTLS: true });
const rows: string[] = [];
const sizes = [
  { name: 'headers returned', returned: 'Hello reader, this week...\n' },
  { name: 'whole message returned', returned: `${'This is the plain-text part of the returned issue, line after line. '.repeat(680)}\n` },
];

let offset = 0;
for (const size of sizes) {
  const messages = Array.from({ length: N }, (_, i) => dsn(offset + i, size.returned));
  const before = await completed();
  const cpuBefore = cpuMs(child.pid!);
  const latencies: number[] = [];
  const started = performance.now();
  // One message in flight per connection, as a relay's queue runner keeps them: the latency is the SMTP transaction's.
  let next = 0;
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      for (let i = next++; i < N; i = next++) {
        const sent = performance.now();
        const to = returnPathFor(DEV_SECRET, DOMAIN, campaignRef(CAMPAIGN), `sub${offset + i}`);
        const info = await transport.sendMail({ envelope: { from: '', to: [to] }, raw: messages[i]! });
        if (!/^250 /.test(info.response)) throw new Error(`not recorded: ${info.response}`);
        latencies.push(performance.now() - sent);
      }
    }),
  );
  const recordedMs = performance.now() - started;
  while ((await completed()) - before < N) await new Promise((resolve) => setTimeout(resolve, 20));
  const processedMs = performance.now() - started;
  const cpu = cpuMs(child.pid!) - cpuBefore;
  latencies.sort((a, b) => a - b);
  const kb = (messages[0]!.length / 1024).toFixed(1);
  const perSecond = (ms: number) => Math.round((N / ms) * 1000).toLocaleString('en');
  rows.push(
    `| ${size.name} (${kb} KB) | ${N.toLocaleString('en')} | ${perSecond(recordedMs)} | ${percentile(latencies, 50).toFixed(0)} / ${percentile(latencies, 95).toFixed(0)} | ${perSecond(processedMs)} | ${(cpu / N).toFixed(2)} |`,
  );
  log(rows.at(-1)!);
  offset += N;
}

transport.close();
child.kill('SIGTERM');
await new Promise((resolve) => child.once('exit', resolve));
await clearPrefix(app.redis, prefix);
await app.close();

process.stdout.write(
  [
    `newsletter inbound, ${CONNECTIONS} client connections, ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, load average ${(await import('node:os')).loadavg()[0]!.toFixed(1)} after the run`,
    '',
    '| DSN | messages | SMTP in to recorded (msg/s) | 250 after (ms, p50 / p95) | recorded to processed (msg/s, from the first message) | inbound CPU ms a message |',
    '| :-- | --: | --: | --: | --: | --: |',
    ...rows,
    '',
  ].join('\n'),
);

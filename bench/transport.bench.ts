/**
 * node bin/run-ts.js bench/transport.bench.ts: CPU per message of the sending process for
 * transport.ts (a hand-built mail object straight into nodemailer's SMTP pool) against
 * nodemailer's public API for the same job (sendMail({ envelope, raw })), to Postfix smtp-sink
 * in its own process. One process, 5 pooled connections, 10 messages in flight, as a worker.
 * Variants alternate round by round, so load from anything else on the machine hits all alike.
 * BENCH_MESSAGES (default 20,000 a run) and BENCH_ROUNDS (3) override.
 *
 * Then, against an in-process smtp-server, where beforeEnd runs on each path: transport.ts must
 * run it after the server took DATA; a raw stream given to sendMail can only run it when
 * nodemailer first reads that stream.
 */
import type { AddressInfo } from 'node:net';
import { loadavg } from 'node:os';
import { Readable } from 'node:stream';
import { createTransport } from 'nodemailer';
import { SMTPServer } from 'smtp-server';
import { planCampaign } from '../src/campaign/plan.ts';
import { loadConfig } from '../src/config.ts';
import { recipientLinks } from '../src/delivery/recipient-links.ts';
import { buildMessageTemplate, messageIdFor, personalise } from '../src/delivery/message-template.ts';
import { nodemailerTransport } from '../src/delivery/transport.ts';
import { renderPostFile } from '../src/render/render-post-file.ts';
import { DEV_SECRET } from '../src/subscribers/signing-secrets.ts';
import { ensurePostfixTools, startSmtpSink } from './send-postfix.ts';

const N = Number(process.env.BENCH_MESSAGES ?? 20_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const WARM_UP = 1_000;
const CONNECTIONS = 5;
const IN_FLIGHT = 10;
const POST = 'emails/posts/sofa-weekly-2019-11-01.md';
const log = (line: string) => process.stderr.write(`${line}\n`);

const config = loadConfig({ env: { NEWSLETTER_DEV_MODE: '1' } });
const issue = await renderPostFile(POST, { identity: config.identity });
const { snapshot } = planCampaign({ issue, list: 'bench', now: new Date(), publicUrl: config.http.publicUrl });
const template = buildMessageTemplate({
  issue: snapshot,
  identity: config.identity,
  campaignId: 'bench-transport',
  date: new Date(),
  viewUrl: snapshot.viewUrl,
});
// 64 personalised messages used in turn: every message its own bytes, without building one per send.
const messages = Array.from({ length: 64 }, (_, i) => {
  const id = `s${i}`;
  const to = `reader${i}@example.org`;
  const messageId = messageIdFor('bench-transport', id, config.identity.fromAddress);
  return { to, messageId, raw: personalise(template, { to, messageId, ...recipientLinks(DEV_SECRET, config.http.publicUrl, config.identity)(id) }) };
});
const from = template.from;

/** The public path's only way to hold the end: a raw stream that ends once beforeEnd resolved. */
function rawHoldingEnd(raw: Buffer, hold: () => Promise<void>): Readable {
  let started = false;
  return new Readable({
    read() {
      if (started) return;
      started = true;
      this.push(raw);
      hold().then(
        () => this.push(null),
        (error: Error) => this.destroy(error),
      );
    },
  });
}

type Message = (typeof messages)[number];
type Send = (message: Message) => Promise<unknown>;
/** What runs before the end of a message, for the paths that hold it. */
type Hold = (message: Message) => () => Promise<void>;
interface Variant {
  name: string;
  /** Whether beforeEnd is run (held end) or the message goes as one Buffer. */
  holdsEnd: boolean;
  open(port: number, hold: Hold): { send: Send; close: () => void };
}

const pooled = (port: number) =>
  createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true, pool: true, maxConnections: CONNECTIONS, maxMessages: 1_000_000 });

const variants: Variant[] = [
  {
    name: 'transport.ts: pool.send, end held for beforeEnd (the worker)',
    holdsEnd: true,
    open(port, hold) {
      const transport = nodemailerTransport(pooled(port));
      return { send: (m) => transport.send({ from, to: m.to, messageId: m.messageId }, m.raw, hold(m)), close: () => void transport.close() };
    },
  },
  {
    name: 'public: sendMail({ envelope, raw: Readable }), end held for beforeEnd',
    holdsEnd: true,
    open(port, hold) {
      const mailer = pooled(port);
      return { send: (m) => mailer.sendMail({ envelope: { from, to: [m.to] }, raw: rawHoldingEnd(m.raw, hold(m)) }), close: () => mailer.close() };
    },
  },
  {
    name: 'transport.ts: pool.send, Buffer, no beforeEnd (send --test-to)',
    holdsEnd: false,
    open(port) {
      const transport = nodemailerTransport(pooled(port));
      return { send: (m) => transport.send({ from, to: m.to, messageId: m.messageId }, m.raw), close: () => void transport.close() };
    },
  },
  {
    name: 'public: sendMail({ envelope, raw: Buffer }), no beforeEnd',
    holdsEnd: false,
    open(port) {
      const mailer = pooled(port);
      return { send: (m) => mailer.sendMail({ envelope: { from, to: [m.to] }, raw: m.raw }), close: () => mailer.close() };
    },
  },
];

async function sendMany(send: Send, count: number): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < count) await send(messages[next++ % messages.length]!);
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
}

interface Run {
  cpuUs: number;
  msgPerS: number;
}

async function measure(variant: Variant, port: number): Promise<Run> {
  const { send, close } = variant.open(port, () => async () => {});
  await sendMany(send, WARM_UP);
  const cpu = process.cpuUsage();
  const started = process.hrtime.bigint();
  await sendMany(send, N);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const used = process.cpuUsage(cpu);
  close();
  return { cpuUs: (used.user + used.system) / N, msgPerS: N / seconds };
}

/** Per path that holds the end, how many of the messages ran beforeEnd after the server took their DATA command. */
async function whereBeforeEndRuns(): Promise<{ name: string; afterData: number }[]> {
  const dataTaken = new Set<string>();
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      dataTaken.add(session.envelope.rcptTo[0]!.address);
      stream.resume();
      stream.on('end', () => callback());
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.server.address() as AddressInfo).port;
  const results = [];
  for (const variant of variants.filter((v) => v.holdsEnd)) {
    dataTaken.clear();
    let afterData = 0;
    const { send, close } = variant.open(port, (m) => async () => void (dataTaken.has(m.to) && afterData++));
    await Promise.all(messages.map(send));
    close();
    results.push({ name: variant.name, afterData });
  }
  server.close();
  return results;
}

ensurePostfixTools(log);
const sink = await startSmtpSink();
const runs = new Map<string, Run[]>(variants.map((v) => [v.name, []]));
const loadBefore = loadavg()[0]!;
try {
  for (let round = 0; round < ROUNDS; round++) {
    // A different order each round: neither path always runs first (JIT) or last (heat).
    const order = variants.map((_, i) => variants[(i + round) % variants.length]!);
    for (const variant of order) {
      const run = await measure(variant, sink.port);
      runs.get(variant.name)!.push(run);
      log(`round ${round + 1}: ${variant.name}: ${run.cpuUs.toFixed(1)} us CPU/msg, ${Math.round(run.msgPerS)} msg/s`);
    }
  }
} finally {
  sink.stop();
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
console.log(
  `\n${N} messages a run (${(messages[0]!.raw.length / 1024).toFixed(1)} KB each), ${ROUNDS} rounds, ${CONNECTIONS} connections, ${IN_FLIGHT} in flight, smtp-sink; load average (1 min) ${loadBefore.toFixed(1)} before, ${loadavg()[0]!.toFixed(1)} after\n`,
);
console.log('| path | CPU us/msg (median) | runs | msg/s (median) |');
console.log('|:--|--:|:--|--:|');
for (const [name, list] of runs) {
  console.log(
    `| ${name} | ${median(list.map((r) => r.cpuUs)).toFixed(1)} | ${list.map((r) => r.cpuUs.toFixed(1)).join(', ')} | ${Math.round(median(list.map((r) => r.msgPerS)))} |`,
  );
}
console.log('\nbeforeEnd after the server took DATA (in-process smtp-server):');
for (const r of await whereBeforeEndRuns()) console.log(`- ${r.name}: ${r.afterData} of ${messages.length}`);

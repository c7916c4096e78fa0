/**
 * A real DNS server for a test: Debian's dnsmasq (/usr/sbin/dnsmasq, package `dnsmasq`) on a
 * free port of 127.0.0.1, answering only the records the test gives it. Names under `.test`
 * that it does not hold get NXDOMAIN (RFC 6761 reserves the TLD for this); it asks no other
 * server. Point `DNS_SERVERS` at `server` to make `newsletter doctor` ask it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { Resolver } from 'node:dns/promises';
import { userInfo } from 'node:os';
import { freePort } from '../../src/redis/private-redis-server.ts';

export const DNSMASQ = '/usr/sbin/dnsmasq';

export interface DnsRecords {
  /** name -> its TXT records, each one string (longer than 255 characters is split, as zone files do). */
  txt?: Record<string, string[]>;
  /** name -> [exchange, priority] */
  mx?: Record<string, [string, number][]>;
  /** name -> its addresses (IPv4 and IPv6 alike). */
  host?: Record<string, string[]>;
}

export interface TestDnsServer {
  /** `127.0.0.1:<port>`, for DNS_SERVERS. */
  readonly server: string;
  /** Stops it and starts one on a new port with other records (`server` changes). */
  replace(records: DnsRecords): Promise<void>;
  stop(): Promise<void>;
}

/** One TXT record as dnsmasq's option takes it: its strings separated by commas. */
function txtStrings(text: string): string {
  if (text.includes(',')) throw new Error(`dnsmasq cannot serve a TXT string with a comma: ${text}`);
  const chunks: string[] = [];
  for (let at = 0; at < text.length; at += 255) chunks.push(text.slice(at, at + 255));
  return chunks.join(',') || '';
}

function argsFor(port: number, records: DnsRecords): string[] {
  const args = [
    '--keep-in-foreground',
    '--no-resolv',
    '--no-hosts',
    '--conf-file=/dev/null',
    '--pid-file=',
    '--log-facility=-',
    `--user=${userInfo().username}`,
    '--listen-address=127.0.0.1',
    '--bind-interfaces',
    `--port=${port}`,
    // Answer NXDOMAIN for the rest of .test instead of REFUSED.
    '--local=/test/',
    '--txt-record=ready.dns.test,ready',
  ];
  for (const [name, texts] of Object.entries(records.txt ?? {})) for (const text of texts) args.push(`--txt-record=${name},${txtStrings(text)}`);
  for (const [name, exchanges] of Object.entries(records.mx ?? {}))
    for (const [exchange, priority] of exchanges) args.push(`--mx-host=${name},${exchange},${priority}`);
  for (const [name, addresses] of Object.entries(records.host ?? {})) for (const address of addresses) args.push(`--host-record=${name},${address}`);
  return args;
}

async function answers(server: string): Promise<boolean> {
  const resolver = new Resolver({ timeout: 200, tries: 1 });
  resolver.setServers([server]);
  try {
    return (await resolver.resolveTxt('ready.dns.test')).length > 0;
  } catch {
    return false;
  }
}

async function launch(records: DnsRecords): Promise<{ child: ChildProcess; server: string }> {
  let lastOutput = '';
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const child = spawn(DNSMASQ, argsFor(port, records), { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let spawnError: Error | undefined;
    child.once('error', (error) => (spawnError = error));
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const server = `127.0.0.1:${port}`;
    const deadline = Date.now() + 10_000;
    while (child.exitCode === null && !spawnError && Date.now() < deadline) {
      if (await answers(server)) return { child, server };
    }
    if (spawnError) throw new Error(`cannot run ${DNSMASQ} (${spawnError.message}): apt-get install dnsmasq`);
    child.kill('SIGKILL');
    await exited;
    lastOutput = output;
    // A port taken between freePort and the bind (UDP and TCP are separate): try another.
    if (!/in use/i.test(output)) break;
  }
  throw new Error(`dnsmasq did not start: ${lastOutput.slice(-2000)}`);
}

export async function startDnsServer(records: DnsRecords): Promise<TestDnsServer> {
  let current = await launch(records);
  const stop = async () => {
    const { child } = current;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    await exited;
  };
  return {
    get server() {
      return current.server;
    },
    async replace(next) {
      await stop();
      current = await launch(next);
    },
    stop,
  };
}

/**
 * A real IMAP server for the tests: Debian's Dovecot (package dovecot-imapd), started as a
 * private instance whose configuration, sockets, logs and mail all live in a temporary folder,
 * listening on a free port of 127.0.0.1, with one user and a plain-text password. It runs
 * beside any system Dovecot without touching it. Run as root (CI), its login processes and
 * mail access use Debian's `dovenull` and `dovecot` accounts, because Dovecot refuses to
 * serve mail as root; run as anyone else, everything runs as that user.
 *
 * Written for Dovecot 2.3 (Debian 12); 2.4 changed the configuration syntax.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, connect } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { ImapFlow } from 'imapflow';

const DOVECOT = '/usr/sbin/dovecot';
const MISSING =
  `Debian's Dovecot is not installed (${DOVECOT} is missing): the IMAP tests run a real IMAP server. ` +
  'Install it with `apt-get install -y dovecot-imapd` (.ci/run does).';

export interface TestDovecot {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly pass: string;
  /** `imap://user:pass@127.0.0.1:port/<mailbox>`, with a wrong password when asked. */
  url(options?: { mailbox?: string; pass?: string }): string;
  /** Puts a message in a mailbox over IMAP APPEND, as a mail server's delivery would; flags none. */
  append(raw: string | Buffer, mailbox?: string): Promise<void>;
  /** The same for many messages, over one connection. */
  appendAll(raws: readonly (string | Buffer)[], mailbox?: string): Promise<void>;
  /** The flags of every message of a mailbox, by UID. */
  flags(mailbox?: string): Promise<Map<number, Set<string>>>;
  /** Flags every message of a mailbox \\Seen, as a person reading it in a mail client would. */
  markSeen(mailbox?: string): Promise<void>;
  /** Creates a mailbox. */
  createMailbox(path: string): Promise<void>;
  /** Stops the server (SIGTERM: open sessions are told BYE and closed) and waits until it has exited. */
  stop(): Promise<void>;
  /** Starts it again on the same port, with the same mail. */
  start(): Promise<void>;
  /** Stops it and deletes its folder. */
  close(): Promise<void>;
}

function accountOf(name: string): { uid: number; gid: number } {
  const result = spawnSync('id', ['-u', name], { encoding: 'utf8' });
  const group = spawnSync('id', ['-g', name], { encoding: 'utf8' });
  if (result.status !== 0 || group.status !== 0) throw new Error(`${MISSING} (the account '${name}' it creates is missing)`);
  return { uid: Number(result.stdout.trim()), gid: Number(group.stdout.trim()) };
}

/**
 * Whether a process of the group still runs. Not kill(-pgid, 0): that also counts the group's
 * exited processes that nobody reaped yet, and Dovecot's children outlive their master as such
 * until PID 1 reaps them, which a container's init may do late.
 */
async function groupRunning(pgid: number): Promise<boolean> {
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    // pid (comm) state ppid pgrp ...: comm may hold spaces and parentheses, so read after the last ')'.
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(pgrp) === pgid && state !== 'Z' && state !== 'X') return true;
  }
  return false;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Resolves once the server greets a new connection with `* OK`; the greeting is its readiness. */
async function greets(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    // A plain timer: a connection the kernel accepted for a login process that never starts stays silent.
    const timer = setTimeout(() => done(false), 2_000);
    const done = (ok: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      if (text.includes('\r\n')) done(text.startsWith('* OK'));
    });
    socket.on('error', () => done(false));
  });
}

function configuration(dir: string, port: number, capability: string | undefined): string {
  const root = process.getuid?.() === 0;
  const me = userInfo();
  const mail = root ? accountOf('dovecot') : { uid: me.uid, gid: me.gid };
  const loginUser = root ? 'dovenull' : me.username;
  const internalUser = root ? 'dovecot' : me.username;
  return `# A private test instance: nothing here refers to /etc/dovecot or /var.
base_dir = ${dir}/run
state_dir = ${dir}/state
log_path = ${dir}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
default_login_user = ${loginUser}
default_internal_user = ${internalUser}
default_internal_group = ${root ? 'dovecot' : spawnSync('id', ['-gn'], { encoding: 'utf8' }).stdout.trim()}
mail_location = maildir:${dir}/mail/%u
mail_max_userip_connections = 100
${capability ? `imap_capability = ${capability}\n` : ''}first_valid_uid = ${mail.uid}
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u ${dir}/passwd
}
userdb {
  driver = static
  args = uid=${mail.uid} gid=${mail.gid} home=${dir}/mail/%u
}
# No growing delay for every login after a failed one from the same address (the wrong-password test).
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }${root ? '' : '\n  chroot ='}
}
service imap-login {${root ? '' : '\n  chroot ='}
  inet_listener imap {
    port = ${port}
  }
  inet_listener imaps {
    port = 0
  }
}
`;
}

/** Starts a private Dovecot with one user; `close()` it after the tests. */
export async function startTestDovecot(
  options: {
    user?: string;
    pass?: string;
    /** The CAPABILITY list it announces after login instead of its own, e.g. one without IDLE. */
    capability?: string;
  } = {},
): Promise<TestDovecot> {
  if (!existsSync(DOVECOT)) throw new Error(MISSING);
  const version = spawnSync(DOVECOT, ['--version'], { encoding: 'utf8' }).stdout.trim();
  if (!version.startsWith('2.3.')) throw new Error(`test/helpers/dovecot.ts writes a Dovecot 2.3 configuration; ${DOVECOT} is ${version}`);
  const user = options.user ?? 'bounces';
  const pass = options.pass ?? 'imap-test-secret';
  const dir = await mkdtemp(join(tmpdir(), 'newsletter-dovecot-'));
  // The mail processes run as another account when we are root: they must reach the folder.
  await chmod(dir, 0o755);
  await mkdir(join(dir, 'mail'));
  if (process.getuid?.() === 0) {
    const { uid, gid } = accountOf('dovecot');
    await chown(join(dir, 'mail'), uid, gid);
  }
  await writeFile(join(dir, 'passwd'), `${user}:{PLAIN}${pass}::::::\n`, { mode: 0o644 });

  let port = 0;
  let child: ChildProcess | undefined;
  /** Dovecot runs as a process group of its own (master, login, auth, one imap process a session): signals go to all of it. */
  const signalGroup = (signal: NodeJS.Signals | 0): boolean => {
    try {
      if (child?.pid) process.kill(-child.pid, signal);
      return true;
    } catch {
      return false;
    }
  };
  const killOnExit = () => signalGroup('SIGKILL');
  process.once('exit', killOnExit);

  /** Every process of the instance ends, sessions included: clients see their connection closed, as in an outage. */
  const stop = async () => {
    signalGroup('SIGTERM');
    const deadline = Date.now() + 5_000;
    while (child?.pid && (await groupRunning(child.pid))) {
      if (Date.now() > deadline) signalGroup('SIGKILL');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };

  const launch = async (): Promise<void> => {
    await writeFile(join(dir, 'dovecot.conf'), configuration(dir, port, options.capability));
    const proc = spawn(DOVECOT, ['-F', '-c', join(dir, 'dovecot.conf')], { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
    let stderr = '';
    proc.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child = proc;
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      if (proc.exitCode !== null || proc.signalCode !== null) break;
      if (await greets(port)) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    signalGroup('SIGKILL');
    await stop();
    const log = await readFile(join(dir, 'dovecot.log'), 'utf8').catch(() => '');
    throw new Error(`Dovecot did not start on 127.0.0.1:${port}: ${(stderr + log).slice(-2000)}`);
  };

  // A free port can be taken between our probe and Dovecot's bind by another test's server: try another.
  for (let attempt = 1; ; attempt++) {
    port = await freePort();
    try {
      await launch();
      break;
    } catch (error) {
      if (attempt === 3 || !String(error).includes('Address already in use')) {
        await rm(dir, { recursive: true, force: true });
        process.off('exit', killOnExit);
        throw error;
      }
    }
  }

  const withClient = async <T>(work: (client: ImapFlow) => Promise<T>): Promise<T> => {
    const client = new ImapFlow({ host: '127.0.0.1', port, secure: false, auth: { user, pass }, logger: false, disableAutoIdle: true });
    client.on('error', () => {});
    await client.connect();
    try {
      return await work(client);
    } finally {
      await client.logout().catch(() => client.close());
    }
  };

  return {
    host: '127.0.0.1',
    get port() {
      return port;
    },
    user,
    pass,
    url: ({ mailbox = 'INBOX', pass: password = pass } = {}) =>
      `imap://${encodeURIComponent(user)}:${encodeURIComponent(password)}@127.0.0.1:${port}/${encodeURIComponent(mailbox)}`,
    append: (raw, mailbox = 'INBOX') =>
      withClient(async (client) => {
        await client.append(mailbox, raw, []);
      }),
    appendAll: (raws, mailbox = 'INBOX') =>
      withClient(async (client) => {
        for (const raw of raws) await client.append(mailbox, raw, []);
      }),
    flags: (mailbox = 'INBOX') =>
      withClient(async (client) => {
        const lock = await client.getMailboxLock(mailbox);
        try {
          const messages = client.mailbox && client.mailbox.exists > 0 ? await client.fetchAll('1:*', { uid: true, flags: true }) : [];
          return new Map(messages.map((message) => [message.uid, message.flags ?? new Set<string>()]));
        } finally {
          lock.release();
        }
      }),
    markSeen: (mailbox = 'INBOX') =>
      withClient(async (client) => {
        const lock = await client.getMailboxLock(mailbox);
        try {
          await client.messageFlagsAdd('1:*', ['\\Seen']);
        } finally {
          lock.release();
        }
      }),
    createMailbox: (path) =>
      withClient(async (client) => {
        await client.mailboxCreate(path);
      }),
    stop,
    start: launch,
    async close() {
      await stop();
      process.off('exit', killOnExit);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

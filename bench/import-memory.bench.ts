/**
 * Import memory with many bad rows: `npm run bench:import-memory [-- --mib 1024]` (default
 * 1 GiB, the admin API's limit for a CSV body).
 *
 * Writes two CSV files of that size to a temp dir: one where every row is rejected (an
 * invalid address, a wrong number of fields, an unknown status, in turn) and one of mixed rows
 * (one good row in 1,000, with a unique address). Each is imported twice, into a fresh prefix
 * on REDIS_URL (default the local Redis):
 * - through the CLI: `node bin/newsletter.js subscribers import FILE --json` as a child process;
 * - through the admin API over real HTTP: `node bin/newsletter.js server` as a child process,
 *   the file streamed as the body of `POST /api/subscribers/import` (text/csv), while
 *   `GET /healthz` is asked every 500 ms (the web server also answers unsubscribes).
 * Reports the child's peak RSS (VmHWM from /proc/<pid>/status, read every 100 ms until it
 * exits; the server's also at idle before the upload), wall time and CPU time (utime + stime
 * from /proc/<pid>/stat: the CLI's at its last reading, the server's over the upload; on a
 * shared machine wall time is mostly waiting for a core), and the size of what it printed or
 * answered. Deletes the files and every key it made, also on Ctrl-C.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, createReadStream, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Redis } from 'ioredis';
import { clearPrefix } from '../src/demo/clear-prefix.ts';
import { freePort } from '../src/redis/private-redis-server.ts';

const argv = process.argv.slice(2);
const mibFlag = argv.indexOf('--mib');
const MIB = mibFlag >= 0 ? Number(argv[mibFlag + 1]) : 1024;
if (!(MIB > 0)) throw new Error('--mib takes a positive number of MiB');
const SIZE = Math.floor(MIB * 1024 * 1024);
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const TOKEN = randomBytes(24).toString('hex');
const root = resolve(import.meta.dirname, '..');
const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(0);

/** Row `i` of a file: `good(i)` says which rows are valid. */
function row(i: number, good: (i: number) => boolean): string {
  if (good(i)) return `reader-${i}@example.com,Reader ${i},active\n`;
  switch (i % 3) {
    case 0:
      return `not-an-address-${i},Reader ${i},active\n`;
    case 1:
      return `reader-${i}@example.com,Reader ${i},active,extra\n`;
    default:
      return `reader-${i}@example.com,Reader ${i},vanished\n`;
  }
}

/** A CSV of at most SIZE bytes; returns its rows (header excluded) and good rows. */
function writeCsv(file: string, good: (i: number) => boolean): { rows: number; good: number } {
  const fd = openSync(file, 'w');
  let written = 0;
  let rows = 0;
  let goodRows = 0;
  try {
    const header = 'email,name,status\n';
    written += writeSync(fd, header);
    for (let full = false; !full;) {
      let chunk = '';
      while (chunk.length < 1 << 20) {
        const line = row(rows, good);
        if (written + chunk.length + line.length > SIZE) {
          full = true;
          break;
        }
        if (good(rows)) goodRows++;
        chunk += line;
        rows++;
      }
      written += writeSync(fd, chunk);
    }
  } finally {
    closeSync(fd);
  }
  return { rows, good: goodRows };
}

/** Peak and current resident set of a child, in bytes (0 once it has gone). */
function memory(pid: number): { peak: number; rss: number } {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024;
    return { peak: kb('VmHWM'), rss: kb('VmRSS') };
  } catch {
    return { peak: 0, rss: 0 };
  }
}

const CLOCK_TICKS = 100; // getconf CLK_TCK on Linux

/** CPU seconds a process has used, user and system (0 once it has gone). */
function cpuSeconds(pid: number): number {
  try {
    // Fields after the command's closing parenthesis; utime and stime are the 12th and 13th.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return 0;
  }
}

/** Reads VmHWM and CPU time every 100 ms; the highest seen of each. */
function watch(pid: number): { peak(): number; cpu(): number; stop(): void } {
  let peak = 0;
  let cpu = 0;
  const read = () => {
    peak = Math.max(peak, memory(pid).peak);
    cpu = Math.max(cpu, cpuSeconds(pid));
  };
  read();
  const timer = setInterval(read, 100);
  return {
    peak() {
      read();
      return peak;
    },
    cpu() {
      read();
      return cpu;
    },
    stop: () => clearInterval(timer),
  };
}

/** Counts a stream's bytes, keeping the first MiB. */
function collect(stream: NodeJS.ReadableStream): { bytes(): number; text(): string } {
  let bytes = 0;
  const kept: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => {
    if (bytes < 1 << 20) kept.push(chunk);
    bytes += chunk.length;
  });
  return { bytes: () => bytes, text: () => Buffer.concat(kept).toString('utf8') };
}

function childEnv(prefix: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    REDIS_URL,
    REDIS_PREFIX: prefix,
    NEWSLETTER_CONFIG: join(root, 'newsletter.yaml'),
    NEWSLETTER_SECRET: randomBytes(32).toString('hex'),
    LOG_LEVEL: 'warn',
    ...extra,
  };
}

const exited = (child: ChildProcess) => new Promise<number | null>((done) => child.once('exit', (code) => done(code)));

/** What a report says, if it could be read: the totals only. */
function summary(text: string, bytes: number): string {
  if (bytes > 1 << 20) return `not read: ${mb(bytes)} MB`;
  try {
    const report = JSON.parse(text) as { imported: number; rejected: unknown[]; rejectedTotal?: number; rejectedByKind?: Record<string, number> };
    const total = report.rejectedTotal ?? report.rejected.length;
    return `imported ${report.imported}, rejected ${total} (${report.rejected.length} listed)`;
  } catch {
    return `not JSON: ${text.slice(0, 120)}`;
  }
}

interface Result {
  how: string;
  file: string;
  seconds: number;
  cpu: number;
  idle?: number;
  peak: number;
  outcome: string;
  printed: string;
  healthz?: string;
}

async function throughCli(file: string, prefix: string): Promise<Result> {
  const started = process.hrtime.bigint();
  const child = spawn(process.execPath, ['bin/newsletter.js', 'subscribers', 'import', file, '--json'], {
    cwd: root,
    env: childEnv(prefix),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running = child;
  const watching = watch(child.pid!);
  const stdout = collect(child.stdout!);
  const stderr = collect(child.stderr!);
  const code = await exited(child);
  watching.stop();
  return {
    how: 'CLI `subscribers import`',
    file,
    seconds: Number(process.hrtime.bigint() - started) / 1e9,
    cpu: watching.cpu(),
    peak: watching.peak(),
    outcome: `exit ${code}; ${summary(stdout.text(), stdout.bytes())}`,
    printed: `stdout ${stdout.bytes().toLocaleString('en')} B, stderr ${stderr.bytes().toLocaleString('en')} B`,
  };
}

async function waitForHealthz(base: string, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (child.exitCode !== null) throw new Error(`the server exited with ${child.exitCode}`);
    const ok = await fetch(`${base}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((done) => setTimeout(done, 100));
  }
  throw new Error('the server did not answer /healthz within 60 s');
}

/** POSTs the file as a streamed text/csv body; resolves with the status and the answer. */
function upload(base: string, file: string): Promise<{ status: number; body: ReturnType<typeof collect> }> {
  return new Promise((done, fail) => {
    const req = request(
      `${base}/api/subscribers/import`,
      {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'text/csv', 'content-length': statSync(file).size },
      },
      (res) => {
        const body = collect(res);
        res.on('end', () => done({ status: res.statusCode ?? 0, body }));
        res.on('error', fail);
      },
    );
    req.on('error', fail);
    createReadStream(file).pipe(req);
  });
}

async function throughAdminApi(file: string, prefix: string): Promise<Result> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, ['bin/newsletter.js', 'server', '--host', '127.0.0.1', '--port', String(port)], {
    cwd: root,
    env: childEnv(prefix, { NEWSLETTER_ADMIN_TOKEN: TOKEN }),
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  running = child;
  const gone = exited(child);
  try {
    await waitForHealthz(base, child);
    const idle = memory(child.pid!).rss;
    const cpuBefore = cpuSeconds(child.pid!);
    const watching = watch(child.pid!);
    // The web server also answers unsubscribes: how long does it take to answer meanwhile?
    let slowest = 0;
    let failed = 0;
    let probing = true;
    const probes = (async () => {
      while (probing) {
        const asked = Date.now();
        const ok = await fetch(`${base}/healthz`).then(
          (r) => r.ok,
          () => false,
        );
        if (!ok) failed++;
        slowest = Math.max(slowest, Date.now() - asked);
        await new Promise((done) => setTimeout(done, 500));
      }
    })();
    const started = process.hrtime.bigint();
    const { status, body } = await upload(base, file);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const cpu = cpuSeconds(child.pid!) - cpuBefore;
    probing = false;
    await probes;
    watching.stop();
    const after = await fetch(`${base}/healthz`).then(
      (r) => r.status,
      (e: Error) => e.message,
    );
    return {
      how: 'admin API `POST /api/subscribers/import`',
      file,
      seconds,
      cpu,
      idle,
      peak: watching.peak(),
      outcome: `HTTP ${status}; ${status === 200 ? summary(body.text(), body.bytes()) : body.text().slice(0, 160)}`,
      printed: `answer ${body.bytes().toLocaleString('en')} B`,
      healthz: `slowest ${slowest} ms${failed ? `, ${failed} failed` : ''}; after: ${after}`,
    };
  } finally {
    child.kill('SIGTERM');
    await gone;
  }
}

const dir = await mkdtemp(join(tmpdir(), 'nl-import-memory-'));
const redis = new Redis(REDIS_URL);
const results: Result[] = [];
let running: ChildProcess | undefined;
let prefix = '';
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    running?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    void clearPrefix(redis, prefix).finally(() => process.exit(130));
  });
}
try {
  const files = [
    { name: 'invalid.csv', good: () => false },
    { name: 'mixed.csv', good: (i: number) => i % 1000 === 999 },
  ].map(({ name, good }) => {
    const file = join(dir, name);
    const { rows, good: goodRows } = writeCsv(file, good);
    console.log(`${name}: ${mb(statSync(file).size)} MB, ${rows.toLocaleString('en')} rows, ${goodRows.toLocaleString('en')} good`);
    return file;
  });
  for (const file of files) {
    for (const run of [throughCli, throughAdminApi]) {
      prefix = `bench:import-memory:${randomBytes(4).toString('hex')}`;
      try {
        const result = await run(file, prefix);
        results.push(result);
        console.log(
          `${result.how}, ${file.slice(dir.length + 1)}: ${result.seconds.toFixed(1)} s (CPU ${result.cpu.toFixed(1)} s), peak RSS ${mb(result.peak)} MB` +
            `${result.idle ? ` (idle ${mb(result.idle)} MB)` : ''}; ${result.outcome}; ${result.printed}` +
            `${result.healthz ? `; /healthz ${result.healthz}` : ''}; load ${loadavg()[0]!.toFixed(1)}`,
        );
      } finally {
        await clearPrefix(redis, prefix);
      }
    }
  }
  console.log('\n| path | file | time | CPU | peak RSS | idle RSS | outcome | output | /healthz meanwhile |');
  console.log('|:--|:--|--:|--:|--:|--:|:--|:--|:--|');
  for (const r of results) {
    console.log(
      `| ${r.how} | ${r.file.slice(dir.length + 1)} (${mb(SIZE)} MiB) | ${r.seconds.toFixed(1)} s | ${r.cpu.toFixed(1)} s | ${mb(r.peak)} MB | ${r.idle ? `${mb(r.idle)} MB` : ''} | ${r.outcome} | ${r.printed} | ${r.healthz ?? ''} |`,
    );
  }
} finally {
  redis.disconnect();
  await rm(dir, { recursive: true, force: true });
}

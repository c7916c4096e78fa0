/**
 * How long rendering takes: a warm render of a parsed post (what a send pays once per
 * issue, and preview once per request), the cold CLI (what an editor waits for), and a
 * folder of 200 posts in one `newsletter render` next to what 200 separate calls cost.
 * `npm run bench:render [-- --runs 200 --cli-runs 10 --folder-posts 200 --folder-runs 3]`
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { loadConfig } from '../src/config.ts';
import { parsePost } from '../src/render/parse-post.ts';
import { readPostSource } from '../src/render/render-post-file.ts';
import { renderIssue } from '../src/render/render-issue.ts';
import { loadTemplates } from '../src/render/templates.ts';
import { buildPostFolder } from './post-folder.ts';

const SEED = resolve('emails/posts/sofa-weekly-2019-11-01.md');
/** The largest post in the shared corpus, when this checkout sits beside it. */
const LARGEST_CORPUS_POST = resolve('../shared/corpus/this-week-in-rust/2026-08-19-this-week-in-rust.md');

function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  const value = at === -1 ? fallback : Number(process.argv[at + 1]);
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a positive integer`);
  return value;
}
const RUNS = option('runs', 200);
const CLI_RUNS = option('cli-runs', 10);
const FOLDER_POSTS = option('folder-posts', 200);
const FOLDER_RUNS = option('folder-runs', 3);

interface Row {
  what: string;
  runs: number;
  mean: number;
  p50: number;
  p95: number;
  min: number;
  max: number;
  note: string;
}

function summarise(what: string, samples: number[], note = ''): Row {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
  const mean = samples.reduce((sum, v) => sum + v, 0) / samples.length;
  return { what, runs: samples.length, mean, p50: at(0.5), p95: at(0.95), min: sorted[0]!, max: sorted.at(-1)!, note };
}

async function warmRender(file: string): Promise<Row> {
  const { identity } = loadConfig();
  const templates = loadTemplates();
  const post = parsePost(await readPostSource(file), file);
  const first = await renderIssue(post, { identity, templates });
  const samples: number[] = [];
  for (let i = 0; i < RUNS; i += 1) {
    const start = performance.now();
    await renderIssue(post, { identity, templates });
    samples.push(performance.now() - start);
  }
  const size = `${(post.markdown.length / 1024).toFixed(1)} KB md -> ${(Buffer.byteLength(first.html) / 1024).toFixed(1)} KB html`;
  return summarise(`warm render: ${relative(process.cwd(), file)}`, samples, size);
}

function runCli(args: string[]): Promise<number> {
  return new Promise((done, fail) => {
    const start = performance.now();
    const child = spawn(process.execPath, ['bin/newsletter.js', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', fail);
    child.on('exit', (code) => {
      const elapsed = performance.now() - start;
      if (code === 0) done(elapsed);
      else fail(new Error(`newsletter ${args.join(' ')} exited ${code}: ${stderr.trim()}`));
    });
  });
}

/** Start-up alone (tsx, imports, config): what the render row pays before it renders. */
async function coldCliHelp(): Promise<Row> {
  const samples: number[] = [];
  for (let i = 0; i < CLI_RUNS; i += 1) samples.push(await runCli(['--help']));
  return summarise('cold CLI: newsletter --help', samples, 'start-up baseline');
}

async function coldCli(): Promise<Row> {
  const out = await mkdtemp(join(tmpdir(), 'nl-bench-render-'));
  try {
    const samples: number[] = [];
    for (let i = 0; i < CLI_RUNS; i += 1) {
      samples.push(await runCli(['render', relative(process.cwd(), SEED), '--out', out]));
    }
    return summarise('cold CLI: newsletter render <seed> --out DIR', samples, 'process spawn to exit');
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}

/**
 * The folder in one call, and the same posts one call each. The second is estimated from
 * CLI_RUNS single calls on posts spread over the folder, times the number of posts: running
 * all of them would take minutes and say nothing more.
 */
async function folderCli(): Promise<Row[]> {
  const folder = await buildPostFolder(FOLDER_POSTS);
  const out = await mkdtemp(join(tmpdir(), 'nl-bench-render-'));
  try {
    const posts = (await readdir(folder.dir)).sort();
    const whole: number[] = [];
    for (let i = 0; i < FOLDER_RUNS; i += 1) whole.push(await runCli(['render', folder.dir, '--out', out]));
    const single: number[] = [];
    for (let i = 0; i < CLI_RUNS; i += 1) {
      const post = posts[Math.floor((i * posts.length) / CLI_RUNS)]!;
      single.push(await runCli(['render', join(folder.dir, post), '--out', out]));
    }
    const made = `${posts.length} posts from ${folder.sources.length} (${folder.fromCorpus} from ../shared/corpus)`;
    const folderRow = summarise(`cold CLI: newsletter render <folder of ${posts.length}> --out DIR`, whole, made);
    const singleRow = summarise(`cold CLI: newsletter render <one post of the folder>`, single, 'posts spread over the folder');
    const estimate = (singleRow.mean * posts.length) / 1000;
    folderRow.note += `; ${(folderRow.mean / posts.length).toFixed(1)} ms a post`;
    singleRow.note += `; x ${posts.length} = ${estimate.toFixed(1)} s, ${(estimate / (folderRow.mean / 1000)).toFixed(1)} times the folder call`;
    return [folderRow, singleRow];
  } finally {
    await rm(out, { recursive: true, force: true });
    await rm(folder.dir, { recursive: true, force: true });
  }
}

function printTable(rows: Row[]): void {
  const ms = (v: number) => v.toFixed(1);
  const header = ['what', 'runs', 'mean ms', 'p50 ms', 'p95 ms', 'min ms', 'max ms', 'note'];
  const lines = rows.map((r) => [r.what, String(r.runs), ms(r.mean), ms(r.p50), ms(r.p95), ms(r.min), ms(r.max), r.note]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const format = (cells: string[]) => `| ${cells.map((c, i) => (i === 0 || i === 7 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  console.log(format(header));
  console.log(`|${widths.map((w, i) => (i === 0 || i === 7 ? ':' : '-') + '-'.repeat(w) + (i === 0 || i === 7 ? '-' : ':')).join('|')}|`);
  for (const line of lines) console.log(format(line));
}

// Taken before the bench adds its own load: a busy machine explains noisy figures.
const load = loadavg()
  .map((v) => v.toFixed(2))
  .join(' ');
const rows: Row[] = [await warmRender(SEED)];
if (existsSync(LARGEST_CORPUS_POST)) rows.push(await warmRender(LARGEST_CORPUS_POST));
else console.log(`(no corpus at ${LARGEST_CORPUS_POST}: skipping the large post)`);
rows.push(await coldCliHelp(), await coldCli(), ...(await folderCli()));

console.log(
  `\nrender benchmark · node ${process.version} · ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown cpu'}) · load average before the run ${load}\n`,
);
printTable(rows);

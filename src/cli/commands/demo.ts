import { resolve } from 'node:path';
import type { Command } from 'commander';
import { NewsletterError } from '../../errors.ts';
import { DEMO_PREFIX, demoSummary, runDemo } from '../../processes/demo.ts';
import { OUTBOX_DIR } from '../../preview/outbox.ts';
import type { CliRun } from '../cli-io.ts';
import { writeLine } from '../command-helpers.ts';
import { waitWithProgress } from './campaign-progress.ts';

interface DemoFlags {
  subscribers: string;
  prefix: string;
  outbox: string;
}

export function registerDemoCommand(program: Command, cli: CliRun): void {
  const { io } = cli;
  program
    .command('demo')
    .description(
      'Try the whole path with only Redis running: sample subscribers, the example issue sent through two real workers ' +
        'to an in-process SMTP server that keeps every message in outbox/ (no real mail leaves this machine)',
    )
    .option('--subscribers <n>', 'how many sample subscribers (3 to 1000)', '100')
    .option('--prefix <prefix>', 'Redis key prefix, cleared first; must contain "demo"', DEMO_PREFIX)
    .option('--outbox <dir>', 'where captured messages go (newsletter preview lists outbox/)', OUTBOX_DIR)
    .action(async (flags: DemoFlags) => {
      const subscribers = Number(flags.subscribers);
      if (!/^\d+$/.test(flags.subscribers) || subscribers < 3 || subscribers > 1000) {
        throw new NewsletterError('INPUT_INVALID', 'needs a whole number from 3 to 1000', { field: '--subscribers' });
      }
      // Ending the demo early still stops its workers (see WorkerProcesses): exit, don't just die.
      const exit = () => process.exit(1);
      for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, exit);
      try {
        const say = (line: string) => writeLine(io.stdout, line);
        const result = await runDemo({
          subscribers,
          prefix: flags.prefix,
          outboxDir: resolve(io.cwd, flags.outbox),
          env: io.env,
          say,
          watch: (campaigns, id) => waitWithProgress(campaigns, id, { stream: io.stderr }),
        });
        for (const line of demoSummary(result, io.cwd)) say(line);
        if (result.campaign.state !== 'completed') cli.exitCode = 1;
      } finally {
        for (const signal of ['SIGINT', 'SIGTERM'] as const) process.off(signal, exit);
      }
    });
}

import type { Command } from 'commander';
import { registerRenderCommand } from './render.ts';
import { registerSubscribersCommand } from './subscribers.ts';
import { registerServerCommand } from './server.ts';
import { registerSendCommand } from './send.ts';
import { registerCampaignCommand } from './campaign.ts';
import { registerWorkerCommand } from './worker.ts';

/** Every subcommand, in the order `newsletter --help` lists them. */
export function registerCommands(program: Command): void {
  registerRenderCommand(program);
  registerSubscribersCommand(program);
  registerServerCommand(program);
  registerSendCommand(program);
  registerCampaignCommand(program);
  registerWorkerCommand(program);
}

import type { Command } from 'commander';
import { registerRenderCommand } from './render.ts';
import { registerSubscribersCommand } from './subscribers.ts';

/** Every subcommand, in the order `newsletter --help` lists them. */
export function registerCommands(program: Command): void {
  registerRenderCommand(program);
  registerSubscribersCommand(program);
}

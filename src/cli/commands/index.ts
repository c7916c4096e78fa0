import type { Command } from 'commander';
import { registerRenderCommand } from './render.ts';

/** Every subcommand, in the order `newsletter --help` lists them. */
export function registerCommands(program: Command): void {
  registerRenderCommand(program);
}

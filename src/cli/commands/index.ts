import type { Command } from 'commander';
import type { CliRun } from '../cli-io.ts';

type Register = (program: Command, cli: CliRun) => void;

/**
 * Every subcommand, in the order `newsletter --help` lists them. Each is loaded only
 * when asked for: `newsletter render` should not pay for loading BullMQ and Fastify.
 */
const COMMANDS: Record<string, () => Promise<Register>> = {
  demo: async () => (await import('./demo.ts')).registerDemoCommand,
  render: async () => (await import('./render.ts')).registerRenderCommand,
  subscribers: async () => (await import('./subscribers.ts')).registerSubscribersCommand,
  server: async () => (await import('./server.ts')).registerServerCommand,
  send: async () => (await import('./send.ts')).registerSendCommand,
  campaign: async () => (await import('./campaign.ts')).registerCampaignCommand,
  worker: async () => (await import('./worker.ts')).registerWorkerCommand,
  preview: async () => (await import('./preview.ts')).registerPreviewCommand,
  bounces: async () => (await import('./bounces.ts')).registerBouncesCommand,
  inbound: async () => (await import('./inbound.ts')).registerInboundCommand,
  doctor: async () => (await import('./doctor.ts')).registerDoctorCommand,
  migrate: async () => (await import('./migrate.ts')).registerMigrateCommand,
};

/** Registers the subcommand named in argv (the arguments after `newsletter`), or all of them (for help and unknown names). */
export async function registerCommands(program: Command, argv: readonly string[], cli: CliRun): Promise<void> {
  const requested = argv.find((arg) => !arg.startsWith('-'));
  const names = requested !== undefined && requested in COMMANDS ? [requested] : Object.keys(COMMANDS);
  for (const name of names) (await COMMANDS[name]!())(program, cli);
}

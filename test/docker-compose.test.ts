import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import yaml from 'js-yaml';
import { describe, expect, it } from 'vitest';

// Docker does not run here; the file is for operators, so check what it promises by reading it.
const compose = yaml.load(readFileSync(fileURLToPath(new URL('../docker-compose.yml', import.meta.url)), 'utf8')) as {
  services: Record<string, { image?: string; command?: string[] | string; build?: unknown }>;
};

describe('docker-compose.yml', () => {
  it('runs Redis 7 that keeps its data and never evicts queued jobs', () => {
    const redis = compose.services.redis!;
    expect(redis.image).toMatch(/^redis:7/);
    const command = ([] as string[]).concat(redis.command ?? []).join(' ');
    expect(command).toMatch(/--maxmemory-policy noeviction/);
    expect(command).toMatch(/--appendonly yes/);
  });
});

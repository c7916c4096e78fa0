import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import yaml from 'js-yaml';
import { describe, expect, it } from 'vitest';

// Docker does not run here; the files are for operators, so check what they promise by reading them.
interface Service {
  image?: string;
  build?: string;
  command?: string[] | string;
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  deploy?: { replicas?: number };
}
const repo = new URL('../', import.meta.url);
const compose = yaml.load(readFileSync(fileURLToPath(new URL('docker-compose.yml', repo)), 'utf8')) as {
  services: Record<string, Service>;
};
const command = (service: Service) => ([] as string[]).concat(service.command ?? []).join(' ');

describe('docker-compose.yml', () => {
  it('runs Redis 7 that keeps its data and never evicts queued jobs', () => {
    const redis = compose.services.redis!;
    expect(redis.image).toMatch(/^redis:7/);
    expect(command(redis)).toMatch(/--maxmemory-policy noeviction/);
    expect(command(redis)).toMatch(/--appendonly yes/);
  });

  it('runs the web server and workers from this repo against that Redis, after it is healthy', () => {
    for (const [name, cmd] of [['web', 'server'], ['worker', 'worker']] as const) {
      const service = compose.services[name]!;
      expect(service.build).toBe('.');
      expect(command(service)).toBe(cmd);
      expect(service.environment?.REDIS_URL).toBe('redis://redis:6379');
      expect(service.depends_on?.redis?.condition).toBe('service_healthy');
    }
    expect(compose.services.worker!.deploy?.replicas).toBeGreaterThanOrEqual(2);
  });

  it('builds an image whose entry point is the newsletter command', () => {
    const dockerfile = readFileSync(fileURLToPath(new URL('Dockerfile', repo)), 'utf8');
    expect(dockerfile).toMatch(/^FROM node:20/m);
    expect(dockerfile).toMatch(/RUN npm ci/);
    expect(dockerfile).toMatch(/ENTRYPOINT \["node", "bin\/newsletter\.js"\]/);
  });
});

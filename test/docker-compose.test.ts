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
  env_file?: { path: string; required: boolean }[];
  ports?: string[];
  volumes?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  deploy?: { replicas?: number };
  container_name?: string;
  stop_grace_period?: string;
  profiles?: string[];
}
const repo = new URL('../', import.meta.url);
const read = (name: string) => readFileSync(fileURLToPath(new URL(name, repo)), 'utf8');
const composeText = read('docker-compose.yml');
const compose = yaml.load(composeText) as { services: Record<string, Service>; volumes: Record<string, unknown> };
const { redis, mailpit, web, worker, inbound } = compose.services as Record<'redis' | 'mailpit' | 'web' | 'worker' | 'inbound', Service>;
const command = (service: Service) => ([] as string[]).concat(service.command ?? []).join(' ');

describe('docker-compose.yml', () => {
  it('runs Redis 7 that keeps its data (AOF, fsync every second, a named volume) and never evicts', () => {
    expect(redis.image).toMatch(/^redis:7/);
    expect(command(redis)).toMatch(/--maxmemory-policy noeviction/);
    expect(command(redis)).toMatch(/--appendonly yes/);
    expect(command(redis)).toMatch(/--appendfsync everysec/);
    expect(redis.volumes).toEqual(['redis-data:/data']);
    expect(compose.volumes).toHaveProperty('redis-data');
    expect(redis.ports).toEqual(['127.0.0.1:6379:6379']);
  });

  it('runs Mailpit as the local mail catcher, its SMTP and web UI on the host loopback only', () => {
    expect(mailpit.image).toMatch(/^axllent\/mailpit/);
    expect(mailpit.ports).toEqual(['127.0.0.1:1025:1025', '127.0.0.1:8025:8025']);
    expect(mailpit.healthcheck?.test).toEqual(['CMD', '/mailpit', 'readyz']);
  });

  it('runs the web server and workers from one image of this repo, after Redis and Mailpit are healthy', () => {
    for (const [service, cmd] of [
      [web, 'server'],
      [worker, 'worker'],
    ] as const) {
      expect(service.build).toBe('.');
      expect(service.image).toBe(web.image);
      expect(command(service)).toBe(cmd);
      expect(service.depends_on).toEqual({ redis: { condition: 'service_healthy' }, mailpit: { condition: 'service_healthy' } });
      // Posts, layouts and identity come from the repo folder: `send emails/posts/new.md` works without a rebuild.
      expect(service.volumes).toEqual(['./emails:/app/emails:ro', './newsletter.yaml:/app/newsletter.yaml:ro']);
      expect(service.env_file).toEqual([{ path: '.env', required: false }]);
    }
    expect(web.ports).toEqual(['127.0.0.1:3000:3000']);
    expect(web.healthcheck?.test.join(' ')).toContain('http://127.0.0.1:3000/healthz');
    expect(redis.healthcheck?.test).toEqual(['CMD', 'redis-cli', 'ping']);
  });

  it('wires the environment: the Redis service, Mailpit unless SMTP_URL is set, a required secret, the admin token for web', () => {
    for (const service of [web, worker]) {
      expect(service.environment?.REDIS_URL).toBe('redis://redis:6379');
      expect(service.environment?.SMTP_URL).toBe('${SMTP_URL:-smtp://mailpit:1025}');
      expect(service.environment?.NEWSLETTER_SECRET).toMatch(/^\$\{NEWSLETTER_SECRET:\?set NEWSLETTER_SECRET in \.env/);
    }
    expect(web.environment?.NEWSLETTER_ADMIN_TOKEN).toBe('${NEWSLETTER_ADMIN_TOKEN:-}');
    // .env.example says HOST=127.0.0.1 (right on the host); inside a container it would be unreachable.
    expect(web.environment?.HOST).toBe('0.0.0.0');
  });

  it('uses only variables that .env.example documents', () => {
    const used = new Set([...composeText.matchAll(/\$\{([A-Z0-9_]+)/g)].map((m) => m[1]!));
    expect([...used].sort()).toEqual(['NEWSLETTER_ADMIN_TOKEN', 'NEWSLETTER_SECRET', 'SMTP_URL']);
    const documented = new Set([...read('.env.example').matchAll(/^([A-Z0-9_]+)=/gm)].map((m) => m[1]!));
    for (const name of used) expect(documented, name).toContain(name);
  });

  it('lets workers scale: two by default, no fixed host port or container name, drained on stop', () => {
    expect(worker.deploy?.replicas).toBe(2);
    expect(worker.ports).toBeUndefined();
    expect(worker.container_name).toBeUndefined();
    expect(worker.stop_grace_period).toBe('60s');
    for (const service of Object.values(compose.services)) expect(service.container_name).toBeUndefined();
  });

  it('runs `newsletter inbound` with the inbound profile: port 25 mapped to INBOUND_PORT on the container interface, after Redis', () => {
    expect(inbound.build).toBe('.');
    expect(inbound.image).toBe(web.image);
    expect(command(inbound)).toBe('inbound');
    // Opt-in: without BOUNCE_DOMAIN in .env it refuses to start, so a plain `docker compose up` leaves it out.
    expect(inbound.profiles).toEqual(['inbound']);
    expect(inbound.environment?.INBOUND_HOST).toBe('0.0.0.0');
    const port = inbound.environment?.INBOUND_PORT;
    // The image runs as `node`, which cannot bind port 25 itself: the host's 25 goes to an unprivileged port.
    expect(Number(port)).toBeGreaterThan(1024);
    expect(inbound.ports).toEqual([`25:${port}`]);
    expect(inbound.depends_on).toEqual({ redis: { condition: 'service_healthy' } });
    expect(inbound.environment?.REDIS_URL).toBe('redis://redis:6379');
    expect(inbound.env_file).toEqual([{ path: '.env', required: false }]);
    expect(inbound.stop_grace_period).toBe('60s');
    expect(inbound.healthcheck?.test.join(' ')).toContain(`connect(${port}, '127.0.0.1')`);
  });

  it('builds an image whose entry point is the newsletter command, with only runtime dependencies, not as root', () => {
    const dockerfile = read('Dockerfile');
    expect(dockerfile).toMatch(/^FROM node:20/m);
    expect(dockerfile).toMatch(/RUN npm ci --omit=dev/);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/ENTRYPOINT \["node", "bin\/newsletter\.js"\]/);
    // tsx runs the sources in the image, so it must be a runtime dependency; so must the demo's SMTP server.
    const pkg = JSON.parse(read('package.json')) as { dependencies: Record<string, string> };
    expect(Object.keys(pkg.dependencies)).toEqual(expect.arrayContaining(['tsx', 'smtp-server']));
    const ignored = read('.dockerignore').split('\n');
    expect(ignored).toEqual(expect.arrayContaining(['node_modules', '.env', 'outbox']));
  });
});

/** Starts a private redis-server, prints its url and folder as JSON, then exits without stopping it: the launcher must kill it. */
import { startPrivateRedisServer } from '../../src/redis/private-redis-server.ts';

const server = await startPrivateRedisServer();
process.stdout.write(`${JSON.stringify({ url: server.url, dir: server.dir })}\n`);
process.exit(0);

/** Server-Sent Events to every open preview page: "something changed, fetch again". */
import type { FastifyReply } from 'fastify';

export class LiveEvents {
  private readonly clients = new Set<FastifyReply>();
  private readonly keepAlive: NodeJS.Timeout;

  constructor(keepAliveMs = 15_000) {
    // A comment line now and then keeps proxies and the browser from dropping an idle stream.
    this.keepAlive = setInterval(() => this.write(': keep-alive\n\n'), keepAliveMs);
    this.keepAlive.unref();
  }

  attach(reply: FastifyReply): void {
    reply.hijack();
    reply.raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-content-type-options': 'nosniff',
    });
    reply.raw.write('retry: 500\n\n');
    this.clients.add(reply);
    reply.raw.on('close', () => this.clients.delete(reply));
  }

  changed(generation: number, files: string[]): void {
    this.write(`event: change\ndata: ${JSON.stringify({ generation, files })}\n\n`);
  }

  close(): void {
    clearInterval(this.keepAlive);
    for (const reply of this.clients) reply.raw.end();
    this.clients.clear();
  }

  private write(chunk: string): void {
    for (const reply of this.clients) reply.raw.write(chunk);
  }
}

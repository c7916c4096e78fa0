/**
 * A TCP proxy on a free local port for fault tests: every connection is paired with one to the
 * target, and `wire` decides what passes between them (by default nothing: it must forward).
 * When either side closes, both go; close() cuts every connection and stops listening.
 */
import { connect, createServer, type Socket } from 'node:net';

export interface ProxiedConnection {
  client: Socket;
  upstream: Socket;
  /** Drops both sides, as a network failure would. */
  cut(): void;
}

export interface TcpProxy {
  readonly port: number;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host?: string; port: number }, wire: (connection: ProxiedConnection) => void): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(target.port, target.host ?? '127.0.0.1');
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => {});
    }
    const cut = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('close', cut);
    upstream.on('close', cut);
    wire({ client, upstream, cut });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return {
    port: (server.address() as { port: number }).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

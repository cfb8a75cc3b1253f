/**
 * A small fault-injecting TCP proxy for tests, put in front of the real server (never a fake
 * Vault): it passes traffic through, or answers 500, resets the connection, or answers late.
 * It works on raw sockets, so any method (LIST included) passes untouched in 'pass' mode.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

export type FaultMode = 'pass' | 'status500' | 'reset' | 'slow';

export interface FaultProxy {
  url: string;
  port: number;
  mode: FaultMode;
  /** Requests seen, by mode at the time. */
  seen: number;
  close(): Promise<void>;
}

export async function startFaultProxy(
  upstreamPort: number,
  mode: FaultMode,
  opts: { delayMs?: number; host?: string } = {},
): Promise<FaultProxy> {
  const sockets = new Set<Socket>();
  const proxy: FaultProxy = { url: '', port: 0, mode, seen: 0, close: async () => {} };
  const server: Server = createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => {});
    client.once('data', (first) => {
      proxy.seen++;
      switch (proxy.mode) {
        case 'status500': {
          const body = JSON.stringify({ errors: ['injected fault: internal error'] }) + '\n';
          client.end(
            `HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
          );
          return;
        }
        case 'reset':
          client.resetAndDestroy();
          return;
        case 'slow':
        case 'pass': {
          const go = () => {
            const up = connect(upstreamPort, '127.0.0.1', () => {
              up.write(first);
              client.pipe(up);
              up.pipe(client);
            });
            sockets.add(up);
            up.on('close', () => {
              sockets.delete(up);
              client.destroy();
            });
            up.on('error', () => client.destroy());
          };
          if (proxy.mode === 'slow') setTimeout(go, opts.delayMs ?? 10_000).unref();
          else go();
        }
      }
    });
  });
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const address = server.address();
  proxy.port = typeof address === 'object' && address ? address.port : 0;
  proxy.url = `http://${host}:${proxy.port}`;
  proxy.close = () =>
    new Promise((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
  return proxy;
}

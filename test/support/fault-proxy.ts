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

/** What the rewriting proxy hands back instead of the real server's answer. */
export type Rewrite =
  | { status: number; body: string }
  /** A body of `bytes` spaces, streamed (never held in memory), e.g. 600 MB. */
  | { status: number; streamBytes: number };

/**
 * An HTTP proxy in front of the real server that passes every request through and may rewrite the
 * answer: `rewrite` sees the request and the real answer (parsed JSON when it is JSON) and returns
 * what to send instead, or undefined to pass it. For malformed answers a real server never gives.
 */
export async function startRewritingProxy(
  upstream: string,
  rewrite: (req: { method: string; path: string }, status: number, body: unknown) => Rewrite | undefined,
  /** Awaited before a request is passed on: a test can hold a request (a known point of a run) until it chooses. */
  onRequest?: (req: { method: string; path: string }) => Promise<void> | void,
): Promise<{ url: string; close(): Promise<void> }> {
  const { createServer: createHttp, request } = await import('node:http');
  const up = new URL(upstream);
  const server = createHttp((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      await onRequest?.({ method: req.method ?? 'GET', path: req.url ?? '' });
      if (res.destroyed || req.socket.destroyed) return;
      const fwd = request(
        { host: up.hostname, port: up.port, method: req.method, path: req.url, headers: req.headers },
        (ans) => {
          const got: Buffer[] = [];
          ans.on('data', (c: Buffer) => got.push(c));
          ans.on('end', () => {
            const text = Buffer.concat(got).toString('utf8');
            let parsed: unknown = text;
            try {
              parsed = text ? JSON.parse(text) : null;
            } catch {
              /* not JSON: handed over as text */
            }
            const r = rewrite({ method: req.method ?? 'GET', path: req.url ?? '' }, ans.statusCode ?? 0, parsed);
            if (!r) {
              res.writeHead(ans.statusCode ?? 502, ans.headers);
              res.end(text);
            } else if ('body' in r) {
              res.writeHead(r.status, {
                'content-type': 'application/json',
                'content-length': Buffer.byteLength(r.body),
              });
              res.end(r.body);
            } else {
              res.writeHead(r.status, { 'content-type': 'application/json', 'content-length': r.streamBytes });
              const chunk = Buffer.alloc(1 << 20, 0x20);
              let left = r.streamBytes;
              const pump = () => {
                while (left > 0) {
                  const n = Math.min(left, chunk.length);
                  left -= n;
                  if (!res.write(n === chunk.length ? chunk : chunk.subarray(0, n)))
                    return void res.once('drain', pump);
                }
                res.end();
              };
              res.on('error', () => {});
              pump();
            }
          });
        },
      );
      fwd.on('error', () => res.destroy());
      fwd.end(Buffer.concat(chunks));
    });
  });
  server.on('clientError', (_e, sock) => sock.destroy());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A loopback port free now, chosen by the kernel (it may be taken before it is used: the component then says so). */
import { createServer } from 'node:net';

export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen({ host: '127.0.0.1', port: 0, exclusive: true }, () => {
      const a = s.address();
      const port = a && typeof a === 'object' ? a.port : 0;
      s.close(() => (port ? resolve(port) : reject(new Error('no free loopback port'))));
    });
  });
}

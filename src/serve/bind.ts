import type { Server } from 'node:net';
import type { ListenAddress } from './listen.js';

/** The address could not be bound (in use, not local, no permission): exit 1. */
export class ListenError extends Error {
  override readonly name = 'ListenError';
}

const WHY: Record<string, string> = {
  EADDRINUSE: 'address already in use',
  EADDRNOTAVAIL: 'address not available on this host',
  EACCES: 'permission denied',
  ENOTFOUND: 'no such host',
  EAI_AGAIN: 'host name lookup failed',
};

/** Listen on `address`; resolves with the port bound (the kernel's pick for port 0). */
export const bind = (server: Server, address: ListenAddress): Promise<number> =>
  new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      const code = error.code ?? 'error';
      reject(
        new ListenError(
          `cannot listen on ${address.host}:${address.port}: ${WHY[code] ?? error.message} (${code})`,
        ),
      );
    };
    server.once('error', onError);
    server.listen(address.port, address.host, () => {
      server.off('error', onError);
      const bound = server.address();
      resolve(typeof bound === 'object' && bound !== null ? bound.port : address.port);
    });
  });

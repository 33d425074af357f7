/**
 * Helper process: a jayson JSON-RPC 2.0 server over HTTP with one method, `echo`, that returns
 * its params. The ceiling of a JSON-RPC hop (as between gateway/executor and the store) on this
 * machine. Listens on 127.0.0.1, reports its port over IPC.
 */
import type { AddressInfo } from 'node:net';
import jayson from 'jayson';

const rpc = new jayson.Server({
  echo: (params: unknown, callback: (err: null, result: unknown) => void) => callback(null, params),
});
const server = rpc.http();
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => {
  process.send?.({ port: (server.address() as AddressInfo).port });
});
process.on('SIGINT', () => undefined);
process.on('disconnect', () => {
  server.close();
  server.closeAllConnections();
  process.exit(0);
});

/**
 * A TCP proxy in front of the MongoDB-wire server that counts the commands passing through it
 * by name: the first key of each OP_MSG body (`insert`, `find`, `update`, ...). It sees what the
 * store sends whatever the store's version, so two checkouts are counted the same way.
 */
import { createConnection, createServer, type AddressInfo, type Server, type Socket } from 'node:net';

const OP_MSG = 2013;

export class WireCounter {
  readonly commands = new Map<string, number>();
  private readonly sockets = new Set<Socket>();

  private server: Server | undefined;
  url = '';

  /** Listens on a free loopback port and forwards to `target` (a mongodb:// URL with host:port). */
  static async start(target: string): Promise<WireCounter> {
    const { hostname, port } = new URL(target);
    const counter = new WireCounter();
    const server = createServer((client) => {
      const upstream = createConnection({ host: hostname, port: Number(port) });
      counter.sockets.add(client).add(upstream);
      let pending: Buffer = Buffer.alloc(0);
      client.on('data', (chunk: Buffer) => {
        pending = counter.count(Buffer.concat([pending, chunk]));
        upstream.write(chunk);
      });
      upstream.on('data', (chunk: Buffer) => client.write(chunk));
      const close = () => {
        client.destroy();
        upstream.destroy();
        counter.sockets.delete(client);
        counter.sockets.delete(upstream);
      };
      client.on('close', close).on('error', close);
      upstream.on('close', close).on('error', close);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = new URL(target);
    url.host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    counter.server = server;
    counter.url = url.toString();
    return counter;
  }

  /** Counts every whole message in `buf`; returns the incomplete rest. */
  private count(buf: Buffer): Buffer {
    let at = 0;
    while (buf.length - at >= 16) {
      const length = buf.readInt32LE(at);
      if (buf.length - at < length) break;
      const opCode = buf.readInt32LE(at + 12);
      // OP_MSG: header (16), flagBits (4), section kind 0 (1), BSON size (4), element type (1), name
      let name = `opcode ${opCode}`;
      if (opCode === OP_MSG && buf[at + 20] === 0) {
        const start = at + 26;
        const end = buf.indexOf(0, start);
        if (end > start && end < at + length) name = buf.toString('utf8', start, end);
      }
      this.commands.set(name, (this.commands.get(name) ?? 0) + 1);
      at += length;
    }
    return buf.subarray(at);
  }

  /** Commands counted so far, without the driver's handshakes and server monitoring (hello). */
  snapshot(): Map<string, number> {
    return new Map([...this.commands].filter(([name]) => !/^(hello|isMaster|ismaster)$/.test(name)));
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    const server = this.server;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

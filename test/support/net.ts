import { connect, createServer, type Socket } from 'node:net';

/** A port nothing listens on: one the OS just handed out and took back. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const address = server.address();
  await new Promise<void>((ok) => server.close(() => ok()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** `host:port` of an address nothing listens on. */
export async function deadEndpoint(): Promise<string> {
  return `127.0.0.1:${await freePort()}`;
}

export function hostPort(endpoint: string): { host: string; port: number } {
  const at = endpoint.lastIndexOf(':');
  return { host: endpoint.slice(0, at), port: Number(endpoint.slice(at + 1)) };
}

/** A server that accepts TCP connections and never answers: a hung store, or a firewall that drops. */
export async function silentEndpoint(): Promise<{ endpoint: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return {
    endpoint: `127.0.0.1:${address.port}`,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((ok) => server.close(() => ok()));
    },
  };
}

export interface TcpProxy {
  endpoint: string;
  /** Drops every open connection, as a network failure would; new connections still go through. */
  cut(): void;
  /** A network partition: drops every open connection and refuses new ones until `heal`. */
  partition(): void;
  heal(): void;
  /** Stops listening and drops every connection: afterwards the address refuses connections. */
  shut(): Promise<void>;
}

/** A TCP proxy to `target` whose connections the test can cut, or that it can shut altogether. */
export async function tcpProxy(target: string): Promise<TcpProxy> {
  const { host, port } = hostPort(target);
  const sockets = new Set<Socket>();
  const track = (socket: Socket): void => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  };
  let partitioned = false;
  const server = createServer((client) => {
    if (partitioned) {
      client.destroy();
      return;
    }
    const upstream = connect(port, host);
    track(client);
    track(upstream);
    client.pipe(upstream).pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  const cut = (): void => {
    for (const socket of sockets) socket.destroy();
  };
  return {
    endpoint: `127.0.0.1:${address.port}`,
    cut,
    partition: () => {
      partitioned = true;
      cut();
    },
    heal: () => {
      partitioned = false;
    },
    shut: async () => {
      const closed = new Promise<void>((ok) => server.close(() => ok()));
      cut();
      await closed;
    },
  };
}

import { connect } from 'node:net';

/**
 * Explains a failed ZooKeeper connect. The client library swallows socket errors and retries forever, so
 * after giving up we try one plain TCP connect per endpoint to tell "refused" from "no answer" from "port
 * open but no ZooKeeper handshake". Runs only on the failure path.
 */
export async function probeEndpoints(endpoints: readonly string[], timeoutMs: number): Promise<string> {
  const results = await Promise.all(
    endpoints.map(async (endpoint) => `${endpoint}: ${await probe(endpoint, timeoutMs)}`),
  );
  return results.join('; ');
}

function probe(endpoint: string, timeoutMs: number): Promise<string> {
  const target = splitHostPort(endpoint);
  if (!target) return Promise.resolve('not a host:port address');
  return new Promise((resolve) => {
    const socket = connect({ host: target.host, port: target.port });
    const finish = (outcome: string): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(outcome);
    };
    const timer = setTimeout(() => finish(`no answer within ${timeoutMs} ms`), timeoutMs);
    socket.once('connect', () => finish('port open, but no ZooKeeper session was established'));
    socket.once('error', (err: NodeJS.ErrnoException) => finish(err.code ?? err.message));
  });
}

function splitHostPort(endpoint: string): { host: string; port: number } | undefined {
  const match = /^\[?([^\]]*?)\]?:(\d+)$/.exec(endpoint.trim());
  if (!match?.[1] || !match[2]) return undefined;
  return { host: match[1], port: Number(match[2]) };
}

/** major, minor */
export type ServerVersion = [number, number];

/**
 * The version a server reports to the `srvr` four-letter word (in 4lw.commands.whitelist by default since
 * 3.5, and always open before), e.g. [3, 8]; undefined when it does not answer or the word is not allowed.
 */
export function serverVersion(endpoint: string, timeoutMs: number): Promise<ServerVersion | undefined> {
  const target = splitHostPort(endpoint);
  if (!target) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    const socket = connect({ host: target.host, port: target.port });
    let answer = '';
    const finish = (): void => {
      clearTimeout(timer);
      socket.destroy();
      const match = /^Zookeeper version: (\d+)\.(\d+)/m.exec(answer);
      resolve(match ? [Number(match[1]), Number(match[2])] : undefined);
    };
    const timer = setTimeout(finish, timeoutMs);
    socket.once('connect', () => socket.write('srvr'));
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
    socket.once('close', finish);
    socket.once('error', finish);
  });
}

import { connect } from 'node:net';
import { hostPort } from '../../support/net.js';

/**
 * A ZooKeeper four-letter command's whole answer (the test servers whitelist them all). Resolves with ''
 * when the server cannot be reached or stays silent past `timeoutMs`: a stopped member simply answers nothing.
 */
export function fourLetterWord(endpoint: string, word: string, timeoutMs = 5000): Promise<string> {
  const { host, port } = hostPort(endpoint);
  return new Promise((resolve) => {
    let answer = '';
    const socket = connect(port, host, () => socket.end(word));
    socket.setTimeout(timeoutMs, () => socket.destroy());
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString('utf8')));
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(answer));
  });
}

/** The session ids (hex, no leading zeros, as `cons` prints them) of the clients connected to one server. */
export async function zookeeperSessionIds(endpoint: string): Promise<string[]> {
  const cons = await fourLetterWord(endpoint, 'cons');
  return [...cons.matchAll(/sid=0x([0-9a-f]+)/gi)].map((m) => (m[1] ?? '').toLowerCase().replace(/^0+/, ''));
}

/** The server's role as `srvr` reports it (leader, follower, standalone), or undefined when it does not serve. */
export async function zookeeperMode(endpoint: string): Promise<string | undefined> {
  return /^Mode: (\w+)$/m.exec(await fourLetterWord(endpoint, 'srvr'))?.[1];
}

/** Requests the server has received from every client so far (`zk_packets_received` of `mntr`). */
export async function packetsReceived(endpoint: string): Promise<number> {
  const match = /^zk_packets_received\s+(\d+)$/m.exec(await fourLetterWord(endpoint, 'mntr'));
  if (!match?.[1]) throw new Error(`no zk_packets_received in mntr of ${endpoint}`);
  return Number(match[1]);
}

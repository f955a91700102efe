import { createSocket } from 'node:dgram';

/** How the fake server treats one query: answer with an empty response of this RCODE, or stay silent. */
export type DnsBehaviour = { rcode: number } | 'silent';

export const RCODE = { NOERROR: 0, SERVFAIL: 2, NXDOMAIN: 3, REFUSED: 5 } as const;

/**
 * A UDP name server on 127.0.0.1 that answers every query with no records and the RCODE `behave` picks
 * for its name (or drops it): enough to drive a real resolver into NXDOMAIN, NODATA, SERVFAIL or a timeout.
 */
export async function fakeDnsServer(
  behave: (name: string) => DnsBehaviour,
): Promise<{ server: string; queries: string[]; close(): Promise<void> }> {
  const socket = createSocket('udp4');
  const queries: string[] = [];
  socket.on('message', (query, peer) => {
    const question = readQuestion(query);
    if (!question) return;
    queries.push(question.name);
    const behaviour = behave(question.name);
    if (behaviour === 'silent') return;
    const header = Buffer.alloc(12);
    query.copy(header, 0, 0, 2); // id
    // QR, the query's RD bit, RA, and the RCODE; one question, no records.
    header.writeUInt16BE(0x8080 | (query.readUInt16BE(2) & 0x0100) | behaviour.rcode, 2);
    header.writeUInt16BE(1, 4);
    socket.send(Buffer.concat([header, query.subarray(12, question.end)]), peer.port, peer.address);
  });
  await new Promise<void>((ok) => socket.bind(0, '127.0.0.1', ok));
  return {
    server: `127.0.0.1:${socket.address().port}`,
    queries,
    close: () => new Promise<void>((ok) => socket.close(() => ok())),
  };
}

function readQuestion(message: Buffer): { name: string; end: number } | undefined {
  const labels: string[] = [];
  let at = 12;
  while (at < message.length) {
    const length = message[at] as number;
    at += 1;
    if (length === 0) return { name: labels.join('.'), end: at + 4 };
    labels.push(message.toString('latin1', at, at + length));
    at += length;
  }
  return undefined;
}

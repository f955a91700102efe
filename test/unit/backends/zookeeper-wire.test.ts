import { expect } from 'chai';
import { frameReplies, type ConnectionManagerInternals } from '../../../src/backends/zookeeper-connection.js';
import {
  getChildrenRequest,
  getDataRequest,
  multiReadRequest,
  OP_GET_CHILDREN,
  OP_GET_DATA,
  Reader,
  type ZkRead,
  type ZkReadResult,
} from '../../../src/backends/zookeeper-requests.js';
import { MAX_READS_PER_BATCH, ReadBatcher } from '../../../src/backends/zookeeper-read-batch.js';

/** A length-prefixed frame around `body`. */
function frame(body: Buffer): Buffer {
  const head = Buffer.alloc(4);
  head.writeInt32BE(body.length, 0);
  return Buffer.concat([head, body]);
}

/** Just enough of the library's connection manager for frameReplies: records what it is handed. */
function fakeManager(): { manager: ConnectionManagerInternals; delivered: Buffer[]; connects: number[] } {
  const delivered: Buffer[] = [];
  const connects: number[] = [];
  const socket = { destroy() {}, cork() {}, uncork() {} };
  const manager = {
    state: 2,
    socket,
    pendingQueue: [],
    onSocketData(buffer: Buffer) {
      delivered.push(Buffer.from(buffer));
    },
    onSocketConnected() {
      connects.push(delivered.length);
    },
  } as unknown as ConnectionManagerInternals;
  return { manager, delivered, connects };
}

describe('zookeeper wire: reply frames and our request codec', () => {
  it('hands the library whole frames, in order, however the socket splits or joins them', () => {
    const frames = [Buffer.from('a'), Buffer.alloc(0), Buffer.from('bcdefgh'), Buffer.alloc(5000, 7)].map(
      frame,
    );
    const stream = Buffer.concat(frames);
    for (const size of [1, 3, 4, 5, 11, 4096, stream.length]) {
      const { manager, delivered } = fakeManager();
      frameReplies(manager);
      for (let i = 0; i < stream.length; i += size) manager.onSocketData(stream.subarray(i, i + size));
      expect(delivered, `chunks of ${size}`).to.deep.equal(frames);
    }
  });

  it('drops the partial frame of a socket that was replaced', () => {
    const { manager, delivered } = fakeManager();
    frameReplies(manager);
    const whole = frame(Buffer.from('next'));
    manager.onSocketData(frame(Buffer.from('lost')).subarray(0, 6));
    manager.onSocketConnected();
    manager.onSocketData(whole);
    expect(delivered).to.deep.equal([whole]);
  });

  it('encodes GET_DATA as length, xid, opcode, path and watch flag, and decodes data and stat', () => {
    const request = getDataRequest('/a/b', true);
    request.header.xid = 7;
    const sent = request.toBuffer();
    const expected = Buffer.alloc(4 + 4 + 4 + 4 + 4 + 1);
    expected.writeInt32BE(expected.length - 4, 0);
    expected.writeInt32BE(7, 4);
    expected.writeInt32BE(4, 8);
    expected.writeInt32BE(4, 12);
    expected.write('/a/b', 16);
    expected.writeUInt8(1, 20);
    expect(sent).to.deep.equal(expected);

    // data "v1", then a stat: czxid, mzxid, ctime, mtime, version, cversion, aversion, owner, length,
    // numChildren, pzxid.
    const body = Buffer.alloc(4 + 2 + 68);
    body.writeInt32BE(2, 0);
    body.write('v1', 4);
    body.writeUInt32BE(1, 6);
    body.writeUInt32BE(5, 10); // czxid = 2^32 + 5
    body.writeUInt32BE(9, 18); // mzxid = 9
    body.writeInt32BE(3, 6 + 56); // numChildren
    body.writeUInt32BE(11, 6 + 64); // pzxid = 11
    expect(request.decode(new Reader(body, 0))).to.deep.equal({
      data: 'v1',
      stat: { czxid: 2 ** 32 + 5, mzxid: 9, pzxid: 11, numChildren: 3 },
    });
  });

  it('decodes a GET_CHILDREN listing, and a node without data as empty', () => {
    const names = ['x', 'yz'];
    const body = Buffer.concat([Buffer.from([0, 0, 0, 2]), ...names.map((name) => frame(Buffer.from(name)))]);
    expect(getChildrenRequest('/p', false).decode(new Reader(body, 0))).to.deep.equal({ children: names });
    const noData = Buffer.alloc(4 + 68);
    noData.writeInt32BE(-1, 0);
    expect(getDataRequest('/p', false).decode(new Reader(noData, 0)).data).to.equal('');
  });

  /** A multiRead header: type, done flag, err. */
  const header = (type: number, done: boolean, err: number): Buffer => {
    const b = Buffer.alloc(9);
    b.writeInt32BE(type, 0);
    b.writeUInt8(done ? 1 : 0, 4);
    b.writeInt32BE(err, 5);
    return b;
  };
  const pathOf = (path: string): Buffer => frame(Buffer.from(path));
  const int = (n: number): Buffer => {
    const b = Buffer.alloc(4);
    b.writeInt32BE(n, 0);
    return b;
  };

  it('encodes MULTI_READ as each read after its header (op, not done, -1), ended by a done header', () => {
    const request = multiReadRequest([
      { op: OP_GET_DATA, path: '/a' },
      { op: OP_GET_CHILDREN, path: '/bc' },
    ]);
    request.header.xid = 3;
    const body = Buffer.concat([
      header(4, false, -1),
      pathOf('/a'),
      Buffer.from([0]),
      header(8, false, -1),
      pathOf('/bc'),
      Buffer.from([0]),
      header(-1, true, -1),
    ]);
    expect(request.toBuffer()).to.deep.equal(Buffer.concat([int(8 + body.length), int(3), int(22), body]));
  });

  it("decodes a MULTI_READ answer read by read: data, a listing, and a read's own error", () => {
    const reads: ZkRead[] = [
      { op: OP_GET_DATA, path: '/a' },
      { op: OP_GET_CHILDREN, path: '/b' },
      { op: OP_GET_DATA, path: '/gone' },
    ];
    const stat = Buffer.alloc(68);
    stat.writeInt32BE(0, 56);
    const answer = Buffer.concat([
      header(4, false, 0),
      frame(Buffer.from('v')),
      stat,
      header(8, false, 0),
      int(1),
      pathOf('x'),
      header(-1, false, -101),
      int(-101),
      header(-1, true, -1),
    ]);
    expect(multiReadRequest(reads).decode(new Reader(answer, 0))).to.deep.equal([
      { data: 'v', stat: { czxid: 0, mzxid: 0, pzxid: 0, numChildren: 0 } },
      { children: ['x'] },
      { error: -101 },
    ]);
  });

  it('refuses a MULTI_READ answer that does not match the request read for read', () => {
    const reads: ZkRead[] = [{ op: OP_GET_CHILDREN, path: '/a' }];
    const wrongOp = Buffer.concat([
      header(4, false, 0),
      frame(Buffer.from('v')),
      Buffer.alloc(68),
      header(-1, true, -1),
    ]);
    expect(() => multiReadRequest(reads).decode(new Reader(wrongOp, 0))).to.throw(/op 4, asked 8/);
    const tooFew = header(-1, true, -1);
    expect(() => multiReadRequest(reads).decode(new Reader(tooFew, 0))).to.throw(/one answer per read/);
    const truncated = Buffer.concat([header(8, false, 0), int(2), pathOf('x')]);
    expect(() => multiReadRequest(reads).decode(new Reader(truncated, 0))).to.throw(RangeError);
  });

  it('sends the reads of one turn together, MAX_READS_PER_BATCH to a batch, and answers each its own', async () => {
    const batches: ZkRead[][] = [];
    const batcher = new ReadBatcher((reads) => {
      batches.push(reads);
      return Promise.resolve(reads.map((r): ZkReadResult => ({ children: [r.path] })));
    });
    const count = MAX_READS_PER_BATCH * 2 + 1;
    const answers = await Promise.all(
      Array.from({ length: count }, (_, i) => batcher.read({ op: OP_GET_CHILDREN, path: `/k${i}` })),
    );
    expect(batches.map((b) => b.length)).to.deep.equal([MAX_READS_PER_BATCH, MAX_READS_PER_BATCH, 1]);
    expect(answers[count - 1]).to.deep.equal({ children: [`/k${count - 1}`] });
  });

  it('hands back the reads a retired batcher had not sent yet, so they go one by one', async () => {
    let sent = 0;
    const batcher = new ReadBatcher((reads) => {
      sent += reads.length;
      return Promise.resolve([]);
    });
    const pending = batcher.read({ op: OP_GET_DATA, path: '/a' });
    batcher.retire();
    expect(await pending).to.equal(undefined);
    expect(sent).to.equal(0);
  });
});

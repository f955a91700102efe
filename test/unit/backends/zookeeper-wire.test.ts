import { expect } from 'chai';
import { frameReplies, type ConnectionManagerInternals } from '../../../src/backends/zookeeper-connection.js';
import { getChildrenRequest, getDataRequest, Reader } from '../../../src/backends/zookeeper-requests.js';

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
});

import { BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import { expect } from 'chai';
import {
  decodeAuthenticateResponse,
  decodeRangeResponse,
  decodeTxnResponse,
  decodeWatchResponse,
  encodeRangeRequest,
  encodeTxnRequest,
  encodeWatchCreateRequest,
  EtcdDecodeError,
} from '../../../src/backends/etcd-proto.js';
import { FrameReader, frame } from '../../../src/backends/etcd-grpc-wire.js';

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

/** A ResponseHeader with `revision`, and the other fields a server sets, which the decoder must skip. */
function header(w: BinaryWriter, field: number, revision: number): void {
  w.tag(field, WireType.LengthDelimited).fork();
  w.tag(1, WireType.Varint).uint64(14841639068965178418n); // cluster_id: a full 64-bit value
  w.tag(2, WireType.Varint).uint64(10276657743932975437n);
  w.tag(3, WireType.Varint).int64(revision);
  w.tag(4, WireType.Varint).uint64(2);
  w.join();
}

/** An mvccpb.KeyValue as etcd writes it: every field, value left out when empty. */
function keyValue(w: BinaryWriter, field: number, key: string, value: string, mod: number): void {
  w.tag(field, WireType.LengthDelimited).fork();
  w.tag(1, WireType.LengthDelimited).string(key);
  w.tag(2, WireType.Varint).int64(mod - 1);
  w.tag(3, WireType.Varint).int64(mod);
  w.tag(4, WireType.Varint).int64(1);
  if (value !== '') w.tag(5, WireType.LengthDelimited).string(value);
  w.join();
}

describe('etcd protobuf messages', () => {
  it('encodes a RangeRequest with the field numbers of rpc.proto', () => {
    // key (1) "/a", range_end (2) "/b", limit (3) 1, revision (4) 300, count_only (9) true.
    expect(
      hex(encodeRangeRequest({ key: '/a', rangeEnd: '/b', limit: 1, revision: 300, countOnly: true })),
    ).to.equal('0a022f6112022f621801' + '20ac02' + '4801');
    // A key alone: no range_end, and defaults are left out.
    expect(hex(encodeRangeRequest({ key: '/a' }))).to.equal('0a022f61');
  });

  it('encodes a transaction as RequestOps (success, 2) each holding its request_range (1)', () => {
    const bytes = encodeTxnRequest([{ key: '/a' }, { key: '/a/', rangeEnd: '/a0' }]);
    expect(hex(bytes)).to.equal('1206' + '0a04' + '0a022f61' + '120c' + '0a0a' + '0a032f612f' + '12032f6130');
  });

  it('encodes a watch create request (create_request, 1) with key, range end and start revision', () => {
    expect(hex(encodeWatchCreateRequest({ key: '/a', rangeEnd: '/a0', startRevision: 5 }))).to.equal(
      '0a0b' + '0a022f61' + '12032f6130' + '1805',
    );
  });

  it('decodes a RangeResponse onto the values, skipping fields it does not use', () => {
    const w = new BinaryWriter();
    header(w, 1, 42);
    keyValue(w, 2, '/app/a', 'one', 40);
    keyValue(w, 2, '/app/empty', '', 41);
    keyValue(w, 2, '/app/ü', 'välue\n{{x}}', 42);
    w.tag(3, WireType.Varint).bool(false); // more
    w.tag(4, WireType.Varint).int64(3); // count
    w.tag(15, WireType.LengthDelimited).string('a field from a newer etcd');
    const values = new Map<string, string>();
    expect(decodeRangeResponse(w.finish(), values)).to.equal(42);
    expect(Object.fromEntries(values)).to.deep.equal({
      '/app/a': 'one',
      '/app/empty': '',
      '/app/ü': 'välue\n{{x}}',
    });
  });

  it('decodes the ranges of a TxnResponse (responses, 3; response_range, 1) onto one object', () => {
    const w = new BinaryWriter();
    header(w, 1, 7);
    w.tag(2, WireType.Varint).bool(true); // succeeded
    for (const [key, value] of [
      ['/a', 'x'],
      ['/a/b', 'y'],
    ] as const) {
      w.tag(3, WireType.LengthDelimited).fork().tag(1, WireType.LengthDelimited).fork();
      header(w, 1, 7);
      keyValue(w, 2, key, value, 6);
      w.join().join();
    }
    const values = new Map<string, string>();
    expect(decodeTxnResponse(w.finish(), values)).to.equal(7);
    expect(Object.fromEntries(values)).to.deep.equal({ '/a': 'x', '/a/b': 'y' });
  });

  it('decodes a WatchResponse: created, events with their type and revision, cancellation', () => {
    const w = new BinaryWriter();
    header(w, 1, 9);
    w.tag(2, WireType.Varint).int64(0); // watch_id
    w.tag(11, WireType.LengthDelimited).fork(); // a PUT: type (1) left out
    keyValue(w, 2, '/app/a', 'v', 8);
    w.join();
    w.tag(11, WireType.LengthDelimited).fork().tag(1, WireType.Varint).int32(1);
    keyValue(w, 2, '/app/b', '', 9);
    w.join();
    const events = decodeWatchResponse(w.finish());
    expect(events.revision).to.equal(9);
    expect(events.events).to.deep.equal([
      { type: 'PUT', kv: { key: '/app/a', value: 'v', modRevision: 8 } },
      { type: 'DELETE', kv: { key: '/app/b', value: '', modRevision: 9 } },
    ]);

    const c = new BinaryWriter();
    header(c, 1, 20);
    c.tag(3, WireType.Varint).bool(true);
    c.tag(4, WireType.Varint).bool(true);
    c.tag(5, WireType.Varint).int64(12);
    c.tag(6, WireType.LengthDelimited).string('mvcc: required revision has been compacted');
    expect(decodeWatchResponse(c.finish())).to.include({
      created: true,
      canceled: true,
      compactRevision: 12,
      cancelReason: 'mvcc: required revision has been compacted',
    });
  });

  it('decodes the token of an AuthenticateResponse', () => {
    const w = new BinaryWriter();
    header(w, 1, 1);
    w.tag(2, WireType.LengthDelimited).string('tok.en');
    expect(decodeAuthenticateResponse(w.finish())).to.deep.equal({ token: 'tok.en' });
  });

  it('steps over unused fields of every wire type in a KeyValue, and over none past its end', () => {
    const w = new BinaryWriter();
    w.tag(2, WireType.LengthDelimited).fork();
    w.tag(2, WireType.Varint).int64(2n ** 62n); // a ten-byte varint
    w.tag(1, WireType.LengthDelimited).string('/k');
    w.tag(7, WireType.Bit64).fixed64(1n);
    w.tag(8, WireType.Bit32).fixed32(1);
    w.tag(9, WireType.LengthDelimited).bytes(new Uint8Array([1, 2, 3]));
    w.tag(5, WireType.LengthDelimited).string('v');
    w.join();
    const values = new Map<string, string>();
    decodeRangeResponse(w.finish(), values);
    expect(Object.fromEntries(values)).to.deep.equal({ '/k': 'v' });
    // A KeyValue whose length ends inside its last varint: the varint must not be read on into what follows.
    const kv = Buffer.from([0x0a, 0x02, 0x2f, 0x6b, 0x18, 0x96, 0x01]);
    const cut = Buffer.concat([Buffer.from([0x12, kv.length - 1]), kv, Buffer.from([0x20, 0x01])]);
    let caught: unknown;
    try {
      decodeRangeResponse(cut, new Map());
    } catch (err) {
      caught = err;
    }
    expect(caught).to.be.instanceOf(EtcdDecodeError);
  });

  it('rejects a truncated message with an EtcdDecodeError that shows no value', () => {
    const w = new BinaryWriter();
    header(w, 1, 42);
    keyValue(w, 2, '/app/a', 'secret-value', 40);
    const bytes = w.finish();
    for (const cut of [bytes.length - 1, bytes.length - 14, 3]) {
      const values = new Map<string, string>();
      let caught: unknown;
      try {
        decodeRangeResponse(bytes.subarray(0, cut), values);
      } catch (err) {
        caught = err;
      }
      expect(caught, `cut at ${cut}`).to.be.instanceOf(EtcdDecodeError);
      expect((caught as Error).message).to.not.include('secret');
    }
  });
});

describe('gRPC message framing', () => {
  it('frames a message: flag 0, the length big-endian, the bytes', () => {
    expect(frame(Buffer.from('abc')).toString('hex')).to.equal('0000000003616263');
  });

  it('reads messages split across chunks, several in one chunk, and an empty one', () => {
    const wire = Buffer.concat([
      frame(Buffer.from('first')),
      frame(Buffer.alloc(0)),
      frame(Buffer.from('x')),
    ]);
    for (const size of [1, 2, 3, 7, wire.length]) {
      const reader = new FrameReader();
      const got: string[] = [];
      for (let at = 0; at < wire.length; at += size) {
        for (const m of reader.push(wire.subarray(at, at + size))) got.push(m.toString());
      }
      expect(got, `chunks of ${size}`).to.deep.equal(['first', '', 'x']);
      expect(reader.partial).to.equal(false);
    }
  });

  it('tells a message cut short, and refuses a compressed one', () => {
    const reader = new FrameReader();
    expect(reader.push(frame(Buffer.from('abcdef')).subarray(0, 8))).to.deep.equal([]);
    expect(reader.partial).to.equal(true);
    const compressed = frame(Buffer.from('z'));
    compressed[0] = 1;
    expect(() => new FrameReader().push(compressed)).to.throw(/compressed/);
  });
});

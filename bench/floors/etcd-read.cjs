#!/usr/bin/env node
// The transport floor of an etcd onetime read (bench/scenarios/onetime-keys.ts): what any Node.js process
// pays to get a prefix out of etcd, before it decodes a key. Node.js started, node:http2 (what gRPC runs
// on) loaded, one connection with the flow-control windows confd-ts's client opens (src/backends/
// etcd-grpc.ts: a large answer is not held back by window updates), one Range call on the prefix (no
// revision, auth, TLS or status check first), every byte of the answer received; then the answer's
// KeyValues are counted, stepped over unread, and the number printed so the driver can check that every
// key came. Nothing is decoded, rendered or written: that is confd-ts's own work.
//
//   node bench/floors/etcd-read.cjs http://127.0.0.1:2379 /prefix
'use strict';
const http2 = require('node:http2');

const [endpoint, prefix] = process.argv.slice(2);

/** A protobuf length-delimited field (wire type 2); keys here are far shorter than 128 bytes. */
const bytesField = (field, bytes) => Buffer.concat([Buffer.from([(field << 3) | 2, bytes.length]), bytes]);

const key = Buffer.from(`${prefix}/`);
const rangeEnd = Buffer.from(key);
rangeEnd[rangeEnd.length - 1] += 1;
const message = Buffer.concat([bytesField(1, key), bytesField(2, rangeEnd)]);
const frame = Buffer.alloc(5 + message.length);
frame.writeUInt32BE(message.length, 1);
message.copy(frame, 5);

/** How many RangeResponse.kvs (field 2) the answer holds, each stepped over unread. */
function count(buf, end) {
  let i = 5;
  const varint = () => {
    let v = 0;
    for (let shift = 0; ; shift += 7) {
      const b = buf[i++];
      v += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return v;
    }
  };
  let kvs = 0;
  while (i < end) {
    const tag = varint();
    const value = varint();
    if ((tag & 7) === 2) i += value;
    if (tag === ((2 << 3) | 2)) kvs += 1;
  }
  return kvs;
}

const session = http2.connect(endpoint, { settings: { initialWindowSize: 8 << 20 } });
session.once('connect', () => session.setLocalWindowSize(32 << 20));
const call = session.request({
  ':method': 'POST',
  ':path': '/etcdserverpb.KV/Range',
  'content-type': 'application/grpc',
  te: 'trailers',
});
const chunks = [];
call.on('data', (chunk) => chunks.push(chunk));
call.on('end', () => {
  const body = Buffer.concat(chunks);
  process.stdout.write(`${count(body, 5 + body.readUInt32BE(1))}\n`);
  session.close();
});
call.end(frame);

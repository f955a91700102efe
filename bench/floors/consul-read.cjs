#!/usr/bin/env node
// The transport floor of a Consul onetime read (bench/scenarios/onetime-keys.ts): what any Node.js process
// pays to get a prefix out of Consul, before it decodes a value. Node.js started, node:http loaded, one
// recursive KV GET (no agent check first, no ACL token, no TLS), the JSON answer parsed (Consul's answer
// is JSON: parsing it is part of receiving it), the number of entries printed so the driver can check
// that every key came. No value is base64-decoded, nothing rendered or written: that is confd-ts's own work.
//
//   node bench/floors/consul-read.cjs 127.0.0.1:8500 /prefix
'use strict';
const http = require('node:http');

const [endpoint, prefix] = process.argv.slice(2);

http.get(`http://${endpoint}/v1/kv${prefix}/?recurse`, (res) => {
  const chunks = [];
  res.on('data', (chunk) => chunks.push(chunk));
  res.on('end', () => {
    process.stdout.write(`${JSON.parse(Buffer.concat(chunks).toString()).length}\n`);
  });
});

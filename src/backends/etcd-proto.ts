import { BinaryReader, BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import { utf8Text } from './buffer-text.js';

/**
 * The messages of etcd's v3 gRPC API this backend sends and reads (etcdserverpb's rpc.proto and mvccpb's
 * kv.proto, etcd 3.4+), with their field numbers. Only the fields used here are written; unknown fields
 * are skipped on reading, so a newer server's additions are harmless. Keys and values stay bytes on the
 * wire and are UTF-8 text here, as in every other backend. int64 fields are JavaScript numbers: revisions
 * stay far below 2^53.
 */

/** The gRPC method paths (service and method of rpc.proto). */
export const ETCD_METHODS = {
  range: '/etcdserverpb.KV/Range',
  txn: '/etcdserverpb.KV/Txn',
  watch: '/etcdserverpb.Watch/Watch',
  authenticate: '/etcdserverpb.Auth/Authenticate',
  status: '/etcdserverpb.Maintenance/Status',
} as const;

export interface RangeRequest {
  key: string;
  /** Exclusive end of the range; absent: the key alone. */
  rangeEnd?: string;
  limit?: number;
  /** The revision to read at; 0 or absent: the newest. */
  revision?: number;
  countOnly?: boolean;
}

export interface KeyValue {
  key: string;
  value: string;
  modRevision: number;
}

/** What a read sets its keys' values on (a KVPairs). */
export type ValuesInto = Map<string, string>;

export interface WatchCreateRequest {
  key: string;
  rangeEnd: string;
  startRevision: number;
}

export interface WatchEvent {
  type: 'PUT' | 'DELETE';
  kv: KeyValue;
}

export interface WatchResponse {
  revision: number;
  created: boolean;
  canceled: boolean;
  compactRevision: number;
  cancelReason: string;
  events: WatchEvent[];
}

/** A message that does not parse as the one expected: a truncated frame, or not etcd's answer. */
export class EtcdDecodeError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EtcdDecodeError';
  }
}

const utf8 = (bytes: Uint8Array): string =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');

const encodeUtf8 = (text: string): Uint8Array => Buffer.from(text, 'utf8');

export function encodeRangeRequest(request: RangeRequest): Uint8Array {
  return writeRange(new BinaryWriter(encodeUtf8), request).finish();
}

/** A TxnRequest with no compares: every range in `success`, read at one revision by the server. */
export function encodeTxnRequest(ranges: readonly RangeRequest[]): Uint8Array {
  const writer = new BinaryWriter(encodeUtf8);
  for (const range of ranges) {
    // TxnRequest.success (2) is a RequestOp whose request_range (1) is the RangeRequest.
    writer.tag(2, WireType.LengthDelimited).fork().tag(1, WireType.LengthDelimited).fork();
    writeRange(writer, range).join().join();
  }
  return writer.finish();
}

export function encodeWatchCreateRequest(request: WatchCreateRequest): Uint8Array {
  const writer = new BinaryWriter(encodeUtf8);
  // WatchRequest.create_request (1).
  writer.tag(1, WireType.LengthDelimited).fork();
  writer.tag(1, WireType.LengthDelimited).string(request.key);
  writer.tag(2, WireType.LengthDelimited).string(request.rangeEnd);
  writer.tag(3, WireType.Varint).int64(request.startRevision);
  return writer.join().finish();
}

export function encodeAuthenticateRequest(name: string, password: string): Uint8Array {
  const writer = new BinaryWriter(encodeUtf8);
  writer.tag(1, WireType.LengthDelimited).string(name);
  writer.tag(2, WireType.LengthDelimited).string(password);
  return writer.finish();
}

/** StatusRequest has no fields. */
export const STATUS_REQUEST = new Uint8Array(0);

function writeRange(writer: BinaryWriter, request: RangeRequest): BinaryWriter {
  writer.tag(1, WireType.LengthDelimited).string(request.key);
  if (request.rangeEnd !== undefined) writer.tag(2, WireType.LengthDelimited).string(request.rangeEnd);
  if (request.limit) writer.tag(3, WireType.Varint).int64(request.limit);
  if (request.revision) writer.tag(4, WireType.Varint).int64(request.revision);
  if (request.countOnly) writer.tag(9, WireType.Varint).bool(true);
  return writer;
}

/**
 * A RangeResponse: sets each key's value on `values` and returns the revision it was read at. Values go
 * straight into the caller's Map: a 10,000-key answer makes no KeyValue objects on the way.
 */
export function decodeRangeResponse(bytes: Uint8Array, values: ValuesInto): number {
  return decoding('RangeResponse', bytes, (reader, buffer) => readRange(reader, reader.len, buffer, values));
}

/** A TxnResponse of ranges: sets the values of every range on `values`; returns the revision. */
export function decodeTxnResponse(bytes: Uint8Array, values: ValuesInto): number {
  return decoding('TxnResponse', bytes, (reader, buffer) => {
    let revision = 0;
    fields(reader, reader.len, (field, type) => {
      if (field === 1 && type === WireType.LengthDelimited) revision = readHeader(reader);
      else if (field === 3 && type === WireType.LengthDelimited) {
        // ResponseOp.response_range (1).
        fields(reader, lengthEnd(reader), (op, opType) => {
          if (op !== 1 || opType !== WireType.LengthDelimited) return false;
          readRange(reader, lengthEnd(reader), buffer, values);
          return true;
        });
      } else return false;
      return true;
    });
    return revision;
  });
}

export function decodeWatchResponse(bytes: Uint8Array): WatchResponse {
  return decoding('WatchResponse', bytes, (reader, buffer) => {
    const answer: WatchResponse = {
      revision: 0,
      created: false,
      canceled: false,
      compactRevision: 0,
      cancelReason: '',
      events: [],
    };
    fields(reader, reader.len, (field, type) => {
      if (field === 1 && type === WireType.LengthDelimited) answer.revision = readHeader(reader);
      else if (field === 3 && type === WireType.Varint) answer.created = reader.bool();
      else if (field === 4 && type === WireType.Varint) answer.canceled = reader.bool();
      else if (field === 5 && type === WireType.Varint) answer.compactRevision = Number(reader.int64());
      else if (field === 6 && type === WireType.LengthDelimited) answer.cancelReason = reader.string();
      else if (field === 11 && type === WireType.LengthDelimited)
        answer.events.push(readEvent(reader, buffer));
      else return false;
      return true;
    });
    return answer;
  });
}

export function decodeAuthenticateResponse(bytes: Uint8Array): { token: string } {
  return decoding('AuthenticateResponse', bytes, (reader) => {
    let token = '';
    fields(reader, reader.len, (field, type) => {
      if (field !== 2 || type !== WireType.LengthDelimited) return false;
      token = reader.string();
      return true;
    });
    return { token };
  });
}

function decoding<T>(
  message: string,
  bytes: Uint8Array,
  read: (reader: BinaryReader, buffer: Buffer) => T,
): T {
  try {
    const buffer = Buffer.isBuffer(bytes)
      ? bytes
      : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return read(new BinaryReader(bytes, utf8), buffer);
  } catch (err) {
    throw new EtcdDecodeError(`unreadable ${message} from etcd (${bytes.length} bytes)`, { cause: err });
  }
}

/**
 * Reads the fields of one message, up to `end`: `onField` reads the ones it knows and returns true, or
 * returns false for the reader to skip the field.
 */
function fields(
  reader: BinaryReader,
  end: number,
  onField: (field: number, type: WireType) => boolean,
): void {
  while (reader.pos < end) {
    const [field, type] = reader.tag();
    if (!onField(field, type)) reader.skip(type, field);
  }
  if (reader.pos !== end) throw new Error('a field runs past the end of its message');
}

/**
 * Skips a field the decoder does not need. A varint or a length-delimited field (the revisions, version
 * and lease of each of 10,000 KeyValues) is stepped over in place: BinaryReader.skip returns the skipped
 * bytes as a new subarray, three allocations per key for nothing. A varint running off the end leaves
 * `pos` past it, which the caller's end-of-message check reports.
 */
function skipField(reader: BinaryReader, buffer: Buffer, tag: number): void {
  const type = (tag & 7) as WireType;
  if (type === WireType.Varint) {
    let pos = reader.pos;
    while (pos < buffer.length && (buffer[pos] as number) & 0x80) pos += 1;
    reader.pos = pos + 1;
  } else if (type === WireType.LengthDelimited) reader.pos = lengthEnd(reader);
  else reader.skip(type, tag >>> 3);
}

/** Where the length-delimited field the reader is at ends (its length read). */
function lengthEnd(reader: BinaryReader): number {
  const end = reader.uint32() + reader.pos;
  if (end > reader.len) throw new Error('a message runs past the end of its frame');
  return end;
}

/** ResponseHeader: its revision (3). */
function readHeader(reader: BinaryReader): number {
  let revision = 0;
  fields(reader, lengthEnd(reader), (field, type) => {
    if (field !== 3 || type !== WireType.Varint) return false;
    revision = Number(reader.int64());
    return true;
  });
  return revision;
}

/**
 * RangeResponse: header (1), kvs (2), each mvccpb.KeyValue's key (1) and value (5) set on `values` (an
 * empty value is left out by the server). The hot loop of a large read, so written out: tags are read as
 * plain varints and the text is sliced from the frame's buffer, with no allocation but the two strings.
 */
function readRange(reader: BinaryReader, end: number, buffer: Buffer, values: ValuesInto): number {
  let revision = 0;
  while (reader.pos < end) {
    const tag = reader.uint32();
    if (tag === KVS_TAG) {
      const kvEnd = lengthEnd(reader);
      let key = '';
      let value = '';
      while (reader.pos < kvEnd) {
        const kvTag = reader.uint32();
        if (kvTag === KEY_TAG || kvTag === VALUE_TAG) {
          const stop = lengthEnd(reader);
          const text = utf8Text(buffer, reader.pos, stop);
          reader.pos = stop;
          if (kvTag === KEY_TAG) key = text;
          else value = text;
        } else skipField(reader, buffer, kvTag);
      }
      if (reader.pos !== kvEnd) throw new Error('a field runs past the end of its message');
      values.set(key, value);
    } else if (tag === HEADER_TAG) revision = readHeader(reader);
    else skipField(reader, buffer, tag);
  }
  if (reader.pos !== end) throw new Error('a field runs past the end of its message');
  return revision;
}

const HEADER_TAG = (1 << 3) | WireType.LengthDelimited;
const KVS_TAG = (2 << 3) | WireType.LengthDelimited;
const KEY_TAG = (1 << 3) | WireType.LengthDelimited;
const VALUE_TAG = (5 << 3) | WireType.LengthDelimited;

/** mvccpb.KeyValue of a watch event: key (1), mod_revision (3), value (5). */
function readKeyValue(reader: BinaryReader, buffer: Buffer): KeyValue {
  const kv: KeyValue = { key: '', value: '', modRevision: 0 };
  const end = lengthEnd(reader);
  while (reader.pos < end) {
    const tag = reader.uint32();
    const field = tag >>> 3;
    const type = (tag & 7) as WireType;
    if (type === WireType.LengthDelimited && (field === 1 || field === 5)) {
      const stop = lengthEnd(reader);
      const text = buffer.toString('utf8', reader.pos, stop);
      reader.pos = stop;
      if (field === 1) kv.key = text;
      else kv.value = text;
    } else if (field === 3 && type === WireType.Varint) kv.modRevision = Number(reader.int64());
    else reader.skip(type, field);
  }
  if (reader.pos !== end) throw new Error('a field runs past the end of its message');
  return kv;
}

/** mvccpb.Event: type (1, PUT = 0 is left out), kv (2). */
function readEvent(reader: BinaryReader, buffer: Buffer): WatchEvent {
  const event: WatchEvent = { type: 'PUT', kv: { key: '', value: '', modRevision: 0 } };
  fields(reader, lengthEnd(reader), (field, type) => {
    if (field === 1 && type === WireType.Varint) event.type = reader.int32() === 1 ? 'DELETE' : 'PUT';
    else if (field === 2 && type === WireType.LengthDelimited) event.kv = readKeyValue(reader, buffer);
    else return false;
    return true;
  });
  return event;
}

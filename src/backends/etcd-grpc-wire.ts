/**
 * gRPC's wire format, as its PROTOCOL-HTTP2 spec has it: status codes, the 5-byte message framing, the
 * grpc-timeout header, the percent-encoded grpc-message. No HTTP/2 and no etcd here: etcd-grpc-call.ts
 * makes the calls with these.
 */

/** gRPC status codes this backend tells apart (etcd's rpctypes map its errors onto them). */
export const GRPC_OK = 0;
const GRPC_UNKNOWN = 2;
const GRPC_PERMISSION_DENIED = 7;
export const GRPC_FAILED_PRECONDITION = 9;
const GRPC_UNIMPLEMENTED = 12;
const GRPC_INTERNAL = 13;
export const GRPC_UNAVAILABLE = 14;
export const GRPC_UNAUTHENTICATED = 16;

/**
 * The status of an HTTP answer with no grpc-status (a proxy's or load balancer's own), as gRPC's
 * http-grpc-status-mapping has it: a 502, 503, 504 or 429 means "try elsewhere" (UNAVAILABLE).
 */
export function httpStatusCode(http: number): number {
  switch (http) {
    case 400:
      return GRPC_INTERNAL;
    case 401:
      return GRPC_UNAUTHENTICATED;
    case 403:
      return GRPC_PERMISSION_DENIED;
    case 404:
      return GRPC_UNIMPLEMENTED;
    case 429:
    case 502:
    case 503:
    case 504:
      return GRPC_UNAVAILABLE;
    default:
      return GRPC_UNKNOWN;
  }
}

/** The message framed for the wire: flag 0 (not compressed), the length big-endian, the bytes. */
export function frame(message: Uint8Array): Buffer {
  const framed = Buffer.allocUnsafe(5 + message.length);
  framed[0] = 0;
  framed.writeUInt32BE(message.length, 1);
  framed.set(message, 5);
  return framed;
}

/**
 * Splits the bytes of a response into its messages as chunks arrive: a message may span chunks, a chunk
 * may hold several. A compressed frame is an error (none was asked for).
 */
export class FrameReader {
  /** Chunks of the frame being read: joined once it is complete, not at every chunk. */
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** Length of the frame being read (header included), once its header has arrived. */
  private frameLength = 0;

  /** The messages completed by `chunk`. */
  push(chunk: Buffer): Buffer[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const messages: Buffer[] = [];
    for (;;) {
      if (this.frameLength === 0) {
        if (this.buffered < 5) break;
        const head = this.joined();
        if (head[0] !== 0) throw new Error('a compressed gRPC message, which was not asked for');
        this.frameLength = 5 + head.readUInt32BE(1);
      }
      if (this.buffered < this.frameLength) break;
      const all = this.joined();
      messages.push(all.subarray(5, this.frameLength));
      const rest = all.subarray(this.frameLength);
      this.chunks = rest.length > 0 ? [rest] : [];
      this.buffered = rest.length;
      this.frameLength = 0;
    }
    return messages;
  }

  /** Bytes of a message not yet complete: left at the end of a response, it was cut short. */
  get partial(): boolean {
    return this.buffered > 0;
  }

  private joined(): Buffer {
    if (this.chunks.length > 1) this.chunks = [Buffer.concat(this.chunks, this.buffered)];
    return this.chunks[0] ?? Buffer.alloc(0);
  }
}

/**
 * A deadline as the grpc-timeout header writes it: at most 8 digits and a unit (gRPC's spec; grpc-go
 * refuses a longer one), so milliseconds up to ~27 hours, then whole seconds, minutes, hours, rounded up.
 */
export function grpcTimeout(ms: number): string {
  let value = Math.max(1, Math.ceil(ms));
  for (const [unit, next] of [
    ['m', 1000],
    ['S', 60],
    ['M', 60],
  ] as const) {
    if (value <= 99_999_999) return `${value}${unit}`;
    value = Math.ceil(value / next);
  }
  return `${Math.min(value, 99_999_999)}H`;
}

/** grpc-message is percent-encoded (gRPC's spec); a malformed one is shown as it came. */
export function grpcMessage(value: string | string[] | undefined): string {
  const text = Array.isArray(value) ? value.join(', ') : (value ?? '');
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

import type { Agent, ClientRequest, IncomingMessage, RequestOptions } from 'node:http';
import { abortReason } from './watch-event-buffer.js';

/**
 * One HTTP request with a deadline and an abort signal, over node:http(s): the transport of Consul's API.
 * The backend turns the failures below into its own errors, naming its endpoint.
 */

/** node:http or node:https: the agent keeping the connections, and the request function using it. */
export interface HttpTransport {
  agent: Agent;
  request(url: string, options: RequestOptions): ClientRequest;
}

export interface HttpCall {
  method: 'GET' | 'POST';
  headers?: Record<string, string | number>;
  body?: string;
  /** Bound for the whole answer, or for the headers only when `stream` is set. */
  timeoutMs: number;
  signal?: AbortSignal;
  /** A response that stays open (a watch): the deadline ends when the headers arrive. */
  stream?: boolean;
}

/** No answer within the call's deadline. `isTimeout`, as callers test for it without the class. */
export class HttpTimeoutError extends Error {
  readonly isTimeout = true;

  constructor(readonly timeoutMs: number) {
    super(`no answer within ${timeoutMs} ms`);
    this.name = 'HttpTimeoutError';
  }
}

/**
 * Sends the request and resolves with the response once its headers arrived. Rejects with an
 * HttpTimeoutError at the deadline, with the signal's reason when it aborts (the socket is destroyed
 * either way, so no request is left running), and with Node's own error (its `code`: ECONNREFUSED, a TLS
 * code, ...) when the connection fails. The deadline and the abort cover reading the body too: `readBody`
 * then rejects with the same error. Every request of this program is a read, so one that meets a
 * kept-alive connection the server closed meanwhile (a restart) is sent again once, on a new connection.
 */
export function sendRequest(transport: HttpTransport, url: string, call: HttpCall): Promise<IncomingMessage> {
  return attempt(transport, url, call, false);
}

function attempt(
  transport: HttpTransport,
  url: string,
  call: HttpCall,
  retried: boolean,
): Promise<IncomingMessage> {
  const { signal } = call;
  return new Promise<IncomingMessage>((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortReason(signal));
      return;
    }
    const headers = { ...call.headers };
    if (call.body !== undefined) headers['content-length'] = Buffer.byteLength(call.body);
    const request = transport.request(url, { method: call.method, agent: transport.agent, headers });
    let response: IncomingMessage | undefined;
    const stop = (err: Error): void => void (response ?? request).destroy(err);
    const timer = setTimeout(() => stop(new HttpTimeoutError(call.timeoutMs)), call.timeoutMs);
    const onAbort = (): void => stop(abortReason(signal as AbortSignal));
    signal?.addEventListener('abort', onAbort, { once: true });
    const settle = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };
    request.once('response', (answer) => {
      response = answer;
      if (call.stream) settle();
      else answer.once('close', settle);
      resolve(answer);
    });
    request.once('error', (err: NodeJS.ErrnoException) => {
      settle();
      const reset = err.code === 'ECONNRESET' || err.code === 'EPIPE';
      if (!retried && response === undefined && request.reusedSocket && reset && !signal?.aborted) {
        resolve(attempt(transport, url, call, true));
        return;
      }
      reject(err);
    });
    request.end(call.body);
  });
}

/**
 * The body of a response as text, decoded as it arrives: a 10,000-key answer is a megabyte, which chunks,
 * their concatenation and the string would hold three times over at the end. Rejects with the error that
 * ended the response (the deadline's, the abort's, or the connection's).
 */
export function readBody(response: IncomingMessage): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    let text = '';
    response.setEncoding('utf8');
    response.on('data', (chunk: string) => (text += chunk));
    response.once('end', () => resolve(text));
    response.once('error', reject);
  });
}

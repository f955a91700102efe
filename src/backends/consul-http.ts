import { STATUS_CODES } from 'node:http';
import type { ConsulApi, ConsulCall, ConsulKvAnswer, ConsulKvQuery } from './consul-agents.js';
import type { ConsulEntry } from './consul-kv.js';
import { readBody, sendRequest, type HttpTransport } from './http-request.js';
import { base64Text } from './buffer-text.js';

/** An error answer of the agent: its HTTP status, and the first line of what it said. */
export class ConsulResponseError extends Error {
  constructor(
    message: string,
    readonly statusCode: number,
  ) {
    super(message);
    this.name = 'ConsulResponseError';
  }
}

/** What the agent said, in short: Consul's error bodies are one line of text ("Permission denied"). */
function answerText(status: number, text: string): string {
  const line = text.trim().split('\n')[0]?.trim() ?? '';
  if (line !== '') return line.length > 200 ? `${line.slice(0, 200)}...` : line;
  return STATUS_CODES[status]?.toLowerCase() ?? `request failed: ${status}`;
}

/** A 2xx answer's JSON. Not JSON (another server): said so, without repeating its text. */
function parseAnswer(text: string, status: number): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new ConsulResponseError('answered, but not with JSON', status);
  }
}

/**
 * Consul's HTTP API (`/v1/...`) on one agent, over node:http(s): the two calls this backend makes. Not the
 * `consul` npm package: its load (with papi) was ~25 ms of every run, for two GET requests. The ACL token
 * goes in X-Consul-Token, never in the URL, so no log line or error can carry it.
 */
export class ConsulHttp implements ConsulApi {
  constructor(
    private readonly baseUrl: string,
    private readonly transport: HttpTransport,
    private readonly headers: Record<string, string>,
  ) {}

  async leader(call: ConsulCall): Promise<unknown> {
    const { status, text } = await this.get('/v1/status/leader', call);
    if (status < 200 || status > 299) throw new ConsulResponseError(answerText(status, text), status);
    return parseAnswer(text, status);
  }

  async kv(key: string, query: ConsulKvQuery, call: ConsulCall): Promise<ConsulKvAnswer> {
    const params = new URLSearchParams();
    if (query.recurse) params.set('recurse', 'true');
    if (query.index !== undefined) params.set('index', String(query.index));
    if (query.waitS !== undefined) params.set('wait', `${query.waitS}s`);
    const search = params.toString() === '' ? '' : `?${params.toString()}`;
    const path = `/v1/kv/${key.split('/').map(encodeURIComponent).join('/')}${search}`;
    const { status, text, index } = await this.get(path, call);
    // 404: nothing under the key; a blocking query on a missing prefix still has an index to wait on.
    if (status === 404) return { entries: undefined, index };
    if (status < 200 || status > 299) throw new ConsulResponseError(answerText(status, text), status);
    const body = parseAnswer(text, status);
    if (!Array.isArray(body) || body.length === 0) return { entries: undefined, index };
    // Decoded in place: a second object per entry would hold 10,000 more for a 10,000-key answer.
    const entries = body as Array<{ Key: string; Value?: unknown }>;
    for (const entry of entries) {
      // As Go's and the consul package's clients decode it: base64, then UTF-8 (lossy for other bytes).
      entry.Value = typeof entry.Value === 'string' ? base64Text(entry.Value) : null;
    }
    return { entries: entries as ConsulEntry[], index };
  }

  destroy(): void {
    this.transport.agent.destroy();
  }

  private async get(
    path: string,
    call: ConsulCall,
  ): Promise<{ status: number; text: string; index: number }> {
    const response = await sendRequest(this.transport, `${this.baseUrl}${path}`, {
      method: 'GET',
      headers: this.headers,
      timeoutMs: call.timeoutMs,
      signal: call.signal,
    });
    const text = await readBody(response);
    const header = response.headers['x-consul-index'];
    const index = typeof header === 'string' && /^\d+$/.test(header) ? Number(header) : 0;
    return { status: response.statusCode ?? 0, text, index };
  }
}

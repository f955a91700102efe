import type { startConfd } from './confd-process.js';
import { eventually } from './confd-process.js';

type Daemon = ReturnType<typeof startConfd>;

/** The address a daemon started with `-metrics-addr 127.0.0.1:0` bound, from its start-up line. */
export async function endpointOf(daemon: Daemon): Promise<string> {
  let address = '';
  await eventually(() => {
    address = /metrics server started on (\S+)/.exec(daemon.output.stderr)?.[1] ?? '';
    return address !== '';
  }, 'the metrics server start-up line');
  return address;
}

export async function get(
  address: string,
  path: string,
  method = 'GET',
): Promise<{ status: number; body: string; type: string }> {
  const response = await fetch(`http://${address}${path}`, { method });
  return {
    status: response.status,
    body: await response.text(),
    type: response.headers.get('content-type') ?? '',
  };
}

/**
 * The value of one sample in Prometheus text format: `name{a="x",b="y"}` with the labels given (in any
 * order, others allowed); undefined when there is no such sample.
 */
export function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const have = new Map<string, string>();
    for (const [, key, value] of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g))
      have.set(key ?? '', value ?? '');
    if (Object.entries(labels).every(([key, value]) => have.get(key) === value)) return Number(match[3]);
  }
  return undefined;
}

/** Polls /metrics until `probe` holds for the scraped text. */
export async function metricsUntil(
  address: string,
  probe: (text: string) => boolean,
  what: string,
): Promise<string> {
  let text = '';
  await eventually(async () => {
    text = (await get(address, '/metrics')).body;
    return probe(text);
  }, what);
  return text;
}

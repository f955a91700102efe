/** How long an endpoint that failed is passed over before a request may try it again. */
export const ETCD_ENDPOINT_PAUSE_MS = 5000;

/**
 * The order in which a request tries the endpoints. A request tries each endpoint at most once, starting
 * with the one that answered last (so a client stays on one member while it works); an endpoint that
 * failed is passed over for ETCD_ENDPOINT_PAUSE_MS, unless every endpoint is passed over, in which case all
 * are tried again rather than failing without a try. With a single endpoint nothing is ever paused.
 */
export class EndpointRotation {
  private readonly pausedUntil = new Map<string, number>();
  private preferred = 0;

  constructor(
    readonly endpoints: readonly string[],
    private readonly now: () => number = Date.now,
  ) {}

  /** The endpoints to try for one request, in order. */
  order(): string[] {
    const n = this.endpoints.length;
    const rotated = Array.from({ length: n }, (_, i) => this.endpoints[(this.preferred + i) % n] ?? '');
    const time = this.now();
    const open = rotated.filter((endpoint) => (this.pausedUntil.get(endpoint) ?? 0) <= time);
    return open.length > 0 ? open : rotated;
  }

  failed(endpoint: string): void {
    if (this.endpoints.length > 1) this.pausedUntil.set(endpoint, this.now() + ETCD_ENDPOINT_PAUSE_MS);
  }

  succeeded(endpoint: string): void {
    this.pausedUntil.delete(endpoint);
    const index = this.endpoints.indexOf(endpoint);
    if (index >= 0) this.preferred = index;
  }
}

/** What `promise` rejected with; fails the test if it fulfils instead. */
export async function rejection<E = Error>(promise: Promise<unknown>): Promise<E> {
  try {
    await promise;
  } catch (err) {
    return err as E;
  }
  throw new Error('expected a rejection');
}

/** Polls `probe` until it holds; a liveness bound, not a speed test. */
export async function eventually(
  probe: () => Promise<boolean> | boolean,
  what: string,
  limitMs = 20_000,
  pollMs = 50,
): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((ok) => setTimeout(ok, pollMs));
  }
}

/** A signal that never aborts. */
export const never = (): AbortSignal => new AbortController().signal;

import { expect } from 'chai';
import type { StoreClient } from '../../../src/backends/store-client.js';
import { BackendError, ConfigError } from '../../../src/errors.js';
import { connectWithRetry } from '../../../src/process/connect-store.js';
import type { WatchClock } from '../../../src/process/watch-clock.js';
import { EventBus } from '../../../src/events/event-bus.js';
import { EventRecorder } from './support/event-recorder.js';
import { fixedRetryPolicy } from './support/daemon-fixture.js';

const policy = fixedRetryPolicy([250, 500, 1000, 2000, 4000, 8000, 16000, 30000]);
const options = (signal = new AbortController().signal, clock: WatchClock = instantClock()) => {
  const events = new EventBus();
  return { recorder: new EventRecorder(events), opts: { backend: 'etcd', events, policy, signal, clock } };
};

const store = { close: async () => {} } as unknown as StoreClient;

/** A clock whose sleeps return at once and are recorded. */
function instantClock(): WatchClock & { sleeps: number[] } {
  const sleeps: number[] = [];
  return { sleeps, now: () => 0, sleep: async (ms) => void sleeps.push(ms) };
}

describe('connectWithRetry', () => {
  it('retries an unreachable store on the retry policy until it answers, one event per attempt', async () => {
    let calls = 0;
    const clock = instantClock();
    const { recorder, opts } = options(undefined, clock);
    const connect = async () => {
      calls += 1;
      if (calls <= 9) throw new BackendError('etcd: no endpoint answered', 'etcd', ['127.0.0.1:1']);
      return store;
    };
    const result = await connectWithRetry(connect, opts);
    expect(result).to.equal(store);
    expect(calls).to.equal(10);
    expect(clock.sleeps).to.deep.equal([250, 500, 1000, 2000, 4000, 8000, 16000, 30000, 30000]);
    const attempts = recorder.of('store');
    expect(attempts.map((e) => [e.op, e.ok])).to.deep.equal([
      ...Array.from({ length: 9 }, () => ['connect', false]),
      ['connect', true],
    ]);
    expect(attempts[0]?.retryInMs).to.equal(250);
    expect(attempts[0]?.error?.message).to.equal('etcd: no endpoint answered');
  });

  it('fails at once on a configuration fault instead of retrying it', async () => {
    let calls = 0;
    const connect = async (): Promise<StoreClient> => {
      calls += 1;
      throw new ConfigError('-client-cert: no such file /x.pem');
    };
    const caught = await connectWithRetry(connect, options().opts).catch((err: unknown) => err);
    expect(caught).to.be.instanceOf(ConfigError);
    expect(calls).to.equal(1);
  });

  it('gives up quietly when the daemon is asked to stop while the store is down', async () => {
    const controller = new AbortController();
    const clock: WatchClock = {
      now: () => 0,
      sleep: async () => controller.abort(),
    };
    const connect = async (): Promise<StoreClient> => {
      throw new BackendError('consul: no agent answered', 'consul', ['127.0.0.1:1']);
    };
    expect(await connectWithRetry(connect, options(controller.signal, clock).opts)).to.equal(undefined);
  });
});

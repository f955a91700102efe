import { expect } from 'chai';
import type { StoreClient } from '../../../src/backends/store-client.js';
import { BackendError, ConfigError } from '../../../src/errors.js';
import { connectWithRetry } from '../../../src/process/connect-store.js';
import type { WatchClock } from '../../../src/process/watch-clock.js';
import { recordingLogger } from '../../support/loggers.js';

const store = { close: async () => {} } as unknown as StoreClient;

/** A clock whose sleeps return at once and are recorded. */
function instantClock(): WatchClock & { sleeps: number[] } {
  const sleeps: number[] = [];
  return { sleeps, now: () => 0, sleep: async (ms) => void sleeps.push(ms) };
}

describe('connectWithRetry', () => {
  it('retries an unreachable store with growing, capped delays until it answers', async () => {
    let calls = 0;
    const clock = instantClock();
    const logger = recordingLogger();
    const connect = async () => {
      calls += 1;
      if (calls <= 12) throw new BackendError('etcd: no endpoint answered', 'etcd', ['127.0.0.1:1']);
      return store;
    };
    const result = await connectWithRetry(connect, logger, new AbortController().signal, {
      clock,
      random: () => 0.999,
    });
    expect(result).to.equal(store);
    expect(calls).to.equal(13);
    expect(clock.sleeps).to.have.length(12);
    for (let i = 1; i < 7; i++) expect(clock.sleeps[i]).to.be.greaterThan(clock.sleeps[i - 1] ?? Infinity);
    expect(Math.max(...clock.sleeps)).to.be.at.most(30_000);
    expect(logger.messages('error')[0]).to.match(/no endpoint answered; retrying in \d+\.\d s/);
  });

  it('fails at once on a configuration fault instead of retrying it', async () => {
    let calls = 0;
    const connect = async (): Promise<StoreClient> => {
      calls += 1;
      throw new ConfigError('-client-cert: no such file /x.pem');
    };
    const caught = await connectWithRetry(connect, recordingLogger(), new AbortController().signal, {
      clock: instantClock(),
    }).catch((err: unknown) => err);
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
    expect(await connectWithRetry(connect, recordingLogger(), controller.signal, { clock })).to.equal(
      undefined,
    );
  });
});

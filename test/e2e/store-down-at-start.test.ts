import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { runStoresScript } from '../integration/support/stores.js';
import { eventually, startConfd, Workspace } from './support/confd-process.js';
import { freePort } from '../support/net.js';

describe('daemon whose store is down when it starts (end to end, real redis)', function () {
  this.timeout(90_000);
  let ws: Workspace;
  let redis: ChildProcess | undefined;

  before(async function () {
    this.timeout(180_000);
    await runStoresScript(['install', 'redis']);
  });
  beforeEach(async () => {
    ws = await Workspace.create();
  });
  afterEach(async () => {
    redis?.kill('SIGKILL');
    redis = undefined;
    await ws.remove();
  });

  for (const mode of [['-watch'], ['-interval', '1']]) {
    it(`${mode.join(' ')}: keeps retrying, then renders once the store comes up, and exits 0 on SIGTERM`, async () => {
      const port = await freePort();
      await ws.write('templates/app.hbs', 'name={{getv "/app/name"}}\n');
      await ws.write(
        'conf.d/app.toml',
        `[template]\nsrc = "app.hbs"\ndest = "${ws.path('out/app.conf')}"\nkeys = ["/app"]\n`,
      );
      const daemon = startConfd([
        ...mode,
        '-backend',
        'redis',
        '-node',
        `127.0.0.1:${port}`,
        '-connect-timeout',
        '1s',
        '-confdir',
        ws.root,
      ]);
      try {
        await eventually(
          () => daemon.output.stderr.includes(`127.0.0.1:${port}`),
          'an error naming the endpoint',
          30_000,
        );
        expect(daemon.child.exitCode).to.equal(null);

        redis = spawn(
          'redis-server',
          [
            '--bind',
            '127.0.0.1',
            '--port',
            String(port),
            '--save',
            '',
            '--appendonly',
            'no',
            '--notify-keyspace-events',
            'KA',
          ],
          { stdio: 'ignore' },
        );
        const admin = new Redis({ host: '127.0.0.1', port, lazyConnect: true, retryStrategy: () => 100 });
        admin.on('error', () => undefined);
        try {
          // One connect(): when it loses the race with redis-server binding its port, ioredis goes on
          // reconnecting by itself and rejects every later connect() ("already connecting/connected").
          admin.connect().catch(() => undefined);
          await eventually(() => admin.status === 'ready', 'redis to start', 20_000);
          await admin.set('/app/name', 'arrived');
        } finally {
          // A client left reconnecting keeps mocha from ever exiting.
          admin.disconnect();
        }

        await eventually(
          async () => (await readFile(ws.path('out/app.conf'), 'utf8').catch(() => '')) === 'name=arrived\n',
          'the file to render once the store is up',
          60_000,
        );
      } finally {
        daemon.child.kill('SIGTERM');
      }
      const result = await daemon.exited;
      expect(result.code, result.stderr).to.equal(0);
    });
  }
});

import { expect } from 'chai';
import { ETCD_ENDPOINT_PAUSE_MS, EndpointRotation } from '../../../src/backends/etcd-faults.js';

describe('EndpointRotation (the order an etcd request tries its endpoints in)', () => {
  const endpoints = ['http://a:2379', 'http://b:2379', 'http://c:2379'];
  let now = 0;
  const clock = (): number => now;

  beforeEach(() => {
    now = 1_000_000;
  });

  it('starts with the first endpoint and tries every one once', () => {
    expect(new EndpointRotation(endpoints, clock).order()).to.deep.equal(endpoints);
  });

  it('stays on the endpoint that answered last', () => {
    const rotation = new EndpointRotation(endpoints, clock);
    rotation.succeeded('http://b:2379');
    expect(rotation.order()).to.deep.equal(['http://b:2379', 'http://c:2379', 'http://a:2379']);
  });

  it('passes over an endpoint that failed for the pause, then tries it again', () => {
    const rotation = new EndpointRotation(endpoints, clock);
    rotation.failed('http://a:2379');
    expect(rotation.order()).to.deep.equal(['http://b:2379', 'http://c:2379']);
    now += ETCD_ENDPOINT_PAUSE_MS;
    expect(rotation.order()).to.deep.equal(endpoints);
  });

  it('tries every endpoint again when all of them are passed over', () => {
    const rotation = new EndpointRotation(endpoints, clock);
    for (const endpoint of endpoints) rotation.failed(endpoint);
    expect(rotation.order()).to.deep.equal(endpoints);
  });

  it('never pauses a single endpoint', () => {
    const rotation = new EndpointRotation(['http://only:2379'], clock);
    rotation.failed('http://only:2379');
    expect(rotation.order()).to.deep.equal(['http://only:2379']);
  });
});

import { expect } from 'chai';
import { EventEmitter } from 'node:events';
import { installWarningFilter } from '../../../src/cli/warning-filter.js';

function warning(name: string, message: string, code?: string): Error & { code?: string } {
  return Object.assign(new Error(message), { name, code });
}

describe('installWarningFilter', () => {
  it('drops DEP0123 (TLS servername set to an IP by grpc-js) and prints every other warning like Node', () => {
    const source = new EventEmitter();
    const printedByDefault: string[] = [];
    source.on('warning', () => printedByDefault.push('default'));
    const lines: string[] = [];
    installWarningFilter(source, (line) => lines.push(line), 42);

    source.emit(
      'warning',
      warning('DeprecationWarning', 'Setting the TLS ServerName to an IP address', 'DEP0123'),
    );
    source.emit('warning', warning('DeprecationWarning', 'Buffer() is deprecated', 'DEP0005'));
    source.emit('warning', warning('MaxListenersExceededWarning', 'Possible leak'));

    expect(printedByDefault).to.deep.equal([]);
    expect(lines).to.deep.equal([
      '(node:42) [DEP0005] DeprecationWarning: Buffer() is deprecated\n',
      '(node:42) MaxListenersExceededWarning: Possible leak\n',
    ]);
  });
});

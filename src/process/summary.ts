import type { ConfigError } from '../errors.js';
import type { ResourceResult } from './process-resource.js';

/** One line that tells an operator (or a CI log) what a pass did. */
export function summarize(results: readonly ResourceResult[], loadFailures: readonly ConfigError[]): string {
  const count = (status: ResourceResult['status']) => results.filter((r) => r.status === status).length;
  const failed = count('failed') + loadFailures.length;
  const total = results.length + loadFailures.length;
  const parts = [`${count('updated')} updated`, `${count('in-sync')} in sync`];
  if (results.some((r) => r.status === 'would-update')) parts.push(`${count('would-update')} would change`);
  parts.push(`${failed} failed`);
  return `${total} resource${total === 1 ? '' : 's'}: ${parts.join(', ')}`;
}

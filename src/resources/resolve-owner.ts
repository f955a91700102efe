import { readFile } from '../fs-async.js';
import { promisify } from 'node:util';

export interface AccountFiles {
  passwd: string;
  group: string;
}

export const SYSTEM_ACCOUNT_FILES: Readonly<AccountFiles> = { passwd: '/etc/passwd', group: '/etc/group' };

/** uid of user `name`, undefined when no such user. */
export function lookupUid(
  name: string,
  files: AccountFiles = SYSTEM_ACCOUNT_FILES,
): Promise<number | undefined> {
  return lookupId('passwd', name, files.passwd);
}

/** gid of group `name`, undefined when no such group. */
export function lookupGid(
  name: string,
  files: AccountFiles = SYSTEM_ACCOUNT_FILES,
): Promise<number | undefined> {
  return lookupId('group', name, files.group);
}

/**
 * The local file answers most lookups without spawning anything; getent covers accounts that live in
 * LDAP/SSSD/NIS via NSS, which the files do not show.
 */
async function lookupId(
  database: 'passwd' | 'group',
  name: string,
  file: string,
): Promise<number | undefined> {
  const local = idFromEntries(await readOptional(file), name);
  if (local !== undefined) return local;
  return idFromEntries(await getent(database, name), name);
}

/** Both /etc/passwd and /etc/group hold `name:password:id:...`. */
function idFromEntries(text: string, name: string): number | undefined {
  for (const line of text.split('\n')) {
    const fields = line.split(':');
    if (fields[0] !== name || fields[2] === undefined || !/^\d+$/.test(fields[2])) continue;
    return Number(fields[2]);
  }
  return undefined;
}

async function readOptional(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch {
    return '';
  }
}

async function getent(database: string, name: string): Promise<string> {
  // node:child_process costs a few ms to load; most runs never get here (no owner, or one in the files).
  const { execFile } = await import('node:child_process');
  try {
    const { stdout } = await promisify(execFile)('getent', [database, name], { timeout: 5000 });
    return stdout;
  } catch {
    // Exit 2 means "not found"; a missing getent binary means there is nothing beyond the files to ask.
    return '';
  }
}

import type { WaitWindow } from '../config/wait-window.js';
import type { TemplateEngine } from '../template/engine.js';

/** One `[template]` table from conf.d, validated and resolved against the settings. */
export interface TemplateResource {
  /** Absolute path of the TOML file it came from (for error messages). */
  file: string;
  /** Absolute path of the template: `<confdir>/templates/<src>`. */
  src: string;
  /** Absolute path of the destination file. */
  dest: string;
  /** Global and resource prefix joined and path-cleaned, e.g. "/global/resource"; "/" when none. */
  prefix: string;
  /** Keys as written in the resource, cleaned; relative to `prefix`. */
  keys: string[];
  /** File mode bits; undefined = keep the existing dest's mode, else 0o644. */
  mode?: number;
  uid?: number;
  gid?: number;
  checkCmd?: string;
  reloadCmd?: string;
  checkCmdTimeoutMs: number;
  reloadCmdTimeoutMs: number;
  /** Watch mode: this resource's debounce window, overriding -wait; undefined = follow -wait. */
  wait?: WaitWindow;
  /** The `engine` key; undefined = -template-engine, else by src's name (.hbs Handlebars, else Go). */
  engine?: TemplateEngine;
  /** `backup = N`: keep dest.bak.1 (newest) .. dest.bak.N beside dest. */
  backup?: number;
  /** `rollback = true`: a failed reload or verify restores the previous file and reloads again. */
  rollback?: boolean;
  /** `[template.guard]`: renders refused before anything is written. */
  guard?: GuardRules;
  /** `[template.reload]`: a native reload (no shell), instead of reload_cmd. */
  nativeReload?: NativeReload;
  /** `[template.verify]`: proof after the reload that the consumer took the new file. */
  verify?: VerifyStep;
}

export interface GuardRules {
  /** A render that is empty or only whitespace is refused. */
  refuseEmpty: boolean;
  /** Store keys (prefix joined) that must exist; a key with keys under it counts as existing. */
  requiredKeys: string[];
  /** Largest shrink allowed against the current dest's size, as a fraction (0.5 for "50%"). */
  maxShrink?: number;
}

export type NativeReload =
  | { kind: 'http'; method: string; url: string; timeoutMs: number }
  | { kind: 'signal'; signal: NodeJS.Signals; pidFile: string; timeoutMs: number };

export type VerifyStep =
  | { kind: 'http'; method: string; url: string; jsonField?: string; timeoutMs: number }
  | { kind: 'cmd'; command: string; timeoutMs: number };

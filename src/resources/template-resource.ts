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
}

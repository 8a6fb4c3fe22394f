/**
 * Errors a user can act on. The CLI prints `r2s: <message>` on one line and exits non-zero,
 * never a stack trace. Always name the file involved and the fix where there is one.
 */
export class UserError extends Error {
  readonly file?: string;
  readonly fix?: string;
  constructor(message: string, opts: { file?: string; fix?: string; cause?: unknown } = {}) {
    super(message, opts.cause !== undefined ? { cause: opts.cause } : undefined);
    this.name = 'UserError';
    this.file = opts.file;
    this.fix = opts.fix;
  }

  /** The one line the CLI prints. */
  oneLine(): string {
    const where = this.file && !this.message.includes(this.file) ? `${this.file}: ` : '';
    const fix = this.fix ? ` (fix: ${this.fix})` : '';
    return `${where}${this.message}${fix}`.replace(/\s*\n\s*/g, ' ');
  }
}

export function isUserError(e: unknown): e is UserError {
  return e instanceof UserError;
}

/** Message of any thrown value, without a stack. */
export function errorMessage(e: unknown): string {
  if (e instanceof UserError) return e.oneLine();
  if (e instanceof Error) return e.message.split('\n')[0] ?? String(e);
  return String(e);
}

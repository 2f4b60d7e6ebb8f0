/** The Sandbox's refusals, answered as JSON `{ error, error_description }` by its API plugin. */

/** An OAuth or API error answered as JSON `{ error, error_description }`. */
export class SandboxError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly description?: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(description ?? error)
    this.name = 'SandboxError'
  }
}

export type Outcome<T> = { ok: true; value: T } | { ok: false; error: SandboxError }
export const invalidGrant = (description: string): Outcome<never> => ({ ok: false, error: new SandboxError(400, 'invalid_grant', description) })
export const badRequest = (description: string) => new SandboxError(400, 'invalid_request', description)

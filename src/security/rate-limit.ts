/**
 * Counts failures per key in a fixed window. Used for sign-in per account and per address; in memory,
 * because one process serves the installation and a restart clearing the counters is harmless.
 */
export class FailureLimiter {
  private readonly entries = new Map<string, { count: number; resetAt: number }>()

  constructor(
    private readonly maxFailures: number,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Milliseconds until the key may try again, or 0 when it may try now. */
  retryAfter(key: string): number {
    const entry = this.entries.get(key)
    if (!entry) return 0
    const now = this.now()
    if (entry.resetAt <= now) {
      this.entries.delete(key)
      return 0
    }
    return entry.count >= this.maxFailures ? entry.resetAt - now : 0
  }

  fail(key: string): void {
    const now = this.now()
    const entry = this.entries.get(key)
    if (!entry || entry.resetAt <= now) this.entries.set(key, { count: 1, resetAt: now + this.windowMs })
    else entry.count++
    if (this.entries.size > 100_000) this.sweep()
  }

  clear(key: string): void {
    this.entries.delete(key)
  }

  private sweep(): void {
    const now = this.now()
    for (const [key, entry] of this.entries) if (entry.resetAt <= now) this.entries.delete(key)
  }
}

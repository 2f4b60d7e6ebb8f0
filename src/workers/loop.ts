import type { Log } from '../log.js'

/** The timer functions a loop uses: the real ones, or a fake clock's in unit tests. */
export interface Timers {
  setInterval(callback: () => void, ms: number): unknown
  clearInterval(handle: unknown): void
}

const realTimers: Timers = {
  setInterval: (callback, ms) => setInterval(callback, ms).unref(),
  clearInterval: (handle) => clearInterval(handle as NodeJS.Timeout),
}

export interface WorkerLoopOptions {
  /** Said in the log when a round fails ("meeting worker", "mail worker"). */
  name: string
  /** One round: does the work that is due and says how many items it handled. */
  runDue: () => Promise<number>
  log: Log
  now?: () => number
  timers?: Timers
}

/**
 * The background loop the meeting and mail workers share: every interval one round of `runDue`, never two at
 * once (a round still running when the timer fires is let finish); a failing round is logged and the loop goes
 * on; stop() takes no new round and waits for the one running.
 */
export function createWorkerLoop(options: WorkerLoopOptions) {
  const { log, runDue } = options
  const now = options.now ?? Date.now
  const timers = options.timers ?? realTimers
  let timer: unknown = null
  let running: Promise<void> | null = null
  let lastRound = 0

  function round(): void {
    if (running) return
    lastRound = now()
    running = runDue()
      .then(() => undefined)
      .catch((error: unknown) => log.error({ err: error }, `${options.name} failed`))
      .finally(() => (running = null))
  }

  return {
    start(intervalMs = 2_000): void {
      if (timer !== null) return
      lastRound = now()
      timer = timers.setInterval(round, intervalMs)
    },
    /** Started, and a round is running or began within `maxIdleMs` (for /readyz). */
    healthy(maxIdleMs = 60_000): boolean {
      return timer !== null && (running !== null || now() - lastRound < maxIdleMs)
    },
    get started(): boolean {
      return timer !== null
    },
    async stop(): Promise<void> {
      if (timer !== null) timers.clearInterval(timer)
      timer = null
      await running
    },
  }
}

export type WorkerLoop = ReturnType<typeof createWorkerLoop>

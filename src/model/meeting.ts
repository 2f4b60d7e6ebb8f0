/**
 * What a video meeting is, in words shared by providers, storage, mail and pages: a neutral home, so storage
 * need not import provider modules and providers need not import storage.
 */

/** Where a meeting stands at its provider: link pending, ready, waiting for the user's reconnection, failed or deleted. */
export type MeetingState = 'pending' | 'ready' | 'needs_reconnect' | 'failed' | 'deleted'

export interface DialIn {
  number: string
  label?: string
  /** PIN / conference id to type after dialling. */
  pin?: string
}

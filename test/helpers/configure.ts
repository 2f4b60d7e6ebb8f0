import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import type { Client } from './app.js'

export const CONFIGURE = '/settings/video-meetings/configure'

/**
 * Starts "Choose <provider>" as the signed-in admin and follows the provider's authorize redirect with a real
 * HTTP request (the fakes auto-consent), returning the callback path the browser would be sent back to.
 */
export async function startAtProvider(admin: Client, provider: string): Promise<{ start: LightMyRequestResponse; authorizeUrl: URL; callback: string | null; providerStatus: number }> {
  await admin.get(CONFIGURE)
  const start = await admin.post(`${CONFIGURE}/${provider}`)
  if (start.statusCode !== 303) throw new Error(`choosing ${provider} answered ${start.statusCode}: ${start.body.slice(0, 300)}`)
  const authorizeUrl = new URL(String(start.headers.location))
  const res = await fetch(authorizeUrl, { redirect: 'manual' })
  const location = res.headers.get('location')
  if (!location) return { start, authorizeUrl, callback: null, providerStatus: res.status }
  const back = new URL(location)
  return { start, authorizeUrl, callback: back.pathname + back.search, providerStatus: res.status }
}

/** The whole Configure flow through a fake; returns the final configure page. */
export async function connectThroughFake(app: FastifyInstance, admin: Client, provider: string): Promise<LightMyRequestResponse> {
  const { callback } = await startAtProvider(admin, provider)
  if (!callback) throw new Error('the provider did not redirect back')
  const res = await admin.get(callback)
  if (res.statusCode !== 303) throw new Error(`callback answered ${res.statusCode}`)
  return admin.get(String(res.headers.location))
}

/**
 * The Sandbox provider's adapter: the app's side of the test provider built into Video Meetings
 * (src/sandbox/plugin.ts). It talks to the sandbox over HTTP like to any other provider, so the whole
 * connect / create / update / delete path is exercised for real.
 */
import {
  ProviderError,
  type ApiClient,
  type BuiltInRegistration,
  type Identity,
  type MeetingInput,
  type MeetingRef,
  type ProviderAdapter,
  type ProviderSettings,
} from '../providers/contract.js'
import { readSandboxSettings, sandboxSettings } from './settings.js'
import { SANDBOX_PROVIDER_TEXT } from './text.js'

interface SandboxMeeting {
  id: string
  joinUrl: string
  passcode?: string
  dialIn?: { number: string; pin?: string }[]
}

function toRef(body: unknown): MeetingRef {
  const meeting = body as Partial<SandboxMeeting> | null
  if (!meeting || typeof meeting.id !== 'string' || typeof meeting.joinUrl !== 'string') {
    throw new ProviderError('retry', 'the sandbox answered without a meeting id and join link', {}, { code: 'incomplete_answer', provider: 'Sandbox' })
  }
  return {
    externalId: meeting.id,
    joinUrl: meeting.joinUrl,
    ...(typeof meeting.passcode === 'string' && { passcode: meeting.passcode }),
    ...(Array.isArray(meeting.dialIn) && {
      dialIn: meeting.dialIn.filter((d) => d && typeof d.number === 'string').map((d) => ({ number: d.number, ...(typeof d.pin === 'string' && { pin: d.pin }) })),
    }),
  }
}

function meetingBody(input: MeetingInput, stored: ProviderSettings) {
  const settings = readSandboxSettings(stored)
  return {
    title: input.title,
    start: input.start.toISOString(),
    end: input.end.toISOString(),
    timeZone: input.timeZone,
    ...(settings.passcode && { passcode: settings.passcode }),
    waitingRoom: settings.waitingRoom,
  }
}

const meetingPath = (ref: MeetingRef) => `meetings/${encodeURIComponent(ref.externalId)}`

/**
 * `issuer` is the sandbox's RFC 9207 issuer: sandboxIssuer(config.baseUrl), i.e. `${baseUrl}/sandbox`;
 * `registration` its built-in client and endpoints (absent in tests that only read the adapter).
 */
export function createSandboxProvider(issuer: string, registration?: BuiltInRegistration): ProviderAdapter & { id: 'sandbox' } {
  return {
    id: 'sandbox',
    name: 'Sandbox',
    note: SANDBOX_PROVIDER_TEXT.note,
    badge: SANDBOX_PROVIDER_TEXT.badge,
    oauth: {
      scopes: ['profile', 'meetings'],
      requiredScopes: ['profile', 'meetings'],
      clientAuth: 'body',
      issuer: () => issuer,
      consoleUrl: '',
      registrationHelp: SANDBOX_PROVIDER_TEXT.registrationHelp,
      ...(registration && { builtIn: registration }),
    },
    settings: sandboxSettings,
    async identity(api: ApiClient, endpoints): Promise<Identity> {
      const { body } = await api.request<{ id?: unknown; name?: unknown; email?: unknown }>('GET', endpoints.userinfoUrl)
      if (!body || typeof body.id !== 'string' || !body.id) throw new ProviderError('retry', 'the sandbox answered without an account id', {}, { code: 'incomplete_answer', provider: 'Sandbox' })
      const email = typeof body.email === 'string' && body.email ? body.email : undefined
      const name = typeof body.name === 'string' && body.name ? body.name : (email ?? body.id)
      return { accountId: body.id, name, ...(email && { email }) }
    },
    meetings: {
      async create(api, input, settings) {
        const { body } = await api.request('POST', 'meetings', { ...meetingBody(input, settings), requestId: input.requestId })
        return toRef(body)
      },
      async update(api, ref, input, settings) {
        const { body } = await api.request('PATCH', meetingPath(ref), meetingBody(input, settings))
        return toRef(body)
      },
      async delete(api, ref) {
        try {
          await api.request('DELETE', meetingPath(ref))
        } catch (error) {
          if (error instanceof ProviderError && error.kind === 'not_found') return
          throw error
        }
      },
    },
  }
}

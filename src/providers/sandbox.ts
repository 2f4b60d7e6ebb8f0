/**
 * The Sandbox provider's adapter: the app's side of the test provider built into Video Meetings
 * (src/sandbox/server.ts). It talks to the sandbox over HTTP like to any other provider, so the whole
 * connect / create / update / delete path is exercised for real.
 */
import type { Language } from '../i18n/languages.js'
import {
  ProviderError,
  type ApiClient,
  type Identity,
  type MeetingInput,
  type MeetingRef,
  type ProviderAdapter,
  type ProviderSettings,
} from './contract.js'
import { randomPasscode } from './settings-helpers.js'

const PASSCODE = /^[A-Za-z0-9]{6,10}$/

const messages: Record<Language, { passcodeRequired: string; passcodeFormat: string }> = {
  en: {
    passcodeRequired: 'Enter a passcode.',
    passcodeFormat: 'Use 6 to 10 letters or digits, without spaces.',
  },
  nl: {
    passcodeRequired: 'Vul een toegangscode in.',
    passcodeFormat: 'Gebruik 6 tot 10 letters of cijfers, zonder spaties.',
  },
}

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

function meetingBody(input: MeetingInput, settings: ProviderSettings) {
  return {
    title: input.title,
    start: input.start.toISOString(),
    end: input.end.toISOString(),
    timeZone: input.timeZone,
    ...(typeof settings.passcode === 'string' && settings.passcode && { passcode: settings.passcode }),
    waitingRoom: settings.waitingRoom === true,
  }
}

const meetingPath = (ref: MeetingRef) => `meetings/${encodeURIComponent(ref.externalId)}`

/** `issuer` is the sandbox's RFC 9207 issuer: sandboxIssuer(config.baseUrl), i.e. `${baseUrl}/sandbox`. */
export function createSandboxProvider(issuer: string): ProviderAdapter {
  return {
    id: 'sandbox',
    name: 'Sandbox',
    note: {
      en: 'A test provider built into Video Meetings: try the whole flow without an account anywhere. No real meetings are created.',
      nl: 'Een testprovider die in Video Meetings is ingebouwd: probeer alles uit zonder ergens een account. Er worden geen echte vergaderingen gemaakt.',
    },
    oauth: {
      envPrefix: 'SANDBOX',
      scopes: ['profile', 'meetings'],
      requiredScopes: ['profile', 'meetings'],
      clientAuth: 'body',
      issuer: () => issuer,
      consoleUrl: '',
      registrationHelp: {
        en: 'No registration is needed: the Sandbox is built into Video Meetings and knows the app already.',
        nl: 'Registreren is niet nodig: de Sandbox is in Video Meetings ingebouwd en kent de app al.',
      },
    },
    settings: {
      fields: [
        {
          name: 'passcode',
          type: 'text',
          label: { en: 'Meeting passcode', nl: 'Toegangscode voor vergaderingen' },
          hint: { en: '6 to 10 letters or digits.', nl: '6 tot 10 letters of cijfers.' },
          required: true,
          maxLength: 10,
        },
        {
          name: 'waitingRoom',
          type: 'checkbox',
          label: { en: 'Waiting room: the host lets attendees in', nl: 'Wachtruimte: de organisator laat deelnemers binnen' },
        },
      ],
      defaults: () => ({ passcode: randomPasscode(8), waitingRoom: false }),
      parse(form, language) {
        const m = messages[language] ?? messages.en
        const errors: Record<string, string> = {}
        const passcode = (form.passcode ?? '').trim()
        if (!passcode) errors.passcode = m.passcodeRequired
        else if (!PASSCODE.test(passcode)) errors.passcode = m.passcodeFormat
        const waitingRoom = form.waitingRoom === 'true' || form.waitingRoom === 'on'
        return { settings: { passcode, waitingRoom }, errors }
      },
    },
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

import type { ProviderModule } from '../contract.js'
import { createJitsiProvider } from './adapter.js'

/** No sign-in, no cloud endpoints: rooms on the server JITSI_URL names (or the one the admin sets). */
export const jitsi: ProviderModule<'jitsi'> = { id: 'jitsi', create: ({ jitsiUrl }) => createJitsiProvider(jitsiUrl) }

import type { ProviderModule } from '../contract.js'
import { webexProvider } from './adapter.js'
import { webexCloud } from './endpoints.js'

export const webex: ProviderModule<'webex'> = { id: 'webex', cloud: webexCloud, create: () => webexProvider }

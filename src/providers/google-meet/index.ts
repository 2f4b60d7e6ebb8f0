import type { ProviderModule } from '../contract.js'
import { googleMeetProvider } from './adapter.js'
import { googleCloud } from './endpoints.js'

export const googleMeet: ProviderModule<'google-meet'> = { id: 'google-meet', cloud: googleCloud, create: () => googleMeetProvider }

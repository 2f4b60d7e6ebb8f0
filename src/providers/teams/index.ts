import type { ProviderModule } from '../contract.js'
import { teamsProvider } from './adapter.js'
import { teamsCloud } from './endpoints.js'

export const teams: ProviderModule<'teams'> = { id: 'teams', cloud: teamsCloud, create: () => teamsProvider }

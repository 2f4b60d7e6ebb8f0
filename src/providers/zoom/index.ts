import type { ProviderModule } from '../contract.js'
import { zoomProvider } from './adapter.js'
import { zoomCloud } from './endpoints.js'

export const zoom: ProviderModule<'zoom'> = { id: 'zoom', cloud: zoomCloud, create: () => zoomProvider }

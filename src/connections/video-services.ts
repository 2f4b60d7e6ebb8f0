/**
 * The connection services as the app hands them around: the four services by name, and, for the meeting worker,
 * the mailer and the pages that only name providers, the three reads they need (adapter, API client, the
 * organization's provider).
 */
import type { ApiClient, ProviderAdapter } from '../providers/contract.js'
import type { AppRegistrations } from './app-registrations.js'
import type { Authorization } from './authorization.js'
import type { CurrentOrganizationProvider, OrganizationProviderService } from './organization-provider.js'
import type { UserConnectionRemoval } from './user-connection-removal.js'

export interface VideoAccess {
  adapter(id: string): ProviderAdapter | undefined
  api(id: string, accessToken: string): ApiClient
  organization(): CurrentOrganizationProvider | null
}

export interface VideoServices extends VideoAccess {
  registrations: AppRegistrations
  authorization: Authorization
  organizationProvider: OrganizationProviderService
  connectionRemoval: UserConnectionRemoval
}

export function videoServices(services: Omit<VideoServices, keyof VideoAccess>): VideoServices {
  const { registrations, organizationProvider } = services
  return { ...services, adapter: registrations.adapter, api: registrations.api, organization: organizationProvider.current }
}

/** The Sandbox's storage: accounts, authorization codes, token families (hashes only) and meetings. */
import type { Db } from '../db/database.js'
import { invalidGrant, SandboxError, type Outcome } from './errors.js'
import { columns, type MeetingFields, type MeetingRow } from './meetings.js'
import { pkceMatches, randomToken, sha256 } from './secrets.js'

const CODE_TTL_MS = 60_000
const ACCESS_TOKEN_TTL_SECONDS = 3600
const REFRESH_TOKEN_TTL_MS = 90 * 24 * 3600 * 1000

interface CodeRow {
  client_id: string
  redirect_uri: string
  code_challenge: string
  scope: string
  account_id: string
  expires_at: number
  used_at: number | null
  family_id: string | null
}

interface TokenRow {
  token_hash: string
  kind: 'access' | 'refresh'
  family_id: string
  client_id: string
  account_id: string
  scope: string
  expires_at: number
  revoked_at: number | null
  replaced_by: string | null
}

export interface AccountRow {
  id: string
  email: string
  name: string
}

export interface TokenResponse {
  access_token: string
  token_type: 'Bearer'
  expires_in: number
  refresh_token: string
  scope: string
}

export function createSandboxStore(db: Db, now: () => number) {
  const statements = {
    accountByEmail: db.prepare<[string], AccountRow>('SELECT id, email, name FROM sandbox_accounts WHERE email = ?'),
    accountById: db.prepare<[string], AccountRow>('SELECT id, email, name FROM sandbox_accounts WHERE id = ?'),
    insertAccount: db.prepare('INSERT INTO sandbox_accounts (id, email, name, created_at) VALUES (?, ?, ?, ?)'),
    renameAccount: db.prepare('UPDATE sandbox_accounts SET name = ? WHERE id = ?'),
    insertCode: db.prepare(
      'INSERT INTO sandbox_authorization_codes (code_hash, client_id, redirect_uri, code_challenge, scope, account_id, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
    ),
    sweepCodes: db.prepare('DELETE FROM sandbox_authorization_codes WHERE expires_at < ?'),
    codeByHash: db.prepare<[string], CodeRow>(
      'SELECT client_id, redirect_uri, code_challenge, scope, account_id, expires_at, used_at, family_id FROM sandbox_authorization_codes WHERE code_hash = ?',
    ),
    useCode: db.prepare('UPDATE sandbox_authorization_codes SET used_at = ?, family_id = ? WHERE code_hash = ?'),
    insertToken: db.prepare(
      'INSERT INTO sandbox_tokens (token_hash, kind, family_id, client_id, account_id, scope, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    ),
    sweepTokens: db.prepare('DELETE FROM sandbox_tokens WHERE expires_at < ?'),
    tokenByHash: db.prepare<[string], TokenRow>(
      'SELECT token_hash, kind, family_id, client_id, account_id, scope, expires_at, revoked_at, replaced_by FROM sandbox_tokens WHERE token_hash = ?',
    ),
    rotateToken: db.prepare('UPDATE sandbox_tokens SET revoked_at = ?, replaced_by = ? WHERE token_hash = ?'),
    revokeToken: db.prepare('UPDATE sandbox_tokens SET revoked_at = COALESCE(revoked_at, ?) WHERE token_hash = ?'),
    revokeFamily: db.prepare('UPDATE sandbox_tokens SET revoked_at = COALESCE(revoked_at, ?) WHERE family_id = ?'),
    meetingById: db.prepare<[string], MeetingRow>('SELECT * FROM sandbox_meetings WHERE id = ?'),
    meetingByRequest: db.prepare<[string, string], MeetingRow>('SELECT * FROM sandbox_meetings WHERE account_id = ? AND request_id = ?'),
    insertMeeting: db.prepare(
      `INSERT INTO sandbox_meetings (id, account_id, request_id, title, start_at, end_at, time_zone, passcode, waiting_room, join_url, created_at, updated_at)
       VALUES (@id, @account_id, @request_id, @title, @start_at, @end_at, @time_zone, @passcode, @waiting_room, @join_url, @now, @now)`,
    ),
    updateMeeting: db.prepare(
      `UPDATE sandbox_meetings SET title = @title, start_at = @start_at, end_at = @end_at, time_zone = @time_zone, passcode = @passcode,
       waiting_room = @waiting_room, updated_at = @now WHERE id = @id AND deleted_at IS NULL`,
    ),
    deleteMeeting: db.prepare('UPDATE sandbox_meetings SET deleted_at = ?, updated_at = ? WHERE id = ? AND deleted_at IS NULL'),
  }

  /** A new access + refresh token pair in a family; only their hashes are stored. */
  function issueTokens(familyId: string, clientId: string, accountId: string, scope: string): { response: TokenResponse; refreshHash: string } {
    const t = now()
    const accessToken = `sbx_at_${randomToken()}`
    const refreshToken = `sbx_rt_${randomToken()}`
    const refreshHash = sha256(refreshToken)
    statements.sweepTokens.run(t - 24 * 3600 * 1000)
    statements.insertToken.run(sha256(accessToken), 'access', familyId, clientId, accountId, scope, t, t + ACCESS_TOKEN_TTL_SECONDS * 1000)
    statements.insertToken.run(refreshHash, 'refresh', familyId, clientId, accountId, scope, t, t + REFRESH_TOKEN_TTL_MS)
    return {
      refreshHash,
      response: { access_token: accessToken, token_type: 'Bearer', expires_in: ACCESS_TOKEN_TTL_SECONDS, refresh_token: refreshToken, scope },
    }
  }

  return {
    /** The account for this email, created on first use; the display name follows what was typed last. */
    signIn(email: string, name: string): AccountRow {
      return db.transaction(() => {
        const existing = statements.accountByEmail.get(email)
        if (existing) {
          if (existing.name !== name) statements.renameAccount.run(name, existing.id)
          return { ...existing, name }
        }
        const account = { id: randomToken(16), email, name }
        statements.insertAccount.run(account.id, email, name, now())
        return account
      }).immediate()
    },

    account(id: string): AccountRow | undefined {
      return statements.accountById.get(id)
    },

    issueCode(grant: { clientId: string; redirectUri: string; codeChallenge: string; scope: string; accountId: string }): string {
      const code = randomToken()
      const t = now()
      statements.sweepCodes.run(t - 3600 * 1000)
      statements.insertCode.run(sha256(code), grant.clientId, grant.redirectUri, grant.codeChallenge, grant.scope, grant.accountId, t + CODE_TTL_MS)
      return code
    },

    /** Single use: a second redemption fails and revokes every token the first one produced. */
    redeemCode(code: string, request: { clientId: string; redirectUri: string | undefined; verifier: string }): Outcome<TokenResponse> {
      const codeHash = sha256(code)
      return db.transaction((): Outcome<TokenResponse> => {
        const t = now()
        const row = statements.codeByHash.get(codeHash)
        if (!row) return invalidGrant('the authorization code is not valid')
        if (row.used_at !== null) {
          if (row.family_id) statements.revokeFamily.run(t, row.family_id)
          return invalidGrant('the authorization code was already used; the tokens issued for it are revoked')
        }
        if (row.expires_at <= t) return invalidGrant('the authorization code has expired')
        if (row.client_id !== request.clientId) return invalidGrant('the authorization code was issued to another client')
        if (row.redirect_uri !== request.redirectUri) return invalidGrant('redirect_uri does not match the authorization request')
        // A wrong verifier does not use up the code: the legitimate client can still redeem it.
        if (!pkceMatches(request.verifier, row.code_challenge)) return invalidGrant('code_verifier does not match the code_challenge')
        const familyId = randomToken(16)
        statements.useCode.run(t, familyId, codeHash)
        return { ok: true, value: issueTokens(familyId, row.client_id, row.account_id, row.scope).response }
      }).immediate()
    },

    /** Rotation: the old refresh token dies at once; presenting a rotated one again revokes the family. */
    refresh(refreshToken: string, request: { clientId: string; scope: string[] | null }): Outcome<TokenResponse> {
      const tokenHash = sha256(refreshToken)
      return db.transaction((): Outcome<TokenResponse> => {
        const t = now()
        const row = statements.tokenByHash.get(tokenHash)
        if (!row || row.kind !== 'refresh') return invalidGrant('the refresh token is not valid')
        if (row.client_id !== request.clientId) return invalidGrant('the refresh token was issued to another client')
        if (row.revoked_at !== null) {
          if (row.replaced_by !== null) {
            statements.revokeFamily.run(t, row.family_id)
            return invalidGrant('the refresh token was already used; every token of this grant is now revoked')
          }
          return invalidGrant('the refresh token has been revoked')
        }
        if (row.expires_at <= t) return invalidGrant('the refresh token has expired')
        const granted = row.scope.split(' ')
        if (request.scope && !request.scope.every((s) => granted.includes(s))) {
          return { ok: false, error: new SandboxError(400, 'invalid_scope', 'the requested scope exceeds the original grant') }
        }
        const scope = request.scope ? granted.filter((s) => request.scope!.includes(s)).join(' ') : row.scope
        const issued = issueTokens(row.family_id, row.client_id, row.account_id, scope)
        statements.rotateToken.run(t, issued.refreshHash, tokenHash)
        return { ok: true, value: issued.response }
      }).immediate()
    },

    /** RFC 7009: a refresh token takes its whole grant with it; an access token goes alone. */
    revoke(token: string, clientId: string): void {
      const row = statements.tokenByHash.get(sha256(token))
      if (!row || row.client_id !== clientId) return
      if (row.kind === 'refresh') statements.revokeFamily.run(now(), row.family_id)
      else statements.revokeToken.run(now(), row.token_hash)
    },

    /** The live access token's grant, or undefined. */
    accessGrant(accessToken: string): { accountId: string; scope: string[] } | undefined {
      const row = statements.tokenByHash.get(sha256(accessToken))
      if (!row || row.kind !== 'access' || row.revoked_at !== null || row.expires_at <= now()) return undefined
      return { accountId: row.account_id, scope: row.scope.split(' ') }
    },

    /** A live meeting, of the given account when one is named. */
    meeting(id: string, accountId?: string): MeetingRow | undefined {
      const row = statements.meetingById.get(id)
      if (!row || row.deleted_at !== null || (accountId !== undefined && row.account_id !== accountId)) return undefined
      return row
    },

    createMeeting(accountId: string, fields: MeetingFields, requestId: string | null, joinUrl: (id: string) => string): { created: boolean; row: MeetingRow } | 'conflict' {
      return db.transaction(() => {
        if (requestId !== null) {
          const existing = statements.meetingByRequest.get(accountId, requestId)
          if (existing) return existing.deleted_at === null ? { created: false, row: existing } : ('conflict' as const)
        }
        const id = randomToken(16)
        statements.insertMeeting.run({ id, account_id: accountId, request_id: requestId, ...columns(fields), join_url: joinUrl(id), now: now() })
        return { created: true, row: statements.meetingById.get(id)! }
      }).immediate()
    },

    updateMeeting(id: string, fields: MeetingFields): MeetingRow | undefined {
      statements.updateMeeting.run({ id, ...columns(fields), now: now() })
      return statements.meetingById.get(id)
    },

    deleteMeeting(id: string): void {
      statements.deleteMeeting.run(now(), now(), id)
    },
  }
}

export type SandboxStore = ReturnType<typeof createSandboxStore>

import fs from 'node:fs'
import path from 'node:path'
import { bool, ConfigError, httpUrl, int, oneOf, str, type Env } from './env.js'
import { loadProvidersConfig, type ProvidersConfig } from './providers/endpoints.js'

export { ConfigError }

const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'

export interface Config {
  port: number
  host: string
  /** The public URL of the app, without a trailing slash; OAuth redirect URIs are built from it. */
  baseUrl: string
  /** Derived from baseUrl: cookies are Secure and HSTS is sent only under https. */
  isHttps: boolean
  dataDir: string
  /** Optional: when absent a random key is created once in dataDir (mode 0600) and reused. */
  secretKey: string | undefined
  logLevel: LogLevel
  logFormat: 'json' | 'pretty'
  production: boolean
  /** Trust X-Forwarded-* from a reverse proxy (off by default). */
  trustProxy: boolean
  /** Cache compiled templates (on unless NODE_ENV=development, so edits show without a restart). */
  cacheTemplates: boolean
  sessionTtlSeconds: number
  /** Time limit for each step of talking to a mail server (connect, greeting, each command). */
  smtpTimeoutMs: number
  /** Video meeting providers: endpoints, environment client credentials, sandbox, Jitsi. */
  providers: ProvidersConfig
}

const CONFIG_LINE = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/

/**
 * Reads a `--config` file: the same keys as the environment, one `KEY=VALUE` a line (the format of systemd's
 * EnvironmentFile and of .env files). Blank lines and lines starting with # are skipped; `export ` before a
 * key is allowed; a value may be wrapped in single or double quotes (kept literally, no escapes).
 */
export function readConfigFile(file: string): Env {
  let text: string
  try {
    text = fs.readFileSync(file, 'utf8')
  } catch (error) {
    throw new ConfigError('--config', `cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? String(error)})`)
  }
  const values: Env = {}
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim()
    if (line === '' || line.startsWith('#')) return
    const match = CONFIG_LINE.exec(line)
    if (!match) throw new ConfigError('--config', `${file} line ${index + 1}: expected KEY=VALUE`)
    let value = match[2]!
    const quoted = /^(['"])(.*)\1$/.exec(value)
    if (quoted) value = quoted[2]!
    values[match[1]!] = value
  })
  return values
}

/** The environment with a config file's values below it: a variable set in the environment wins, even when empty. */
export function withConfigFile(env: Env, file: string | undefined): Env {
  return file === undefined ? env : { ...readConfigFile(file), ...env }
}

/** Reads and validates the whole configuration once; every error names the variable at fault. */
export function loadConfig(env: Env = process.env): Config {
  const production = str(env, 'NODE_ENV') === 'production'
  const port = int(env, 'PORT', 3000, 0, 65535)
  const host = str(env, 'HOST') ?? '127.0.0.1'

  const base = httpUrl('BASE_URL', str(env, 'BASE_URL') ?? `http://${host.includes(':') ? `[${host}]` : host}:${port}`)
  if (base.search || base.hash) throw new ConfigError('BASE_URL', 'must not contain a query or fragment')
  const baseUrl = base.href.replace(/\/+$/, '')

  const secretKey = str(env, 'SECRET_KEY')
  if (secretKey !== undefined && secretKey.length < 32) {
    throw new ConfigError('SECRET_KEY', 'must be at least 32 characters (e.g. `openssl rand -base64 48`)')
  }

  const internalHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host
  const providers = loadProvidersConfig(env, { internalUrl: `http://${internalHost}:${port}`, production })

  return {
    providers,
    port,
    host,
    baseUrl,
    isHttps: base.protocol === 'https:',
    dataDir: path.resolve(str(env, 'DATA_DIR') ?? './data'),
    secretKey,
    logLevel: oneOf(env, 'LOG_LEVEL', LOG_LEVELS, 'info'),
    logFormat: oneOf(env, 'LOG_FORMAT', ['json', 'pretty'] as const, 'json'),
    production,
    trustProxy: bool(env, 'TRUST_PROXY', false),
    cacheTemplates: bool(env, 'CACHE_TEMPLATES', str(env, 'NODE_ENV') !== 'development'),
    sessionTtlSeconds: int(env, 'SESSION_TTL_SECONDS', 8 * 3600, 300, 90 * 24 * 3600),
    smtpTimeoutMs: int(env, 'SMTP_TIMEOUT_MS', 10_000, 100, 120_000),
  }
}

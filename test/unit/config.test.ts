import t from 'tap'
import { ConfigError, loadConfig } from '../../src/config.js'

t.test('defaults give a working local install', async (t) => {
  const config = loadConfig({})
  t.equal(config.port, 3000)
  t.equal(config.host, '127.0.0.1')
  t.equal(config.baseUrl, 'http://127.0.0.1:3000')
  t.equal(config.isHttps, false)
  t.match(config.dataDir, /\/data$/)
  t.equal(config.secretKey, undefined)
  t.equal(config.logLevel, 'info')
})

t.test('an https BASE_URL makes cookies secure and trailing slashes are dropped', async (t) => {
  const config = loadConfig({ BASE_URL: 'https://meet.example.org/' })
  t.equal(config.baseUrl, 'https://meet.example.org')
  t.equal(config.isHttps, true)
})

t.test('every bad variable is named in a clear message', async (t) => {
  const cases: [Record<string, string>, string, RegExp][] = [
    [{ PORT: 'abc' }, 'PORT', /whole number/],
    [{ PORT: '70000' }, 'PORT', /between 0 and 65535/],
    [{ BASE_URL: 'meet.example.org' }, 'BASE_URL', /absolute http\(s\) URL/],
    [{ BASE_URL: 'ftp://meet.example.org' }, 'BASE_URL', /http:\/\/ or https:\/\//],
    [{ BASE_URL: 'https://x.org/?a=1' }, 'BASE_URL', /query/],
    [{ SECRET_KEY: 'short' }, 'SECRET_KEY', /at least 32/],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL', /one of fatal, error/],
    [{ TRUST_PROXY: 'maybe' }, 'TRUST_PROXY', /1 or 0/],
  ]
  for (const [env, variable, message] of cases) {
    const error = (() => {
      try {
        loadConfig(env)
      } catch (e) {
        return e
      }
    })()
    t.ok(error instanceof ConfigError, `${variable} is refused`)
    t.equal((error as ConfigError).variable, variable)
    t.match((error as ConfigError).message, message)
  }
})

import { isLanguage, LANGUAGES, type Language } from './languages.js'

export { isLanguage, LANGUAGES, type Language }
import { en, type MessageKey } from './en.js'
import { nl } from './nl.js'

export type { MessageKey }
const catalogs: Record<Language, Record<MessageKey, string>> = { en, nl }

export type Translate = (key: MessageKey, vars?: Record<string, string | number>) => string

const translators = new Map<Language, Translate>()

export function translator(language: Language): Translate {
  let t = translators.get(language)
  if (!t) {
    const catalog = catalogs[language]
    t = (key, vars) => {
      const text = catalog[key] ?? en[key] ?? key
      return vars ? text.replace(/\{(\w+)\}/g, (whole, name: string) => (name in vars ? String(vars[name]) : whole)) : text
    }
    translators.set(language, t)
  }
  return t
}


/** Picks the best supported language from an Accept-Language header (q-values honoured), else English. */
export function languageFromHeader(header: string | undefined): Language {
  if (!header) return 'en'
  const ranked = header
    .split(',')
    .map((part, index) => {
      const [tag = '', ...params] = part.trim().split(';')
      const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='))
      return { lang: tag.trim().toLowerCase().split('-')[0] ?? '', q: q ? Number(q.slice(2)) || 0 : 1, index }
    })
    .filter((entry) => entry.q > 0)
    .sort((a, b) => b.q - a.q || a.index - b.index)
  return ranked.find((entry) => isLanguage(entry.lang))?.lang as Language | undefined ?? 'en'
}

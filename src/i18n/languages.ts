/** The languages the app speaks: the one home of this type (users, providers, mail and pages import it from here). */
export type Language = 'en' | 'nl'
export const LANGUAGES: readonly Language[] = ['en', 'nl']

export function isLanguage(value: unknown): value is Language {
  return typeof value === 'string' && (LANGUAGES as readonly string[]).includes(value)
}

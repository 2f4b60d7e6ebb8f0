/**
 * Reads an iCalendar file the way independent calendar code does: ical.js in this process, and python's
 * icalendar and vobject (Debian's packages, through test/helpers/ics_check.py). Each gives back the same plain
 * shape, so a test can check that all of them read the same thing, and none rejects the file.
 */
import { spawnSync } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import ICAL from 'ical.js'

export interface ReadPerson {
  address: string
  cn: string | null
}

export interface ReadEvent {
  uid: string
  sequence: number
  summary: string
  location: string | null
  url: string | null
  description: string | null
  status: string
  /** UTC instants, ISO 8601 with Z. */
  start: string
  end: string
  organizer: ReadPerson | null
  attendees: (ReadPerson & { partstat: string | null; rsvp: string | null })[]
}

export interface ReadCalendar {
  method: string
  events: ReadEvent[]
}

export type ParserName = 'ical.js' | 'icalendar' | 'vobject'
export type Reading = { ok: true; calendar: ReadCalendar } | { ok: false; error: string }

/** Debian's python, not whatever python3 comes first on PATH (pyenv's has neither library). */
export const PYTHON = '/usr/bin/python3'
const CHECKER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'ics_check.py')

const utc = (iso: string) => new Date(iso).toISOString()
const address = (value: string) => value.replace(/^mailto:/i, 'mailto:')

function withIcalJs(text: string): ReadCalendar {
  const component = new ICAL.Component(ICAL.parse(text))
  const people = (event: ICAL.Component, name: string) =>
    event.getAllProperties(name).map((p) => ({
      address: address(String(p.getFirstValue())),
      cn: (p.getParameter('cn') as string | undefined) ?? null,
      partstat: (p.getParameter('partstat') as string | undefined) ?? null,
      rsvp: (p.getParameter('rsvp') as string | undefined) ?? null,
    }))
  return {
    method: String(component.getFirstPropertyValue('method') ?? ''),
    events: component.getAllSubcomponents('vevent').map((event) => {
      const text = (name: string) => {
        const value = event.getFirstPropertyValue(name)
        return value === null || value === undefined ? null : String(value)
      }
      const [organizer] = people(event, 'organizer')
      return {
        uid: text('uid') ?? '',
        sequence: Number(text('sequence') ?? 0),
        summary: text('summary') ?? '',
        location: text('location'),
        url: text('url'),
        description: text('description'),
        status: text('status') ?? '',
        start: (event.getFirstPropertyValue('dtstart') as ICAL.Time).toJSDate().toISOString(),
        end: (event.getFirstPropertyValue('dtend') as ICAL.Time).toJSDate().toISOString(),
        organizer: organizer ? { address: organizer.address, cn: organizer.cn } : null,
        attendees: people(event, 'attendee'),
      }
    }),
  }
}

/** The file as each parser reads it. */
export function readWithEveryParser(text: string): Record<ParserName, Reading> {
  let icaljs: Reading
  try {
    icaljs = { ok: true, calendar: withIcalJs(text) }
  } catch (error) {
    icaljs = { ok: false, error: String(error) }
  }
  const run = spawnSync(PYTHON, [CHECKER], { input: text, encoding: 'utf8' })
  if (run.status !== 0) throw new Error(`${CHECKER} failed: ${run.stderr}`)
  const python = JSON.parse(run.stdout) as Record<'icalendar' | 'vobject', ReadCalendar | { error: string }>
  const reading = (value: ReadCalendar | { error: string }): Reading => {
    if ('error' in value) return { ok: false, error: value.error }
    const calendar = {
      ...value,
      events: value.events.map((e) => ({
        ...e,
        start: utc(e.start),
        end: utc(e.end),
        organizer: e.organizer && { ...e.organizer, address: address(e.organizer.address) },
        attendees: e.attendees.map((a) => ({ ...a, address: address(a.address) })),
      })),
    }
    return { ok: true, calendar }
  }
  return { 'ical.js': icaljs, icalendar: reading(python.icalendar), vobject: reading(python.vobject) }
}

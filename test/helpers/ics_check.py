#!/usr/bin/python3
"""Reads one iCalendar file on stdin with two independent parsers, python's icalendar and vobject (Debian's
python3-icalendar and python3-vobject), and prints what each of them read as JSON, for test/helpers/ics.ts.
A parser that rejects the file says so as {"error": "..."} instead of crashing."""
import json
import sys


def with_icalendar(text):
    import icalendar
    cal = icalendar.Calendar.from_ical(text)
    events = []
    for ev in cal.walk('VEVENT'):
        org = ev.get('ORGANIZER')
        attendees = ev.get('ATTENDEE') or []
        if not isinstance(attendees, list):
            attendees = [attendees]
        events.append({
            'uid': str(ev.get('UID')),
            'sequence': int(ev.get('SEQUENCE', 0)),
            'summary': str(ev.get('SUMMARY', '')),
            'location': str(ev.get('LOCATION', '')) if ev.get('LOCATION') is not None else None,
            'url': str(ev.get('URL')) if ev.get('URL') is not None else None,
            'description': str(ev.get('DESCRIPTION')) if ev.get('DESCRIPTION') is not None else None,
            'status': str(ev.get('STATUS', '')),
            'start': ev.decoded('DTSTART').isoformat(),
            'end': ev.decoded('DTEND').isoformat(),
            'organizer': None if org is None else {'address': str(org), 'cn': org.params.get('CN')},
            'attendees': [{'address': str(a), 'cn': a.params.get('CN'), 'partstat': a.params.get('PARTSTAT'), 'rsvp': a.params.get('RSVP')} for a in attendees],
        })
    return {'method': str(cal.get('METHOD', '')), 'events': events}


def with_vobject(text):
    import vobject
    cal = vobject.readOne(text)
    events = []
    for ev in cal.contents.get('vevent', []):
        def value(name):
            items = ev.contents.get(name)
            return None if not items else items[0].value
        def param(line, name):
            values = line.params.get(name.upper())
            return values[0] if values else None
        org = ev.contents.get('organizer', [None])[0]
        events.append({
            'uid': value('uid'),
            'sequence': int(value('sequence') or 0),
            'summary': value('summary') or '',
            'location': value('location'),
            'url': value('url'),
            'description': value('description'),
            'status': value('status') or '',
            'start': value('dtstart').isoformat(),
            'end': value('dtend').isoformat(),
            'organizer': None if org is None else {'address': org.value, 'cn': param(org, 'CN')},
            'attendees': [{'address': a.value, 'cn': param(a, 'CN'), 'partstat': param(a, 'PARTSTAT'), 'rsvp': param(a, 'RSVP')} for a in ev.contents.get('attendee', [])],
        })
    method = cal.contents.get('method')
    return {'method': method[0].value if method else '', 'events': events}


text = sys.stdin.read()
out = {}
for name, parse in (('icalendar', with_icalendar), ('vobject', with_vobject)):
    try:
        out[name] = parse(text)
    except Exception as error:  # a parser that rejects the file: that is the finding
        out[name] = {'error': '%s: %s' % (type(error).__name__, error)}
print(json.dumps(out))

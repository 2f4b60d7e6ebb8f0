import t from 'tap'
import { createWorkerLoop, type Timers } from '../../src/workers/loop.js'
import type { Log } from '../../src/log.js'

/** A fake clock: the interval fires only when the test says so. */
function fakeTimers() {
  let callback: (() => void) | null = null
  let intervalMs = 0
  const timers: Timers = {
    setInterval(cb, ms) {
      callback = cb
      intervalMs = ms
      return 1
    },
    clearInterval() {
      callback = null
    },
  }
  return { timers, tick: () => callback?.(), get armed() { return callback !== null }, get intervalMs() { return intervalMs } }
}

function recordingLog() {
  const errors: { obj: object; msg?: string }[] = []
  const log: Log = { debug() {}, info() {}, warn() {}, error: (obj, msg) => errors.push({ obj, ...(msg !== undefined && { msg }) }) }
  return { log, errors }
}

const flush = () => new Promise((resolve) => setImmediate(resolve))

t.test('a round still running when the timer fires is let finish: never two rounds at once', async (t) => {
  const clock = fakeTimers()
  let rounds = 0
  let release!: () => void
  const loop = createWorkerLoop({
    name: 'test worker',
    runDue: () => {
      rounds++
      return new Promise<number>((resolve) => (release = () => resolve(1)))
    },
    log: recordingLog().log,
    timers: clock.timers,
  })
  loop.start(500)
  t.equal(clock.intervalMs, 500)
  clock.tick()
  clock.tick()
  clock.tick()
  t.equal(rounds, 1, 'the second and third tick find the first round running')
  release()
  await flush()
  clock.tick()
  t.equal(rounds, 2, 'after it finished, the next tick starts a round')
  release()
  await loop.stop()
})

t.test('a failing round is logged with the worker name and the loop goes on', async (t) => {
  const clock = fakeTimers()
  const { log, errors } = recordingLog()
  let rounds = 0
  const loop = createWorkerLoop({ name: 'mail worker', runDue: async () => (++rounds === 1 ? Promise.reject(new Error('disk full')) : 0), log, timers: clock.timers })
  loop.start()
  clock.tick()
  await flush()
  t.equal(errors.length, 1)
  t.equal(errors[0]!.msg, 'mail worker failed')
  t.match((errors[0]!.obj as { err: Error }).err.message, 'disk full')
  clock.tick()
  await flush()
  t.equal(rounds, 2, 'the next round ran')
  await loop.stop()
})

t.test('stop() takes no new round and waits for the one running', async (t) => {
  const clock = fakeTimers()
  let finished = false
  let release!: () => void
  const loop = createWorkerLoop({
    name: 'w',
    runDue: () => new Promise<number>((resolve) => (release = () => { finished = true; resolve(0) })),
    log: recordingLog().log,
    timers: clock.timers,
  })
  loop.start()
  clock.tick()
  const stopped = loop.stop()
  t.notOk(clock.armed, 'the timer is cleared at once')
  let done = false
  void stopped.then(() => (done = true))
  await flush()
  t.notOk(done, 'stop waits while the round runs')
  release()
  await stopped
  t.ok(finished && loop.started === false)
})

t.test('healthy: started, and a round is running or began lately', async (t) => {
  const clock = fakeTimers()
  let time = 1_000
  const loop = createWorkerLoop({ name: 'w', runDue: async () => 0, log: recordingLog().log, timers: clock.timers, now: () => time })
  t.notOk(loop.healthy(), 'not started')
  loop.start()
  t.ok(loop.healthy(60_000))
  time += 61_000
  t.notOk(loop.healthy(60_000), 'no round for over a minute')
  clock.tick()
  t.ok(loop.healthy(60_000), 'a round began just now')
  await loop.stop()
  t.notOk(loop.healthy())
})

t.test('start twice keeps one timer', async (t) => {
  const clock = fakeTimers()
  let sets = 0
  const timers: Timers = { setInterval: (cb, ms) => (sets++, clock.timers.setInterval(cb, ms)), clearInterval: clock.timers.clearInterval }
  const loop = createWorkerLoop({ name: 'w', runDue: async () => 0, log: recordingLog().log, timers })
  loop.start()
  loop.start()
  t.equal(sets, 1)
  await loop.stop()
})

// createJobSocket against a fake WebSocket and a manual clock: no network, no real time.
import assert from 'node:assert/strict'
import { beforeEach, describe, test } from 'node:test'

import { createJobSocket } from '../../realtime/static/realtime/jobsentinel-ws.js'
import { FakeClock, FakeWebSocket, event, sequence } from './fakes.mjs'

const URL_ = 'ws://example.test/api/v1/ws/jobs'

/** A client wired to fakes; random() is 0.5 unless overridden, so delays are predictable. */
function setup(options = {}) {
  const clock = new FakeClock()
  const states = []
  const retries = []
  const client = createJobSocket({
    url: URL_,
    WebSocketImpl: FakeWebSocket,
    setTimeout: clock.setTimeout,
    clearTimeout: clock.clearTimeout,
    now: clock.now,
    random: () => 0.5,
    onConnectionChange: (state) => states.push(state),
    ...options,
  })
  client.on('retry', (info) => retries.push(info))
  return { client, clock, states, retries }
}

const sockets = () => FakeWebSocket.instances
const last = () => FakeWebSocket.last

beforeEach(() => FakeWebSocket.reset())

describe('connecting', () => {
  test('connects on creation and is connected once the server greets', () => {
    const { client, states } = setup()
    assert.equal(sockets().length, 1)
    assert.equal(last().url, URL_)
    assert.equal(client.state, 'connecting')
    last().open()
    assert.equal(client.state, 'connecting', 'accepted at TCP level is not authorised yet')
    last().receive({ type: 'connected', data: { last_event_id: 0, heartbeat_interval: 30 } })
    assert.equal(client.state, 'connected')
    assert.deepEqual(states, ['connecting', 'connected'])
  })

  test('autoConnect: false waits for connect(); connect() twice opens one socket', () => {
    const { client } = setup({ autoConnect: false })
    assert.equal(sockets().length, 0)
    assert.equal(client.state, 'disconnected')
    client.connect()
    client.connect()
    assert.equal(sockets().length, 1)
  })

  test('derives wss URL, sub-path and api_key from the page location', () => {
    setup({
      url: undefined,
      location: { protocol: 'https:', host: 'jobs.example:8443', href: 'https://jobs.example:8443/sentinel/' },
      basePath: '/sentinel',
      apiKey: 's3cr&t key',
    })
    const url = new URL(last().url)
    assert.equal(url.origin, 'wss://jobs.example:8443')
    assert.equal(url.pathname, '/sentinel/api/v1/ws/jobs')
    assert.equal(url.searchParams.get('api_key'), 's3cr&t key')
  })

  test('a page-relative url option is resolved against the page', () => {
    setup({ url: '/sentinel/api/v1/ws/jobs', location: { protocol: 'http:', host: 'h:8000', href: 'http://h:8000/x' } })
    assert.equal(last().url, 'ws://h:8000/sentinel/api/v1/ws/jobs')
  })

  test('without any WebSocket implementation, creation fails loudly', () => {
    const saved = globalThis.WebSocket
    try {
      globalThis.WebSocket = undefined
      assert.throws(() => createJobSocket({ url: URL_ }), TypeError)
    } finally {
      globalThis.WebSocket = saved
    }
  })

  test('a throwing WebSocket constructor is a failed attempt, not an exception', () => {
    let calls = 0
    class Throwing {
      constructor() {
        calls += 1
        throw new SyntaxError('bad url')
      }
    }
    const { client, clock } = setup({ WebSocketImpl: Throwing, maxReconnectAttempts: 2 })
    assert.equal(client.state, 'disconnected')
    clock.advance(60_000)
    assert.equal(calls, 3)
    assert.equal(client.state, 'error')
  })
})

describe('messages', () => {
  test('keeps only the last 100 messages, as a new array each time', () => {
    const { client } = setup()
    last().accept()
    const before = client.messages
    for (let id = 1; id <= 150; id++) last().receive(event(id))
    assert.notEqual(client.messages, before)
    assert.equal(client.messages.length, 100)
    assert.equal(client.messages[0].id, 51)
    assert.equal(client.messages.at(-1).id, 150)
    assert.equal(client.lastMessage.id, 150)
  })

  test('clearMessages empties history and lastMessage', () => {
    const { client } = setup()
    last().accept()
    last().receive(event(1))
    client.clearMessages()
    assert.deepEqual(client.messages, [])
    assert.equal(client.lastMessage, null)
  })

  test('without a filter every message is kept, control messages included', () => {
    const { client } = setup()
    last().accept()
    last().receive({ type: 'heartbeat', data: {} })
    assert.deepEqual(client.messages.map((m) => m.type), ['connected', 'heartbeat'])
  })

  test('on/off and onMessage receive messages; on() returns an unsubscribe', () => {
    const got = []
    const viaOption = []
    const { client } = setup({ onMessage: (m) => viaOption.push(m.id) })
    const stop = client.on('message', (m) => got.push(m.id))
    const second = (m) => got.push(`second ${m.id}`)
    client.addEventListener('message', second)
    last().accept()
    last().receive(event(1))
    stop()
    client.removeEventListener('message', second)
    last().receive(event(2))
    assert.deepEqual(got, [undefined, 'second undefined', 1, 'second 1']) // `connected` has no id
    assert.deepEqual(viaOption, [undefined, 1, 2])
    assert.throws(() => client.on('nope', () => {}), TypeError)
  })

  test('a throwing listener is reported and does not disturb the client', () => {
    const reported = []
    const { client } = setup({
      onMessage: () => {
        throw new Error('ui bug')
      },
      onListenerError: (err) => reported.push(err.message),
    })
    last().accept()
    last().receive(event(1))
    assert.equal(client.state, 'connected')
    assert.equal(client.lastEventId, 1)
    assert.equal(client.messages.length, 2)
    assert.deepEqual(reported, ['ui bug', 'ui bug'])
  })

  test('malformed frames are ignored without throwing, but still prove the link alive', () => {
    const { client, clock } = setup()
    last().accept()
    const frames = ['not json', '{"type":', '[1]', 'null', '{"data":{}}', '{"type":7}', new Uint8Array([1, 2])]
    for (const frame of frames) {
      clock.advance(30_000)
      assert.doesNotThrow(() => last().receive(frame))
    }
    assert.equal(client.messages.length, 1) // only `connected`
    assert.equal(sockets().length, 1, 'no heartbeat timeout: frames kept arriving')
    assert.equal(client.state, 'connected')
  })

  test('send() writes JSON when open and returns false otherwise', () => {
    const { client } = setup()
    assert.equal(client.send({ type: 'ping' }), false)
    last().accept()
    assert.equal(client.send({ type: 'ping' }), true)
    assert.deepEqual(last().sentJson, [{ type: 'ping' }])
  })
})

describe('messageTypes filtering', () => {
  test('event types go to the server (URL and subscribe on open); all types filter locally', () => {
    const { client } = setup({ messageTypes: ['new_job', 'heartbeat'] })
    // heartbeat is not a server event: sending it would earn an `unknown_event` error.
    assert.equal(last().query.events, 'new_job')
    last().accept()
    assert.deepEqual(last().sentJson, [{ type: 'subscribe', events: ['new_job'] }])
    last().receive(event(1, 'job_updated'))
    last().receive({ type: 'heartbeat', data: {} })
    last().receive(event(2, 'new_job'))
    assert.deepEqual(client.messages.map((m) => m.type), ['heartbeat', 'new_job'])
    assert.equal(client.lastEventId, 2)
  })

  test('subscribe() replaces the filter and tells the server', () => {
    const { client } = setup({ messageTypes: ['new_job'] })
    last().accept()
    assert.equal(client.subscribe(['scrape_started', 'scrape_completed']), true)
    assert.deepEqual(last().sentJson.at(-1), { type: 'subscribe', events: ['scrape_started', 'scrape_completed'] })
    last().receive(event(1, 'new_job'))
    last().receive(event(2, 'scrape_started'))
    assert.deepEqual(client.messages.map((m) => m.id), [2])
    assert.deepEqual(client.messageTypes, ['scrape_started', 'scrape_completed'])

    client.subscribe(null) // everything again; the server's default without `events`
    assert.deepEqual(last().sentJson.at(-1), { type: 'subscribe' })
    last().receive(event(3, 'job_updated'))
    assert.equal(client.lastMessage.id, 3)
  })

  test('subscribe() while disconnected applies on the next connection', () => {
    const { client, clock } = setup()
    last().accept()
    last().serverClose(1006)
    assert.equal(client.subscribe(['new_job']), false)
    clock.advance(1000)
    assert.equal(last().query.events, 'new_job')
    last().open()
    assert.deepEqual(last().sentJson, [{ type: 'subscribe', events: ['new_job'] }])
  })

  test('event types the server announces in connected.data.events can be subscribed', () => {
    const { client } = setup()
    last().accept({ events: ['new_job', 'job_closed'] })
    client.subscribe(['job_closed', 'job_updated'])
    assert.deepEqual(last().sentJson.at(-1), { type: 'subscribe', events: ['job_closed'] })
  })
})

describe('dead-connection detection', () => {
  test('no frame for heartbeat interval + grace closes the socket and reconnects', () => {
    const { client, clock, retries } = setup()
    last().accept({ heartbeat_interval: 30 })
    clock.advance(39_999)
    assert.equal(last().closedWith, null)
    clock.advance(1)
    assert.deepEqual(last().closedWith, { code: 4000, reason: 'heartbeat timeout' })
    assert.equal(client.state, 'disconnected')
    assert.equal(retries[0].code, 4000)
    assert.equal(client.nextRetryAt, clock.now() + 500)
    clock.advance(500)
    assert.equal(sockets().length, 2)
    assert.equal(client.state, 'connecting')
  })

  test('every frame resets the timer', () => {
    const { clock } = setup()
    last().accept()
    for (let i = 0; i < 5; i++) {
      clock.advance(35_000)
      last().receive({ type: 'heartbeat', data: {} })
    }
    assert.equal(sockets().length, 1)
    assert.equal(last().closedWith, null)
  })

  test("the server's heartbeat_interval replaces the option; heartbeatGrace is honoured", () => {
    const { clock } = setup({ heartbeatInterval: 60, heartbeatGrace: 2 })
    last().accept({ heartbeat_interval: 5 })
    clock.advance(6_999)
    assert.equal(last().closedWith, null)
    clock.advance(1)
    assert.equal(last().closedWith.code, 4000)
  })

  test('a handshake that never completes is abandoned too', () => {
    const { clock } = setup({ heartbeatInterval: 30 })
    clock.advance(40_000)
    assert.equal(sockets()[0].closedWith.code, 4000)
  })

  test('a late close event from the abandoned socket is ignored', () => {
    const { client, clock, retries } = setup()
    last().accept()
    clock.advance(40_000)
    const dead = last()
    dead.serverClose(1006)
    assert.equal(retries.length, 1)
    clock.advance(500)
    assert.equal(sockets().length, 2)
    assert.equal(client.state, 'connecting')
  })
})

describe('resume', () => {
  test('reconnects with ?last_event_id=<highest id> and the filter', () => {
    const { client, clock } = setup({ messageTypes: ['new_job'] })
    last().accept({ last_event_id: 3 })
    last().receive(event(7))
    last().receive(event(5)) // a late commit: delivered, but not the resume point
    last().serverClose(1006)
    clock.advance(500)
    assert.equal(sockets().length, 2)
    assert.deepEqual(last().query, { events: 'new_job', last_event_id: '7' })
    assert.equal(client.lastEventId, 7)
  })

  test('replayed duplicates are dropped; new ones kept', () => {
    const { client, clock } = setup()
    last().accept({ last_event_id: 0 })
    last().receive(event(1))
    last().receive(event(2))
    last().serverClose(1006)
    clock.advance(500)
    last().accept({ last_event_id: 4 })
    for (const id of [2, 3, 1, 4, 4]) last().receive(event(id))
    const ids = client.messages.filter((m) => m.id !== undefined).map((m) => m.id)
    assert.deepEqual(ids, [1, 2, 3, 4])
    assert.equal(client.lastEventId, 4)
  })

  test("a fresh client starts from the server's last_event_id, so a quiet gap is replayed", () => {
    const { client, clock } = setup()
    assert.equal(last().query.last_event_id, undefined)
    last().accept({ last_event_id: 41 })
    assert.equal(client.lastEventId, 41)
    last().serverClose(1006)
    clock.advance(500)
    assert.equal(last().query.last_event_id, '41')
  })

  test('the lastEventId option resumes on the very first connect', () => {
    const { client } = setup({ lastEventId: 12 })
    assert.equal(last().query.last_event_id, '12')
    last().accept({ last_event_id: 20 }) // replay of 13..20 follows; do not jump ahead
    assert.equal(client.lastEventId, 12)
  })

  test('a server whose log restarted from scratch resets the resume point', () => {
    const { client, clock } = setup()
    last().accept({ last_event_id: 0 })
    for (const id of [1, 2, 3, 50]) last().receive(event(id))
    last().serverClose(1012)
    clock.advance(500)
    last().accept({ last_event_id: 1 }) // a new database
    assert.equal(client.lastEventId, 1)
    last().receive(event(2)) // a new event that reuses an old id
    assert.equal(client.lastMessage.id, 2)
    assert.equal(client.lastEventId, 2)
  })

  test('the duplicate window is bounded', () => {
    const { client } = setup({ maxSeenIds: 3 })
    last().accept()
    for (const id of [1, 2, 3, 4]) last().receive(event(id))
    last().receive(event(1)) // forgotten: accepted again
    last().receive(event(4)) // still remembered: dropped
    const ids = client.messages.filter((m) => m.id !== undefined).map((m) => m.id)
    assert.deepEqual(ids, [1, 2, 3, 4, 1])
  })
})

describe('close codes and backoff', () => {
  test('backoff grows with full jitter up to the cap', () => {
    const { clock, retries } = setup({ maxReconnectAttempts: Infinity, random: sequence(0.5, 0.5, 0.5, 0.25, 1, 1, 1, 1, 1) })
    for (let i = 0; i < 9; i++) {
      last().serverClose(1006)
      clock.advance(retries.at(-1).delay)
    }
    assert.deepEqual(retries.map((r) => r.delay), [500, 1000, 2000, 2000, 16_000, 30_000, 30_000, 30_000, 30_000])
    assert.equal(sockets().length, 10)
  })

  test('maxReconnectDelay and reconnectDelay options', () => {
    const { clock, retries } = setup({ reconnectDelay: 100, maxReconnectDelay: 250, random: () => 1, maxReconnectAttempts: 4 })
    for (let i = 0; i < 4; i++) {
      last().serverClose(1006)
      clock.advance(1000)
    }
    assert.deepEqual(retries.map((r) => r.delay), [100, 200, 250, 250])
  })

  test('maxReconnectAttempts exhausted → state error, nothing scheduled', () => {
    const { client, clock, retries, states } = setup({ maxReconnectAttempts: 3 })
    for (let i = 0; i < 4; i++) {
      last().serverClose(1006)
      clock.advance(10_000)
    }
    assert.equal(sockets().length, 4, 'the first try plus three retries')
    assert.equal(retries.length, 3)
    assert.equal(client.state, 'error')
    assert.equal(client.nextRetryAt, null)
    assert.deepEqual(clock.pending(), [])
    assert.equal(states.at(-1), 'error')
  })

  test('the attempt counter resets after a healthy connection', () => {
    const { client, clock, retries } = setup({ maxReconnectAttempts: 2 })
    last().serverClose(1006)
    clock.advance(500)
    last().serverClose(1006)
    clock.advance(1000)
    assert.equal(client.reconnectAttempts, 2)
    last().accept()
    assert.equal(client.reconnectAttempts, 0)
    last().serverClose(1006)
    assert.equal(retries.at(-1).delay, 500)
    assert.equal(client.state, 'disconnected')
  })

  test('connect() after giving up starts over with a fresh budget', () => {
    const { client, clock } = setup({ maxReconnectAttempts: 0 })
    last().serverClose(1006)
    assert.equal(client.state, 'error')
    client.connect()
    assert.equal(client.state, 'connecting')
    assert.equal(sockets().length, 2)
    clock.advance(100_000)
    assert.equal(sockets().length, 2)
  })

  test('connect() while waiting for a retry retries right away', () => {
    const { client, clock } = setup()
    last().serverClose(1006)
    assert.ok(client.nextRetryAt > clock.now())
    client.connect()
    assert.equal(sockets().length, 2)
    assert.equal(client.nextRetryAt, null)
    clock.advance(10_000)
    assert.equal(sockets().length, 2, 'the old timer was cancelled')
  })

  test('4401 → no retry, state error', () => {
    const { client, clock, retries } = setup()
    last().open()
    last().receive({ type: 'error', data: { code: 'unauthorized', message: 'key required' } })
    last().serverClose(4401)
    assert.equal(client.state, 'error')
    assert.equal(client.nextRetryAt, null)
    clock.advance(10 * 60_000)
    assert.equal(sockets().length, 1)
    assert.equal(retries.length, 0)
    assert.equal(client.lastMessage.data.code, 'unauthorized')
  })

  test('4429 → waits at least 30 s (plus jitter)', () => {
    const { client, clock } = setup()
    last().accept()
    last().serverClose(4429)
    assert.equal(client.nextRetryAt - clock.now(), 30_500)
    clock.advance(30_499)
    assert.equal(sockets().length, 1)
    clock.advance(1)
    assert.equal(sockets().length, 2)
  })

  test('1013 → waits at least 15 s (plus jitter)', () => {
    const { client, clock } = setup({ random: () => 0 })
    last().open()
    last().serverClose(1013)
    assert.equal(client.nextRetryAt - clock.now(), 15_000)
  })

  test('1012 → prompt jittered reconnect that does not use up the budget', () => {
    const { client, clock, retries } = setup({ maxReconnectAttempts: 1, random: () => 0.3 })
    last().accept()
    last().serverClose(1012)
    assert.equal(retries[0].delay, 300)
    assert.equal(client.state, 'disconnected')
    clock.advance(300)
    assert.equal(sockets().length, 2)
    // The server is still booting: each failure costs half an attempt, so with a budget
    // of 1 we get two more tries instead of one.
    last().serverClose(1006)
    clock.advance(10_000)
    last().serverClose(1006)
    clock.advance(10_000)
    assert.equal(sockets().length, 4)
    last().serverClose(1006)
    assert.equal(client.state, 'error')
  })

  test('1012 → back to normal once the server is up again', () => {
    const { client, clock, retries } = setup({ random: () => 0.5 })
    last().accept()
    last().serverClose(1012)
    clock.advance(500)
    last().accept()
    assert.equal(client.state, 'connected')
    last().serverClose(1012)
    assert.equal(retries.at(-1).delay, 500, 'prompt again: a new restart')
  })

  test('a second 1012 before reconnecting is an ordinary failure (no tight loop)', () => {
    const { clock, retries } = setup({ random: () => 0.5, restartDelay: 1000 })
    last().accept()
    last().serverClose(1012)
    clock.advance(500)
    last().open()
    last().serverClose(1012)
    assert.equal(retries.length, 2)
    assert.equal(retries[1].attempt, 1)
  })

  test('disconnect() → closes with 1000 and never retries', () => {
    const { client, clock, states } = setup()
    last().accept()
    const socket = last()
    client.disconnect()
    assert.deepEqual(socket.closedWith, { code: 1000, reason: 'client disconnect' })
    assert.equal(client.state, 'disconnected')
    socket.serverClose(1000) // the close handshake completing later
    clock.advance(10 * 60_000)
    assert.equal(sockets().length, 1)
    assert.equal(client.nextRetryAt, null)
    assert.deepEqual(clock.pending(), [])
    assert.deepEqual(states, ['connecting', 'connected', 'disconnected'])
  })

  test('disconnect() while waiting for a retry cancels it', () => {
    const { client, clock } = setup()
    last().serverClose(1006)
    assert.notEqual(client.nextRetryAt, null)
    client.disconnect()
    assert.equal(client.nextRetryAt, null)
    clock.advance(10 * 60_000)
    assert.equal(sockets().length, 1)
  })

  test('reconnect: false → stays disconnected after a drop', () => {
    const { client, clock } = setup({ reconnect: false })
    last().accept()
    last().serverClose(1006)
    assert.equal(client.state, 'disconnected')
    clock.advance(10 * 60_000)
    assert.equal(sockets().length, 1)
  })

  test('state listeners see nextRetryAt already set', () => {
    const seen = []
    const { client, clock } = setup()
    client.on('state', (state) => seen.push([state, client.nextRetryAt]))
    last().serverClose(1006)
    assert.deepEqual(seen, [['disconnected', clock.now() + 500]])
  })
})

// Test doubles for the JobSentinel socket client: a scriptable WebSocket and a manual clock.
// Not a test file itself (the name matches none of node --test's patterns).

/** A manual clock whose setTimeout/clearTimeout/now are injected into the client. */
export class FakeClock {
  constructor(start = 1_000_000) {
    this.time = start
    this.timers = new Map()
    this.nextId = 1
    // Bound so they can be passed around as plain functions.
    this.now = () => this.time
    this.setTimeout = (fn, ms) => {
      const id = this.nextId++
      this.timers.set(id, { fn, at: this.time + Math.max(0, ms), id })
      return id
    }
    this.clearTimeout = (id) => {
      this.timers.delete(id)
    }
  }

  /** Move time forward by `ms`, firing due timers in order (timers they set fire too). */
  advance(ms) {
    const end = this.time + ms
    for (;;) {
      const due = [...this.timers.values()]
        .filter((t) => t.at <= end)
        .sort((a, b) => a.at - b.at || a.id - b.id)[0]
      if (!due) break
      this.timers.delete(due.id)
      this.time = due.at
      due.fn()
    }
    this.time = end
  }

  /** Delays of the pending timers, relative to now, sorted. */
  pending() {
    return [...this.timers.values()].map((t) => t.at - this.time).sort((a, b) => a - b)
  }
}

/**
 * A WebSocket stand-in. Every instance is recorded in `FakeWebSocket.instances`; tests
 * drive it with open(), receive(), serverClose() and inspect `sent` / `closedWith`.
 */
export class FakeWebSocket {
  static CONNECTING = 0
  static OPEN = 1
  static CLOSING = 2
  static CLOSED = 3
  /** @type {FakeWebSocket[]} */
  static instances = []

  static reset() {
    FakeWebSocket.instances = []
  }

  static get last() {
    return FakeWebSocket.instances.at(-1)
  }

  constructor(url) {
    this.url = url
    this.readyState = FakeWebSocket.CONNECTING
    this.sent = []
    this.closedWith = null
    this.onopen = null
    this.onmessage = null
    this.onclose = null
    this.onerror = null
    FakeWebSocket.instances.push(this)
  }

  /** Parsed query parameters of the URL this socket was opened with. */
  get query() {
    return Object.fromEntries(new URL(this.url).searchParams)
  }

  /** Messages the client sent, parsed. */
  get sentJson() {
    return this.sent.map((s) => JSON.parse(s))
  }

  send(data) {
    if (this.readyState !== FakeWebSocket.OPEN) throw new Error('InvalidStateError: not open')
    this.sent.push(data)
  }

  close(code, reason) {
    this.closedWith = { code, reason }
    this.readyState = FakeWebSocket.CLOSING
  }

  // --- driven by tests ---

  open() {
    this.readyState = FakeWebSocket.OPEN
    this.onopen?.({ type: 'open' })
  }

  /** Deliver a frame: objects are JSON-encoded, anything else is passed as is. */
  receive(frame) {
    const data = typeof frame === 'string' || frame instanceof Uint8Array ? frame : JSON.stringify(frame)
    this.onmessage?.({ type: 'message', data })
  }

  /** Open and deliver the server's `connected` greeting. */
  accept(data = {}) {
    this.open()
    this.receive({
      type: 'connected',
      timestamp: '2025-10-14T00:00:00Z',
      data: { message: 'Connected', version: '0.6.0', last_event_id: 0, heartbeat_interval: 30, ...data },
    })
  }

  serverClose(code = 1006, reason = '') {
    this.readyState = FakeWebSocket.CLOSED
    this.onerror?.({ type: 'error' })
    this.onclose?.({ type: 'close', code, reason, wasClean: code !== 1006 })
  }
}

/** A deterministic random(): returns the given values in turn, then repeats the last. */
export function sequence(...values) {
  let i = 0
  return () => values[Math.min(i++, values.length - 1)]
}

/** An event envelope as the server sends it. */
export function event(id, type = 'new_job', data = { job_id: id, title: `Job ${id}` }) {
  return { type, timestamp: '2025-10-14T00:01:23Z', data, id }
}

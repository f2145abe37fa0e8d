/**
 * JobSentinel live-events client for `/api/v1/ws/jobs`.
 *
 * A dependency-free ES module (no build step) that any page can load with
 * `<script type="module">`. It keeps the options and return values of the React
 * `useWebSocket` hook described in docs/websocket-guide.md, and adds what the hook lacked:
 *
 * - reconnects with exponential backoff and full jitter, so a server restart is not
 *   followed by every browser reconnecting in the same millisecond;
 * - notices a dead connection (no frame for heartbeat interval + grace) instead of
 *   waiting minutes for TCP to give up;
 * - resumes from the last logged event id (`?last_event_id=N`) and drops replayed
 *   duplicates, so no job is missed or shown twice across a reconnect;
 * - reacts to the server's close codes (4401 unauthorized, 4429 rate limited,
 *   1013 over capacity, 1012 restarting);
 * - never throws on a malformed server frame.
 *
 * @example
 *   import { createJobSocket } from '/static/realtime/jobsentinel-ws.js'
 *   const socket = createJobSocket({ messageTypes: ['new_job'] })
 *   socket.on('message', (msg) => console.log(msg.data.title))
 *   socket.on('state', (state) => console.log(state, socket.nextRetryAt))
 *
 * @module jobsentinel-ws
 */

/** The endpoint path, relative to the site root (or to `basePath`). */
export const WS_PATH = '/api/v1/ws/jobs'

/**
 * Logged (resumable) event types the server knows before it tells us its own list in
 * `connected.data.events`. Only these may be sent in `subscribe`: the server answers
 * anything else with an `unknown_event` error (and, on connect, ignores the whole filter).
 */
export const EVENT_TYPES = Object.freeze([
  'new_job',
  'job_updated',
  'scrape_started',
  'scrape_completed',
  'jobs_rescored',
])

/** Close codes the client treats specially (see `closePolicy`). */
export const CLOSE_CODES = Object.freeze({
  NORMAL: 1000,
  ABNORMAL: 1006,
  MESSAGE_TOO_BIG: 1009,
  SERVER_RESTART: 1012,
  OVER_CAPACITY: 1013,
  /** Client-side only: used when we abandon a silent connection ourselves. */
  HEARTBEAT_TIMEOUT: 4000,
  UNAUTHORIZED: 4401,
  TOO_SLOW: 4408,
  RATE_LIMIT_EXCEEDED: 4429,
})

/** Minimum wait after 4429: the client itself sent too much, so back off for real. */
export const RATE_LIMITED_MIN_DELAY = 30_000
/** Minimum wait after 1013: the server is full; hammering it keeps it full. */
export const OVER_CAPACITY_MIN_DELAY = 15_000

const DEFAULTS = Object.freeze({
  basePath: '',
  reconnect: true,
  maxReconnectAttempts: 5,
  reconnectDelay: 1000,
  maxReconnectDelay: 30_000,
  restartDelay: 1000,
  heartbeatInterval: 30,
  heartbeatGrace: 10,
  maxMessages: 100,
  maxSeenIds: 1000,
  autoConnect: true,
})

// After a 1012 the server said it is coming back; failures while it boots cost half an
// attempt, so a slow restart does not exhaust `maxReconnectAttempts`.
const RESTART_ATTEMPT_WEIGHT = 0.5

const OPEN = 1 // WebSocket.OPEN, spelled out so any implementation works

/**
 * @typedef {'connecting' | 'connected' | 'disconnected' | 'error'} ConnectionState
 *   `error` is terminal: the server refused us (4401) or the retries ran out. `connect()`
 *   starts again.
 */

/**
 * @typedef {object} JobMessage
 * @property {string} type
 * @property {string} [timestamp] ISO 8601
 * @property {Record<string, any>} [data]
 * @property {number} [id] event-log id; present on logged events only
 */

/**
 * @typedef {object} LocationLike
 * @property {string} protocol e.g. 'https:'
 * @property {string} host e.g. 'example.com:8443'
 * @property {string} [href]
 */

/**
 * @typedef {object} JobSocketOptions
 * @property {string} [url] full or page-relative socket URL; default derived from `location`
 * @property {string} [basePath] prefix when the site is served under a sub-path, e.g. '/jobs'
 * @property {string} [apiKey] sent as the `api_key` query parameter
 * @property {boolean} [reconnect=true]
 * @property {number} [maxReconnectAttempts=5] `Infinity` never gives up
 * @property {number} [reconnectDelay=1000] backoff base, ms
 * @property {number} [maxReconnectDelay=30000] backoff cap, ms
 * @property {number} [restartDelay=1000] upper bound of the jittered wait after 1012, ms
 * @property {number} [heartbeatInterval=30] seconds; replaced by the server's
 *   `connected.data.heartbeat_interval`. 0 disables dead-connection detection until the
 *   server announces its interval.
 * @property {number} [heartbeatGrace=10] seconds of extra silence tolerated
 * @property {string[] | null} [messageTypes] only these types reach `messages`/listeners;
 *   the event types among them are also subscribed on the server
 * @property {number | null} [lastEventId] resume after this event id on the first connect
 *   (e.g. the id a server-rendered page was built from)
 * @property {number} [maxMessages=100] history length
 * @property {number} [maxSeenIds=1000] how many event ids are remembered for de-duplication
 * @property {boolean} [autoConnect=true] connect immediately, as the hook did on mount
 * @property {(state: ConnectionState) => void} [onConnectionChange]
 * @property {(message: JobMessage) => void} [onMessage]
 * @property {(error: unknown) => void} [onListenerError] where exceptions thrown by
 *   listeners go (default: `reportError`, else `console.error`)
 * @property {new (url: string) => any} [WebSocketImpl] default `globalThis.WebSocket`
 * @property {LocationLike} [location] default `globalThis.location`
 * @property {() => number} [random] default `Math.random`
 * @property {(fn: () => void, ms: number) => any} [setTimeout]
 * @property {(id: any) => void} [clearTimeout]
 * @property {() => number} [now] ms timestamp, default `Date.now`
 */

/**
 * @typedef {object} RetryInfo
 * @property {number} delay ms until the next attempt
 * @property {number} at ms timestamp of the next attempt (same as `nextRetryAt`)
 * @property {number} attempt backoff attempts since the last healthy connection, this one
 *   included (the free reconnect after 1012 does not count)
 * @property {number} code close code that caused the retry
 */

/**
 * @typedef {object} JobSocket
 * @property {ConnectionState} state
 * @property {JobMessage | null} lastMessage
 * @property {JobMessage[]} messages last `maxMessages` (100); a new array on every change
 * @property {number | null} lastEventId highest logged event id seen (the resume point)
 * @property {number | null} nextRetryAt ms timestamp of the scheduled reconnect, or null
 * @property {number} reconnectAttempts attempts since the last healthy connection
 * @property {string[] | null} messageTypes current filter (null: everything)
 * @property {string} url the URL the next connection will use
 * @property {(message: Record<string, any>) => boolean} send false when not connected
 * @property {() => void} connect start (or retry right now); resets the attempt budget
 * @property {() => void} disconnect close and stop reconnecting
 * @property {() => void} clearMessages
 * @property {(events: string[] | null) => boolean} subscribe replace the filter; true when
 *   the server was told right away (otherwise it is told on the next connect)
 * @property {(type: 'message' | 'state' | 'retry', fn: Function) => () => void} on
 *   returns a function that removes the listener
 * @property {(type: 'message' | 'state' | 'retry', fn: Function) => void} off
 * @property {(type: 'message' | 'state' | 'retry', fn: Function) => () => void} addEventListener
 * @property {(type: 'message' | 'state' | 'retry', fn: Function) => void} removeEventListener
 */

// --- pure helpers -------------------------------------------------------------------------

/**
 * Normalise a sub-path prefix: leading slash, no trailing slash, '' for the root.
 * @param {string | null | undefined} basePath
 * @returns {string}
 */
export function normalizeBasePath(basePath) {
  const trimmed = String(basePath ?? '').trim().replace(/\/+$/, '')
  if (trimmed === '') return ''
  return trimmed.startsWith('/') ? trimmed : `/${trimmed}`
}

/**
 * The endpoint URL for a page: `wss:` on an https page (browsers block `ws:` there as
 * mixed content), same host and port, under `basePath`.
 * @param {LocationLike | undefined} [location] default `globalThis.location`
 * @param {string} [basePath]
 * @returns {string}
 */
export function defaultUrl(location = globalThis.location, basePath = '') {
  // Outside a browser (Node, workers without location) fall back to the guide's default.
  if (!location || !location.host) return `ws://localhost:8000${normalizeBasePath(basePath)}${WS_PATH}`
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:'
  return `${proto}//${location.host}${normalizeBasePath(basePath)}${WS_PATH}`
}

/** The default URL for the page that loaded this module. */
export const DEFAULT_URL = defaultUrl()

/**
 * Make a URL usable by `new WebSocket`: resolve page-relative paths against `location`,
 * and turn `http(s):` into `ws(s):` so the same setting can serve both.
 * @param {string} url
 * @param {LocationLike | undefined} [location]
 * @returns {string}
 */
export function toSocketUrl(url, location = globalThis.location) {
  const base = location?.href ?? (location?.host ? `${location.protocol}//${location.host}/` : undefined)
  const parsed = base ? new URL(url, base) : new URL(url)
  if (parsed.protocol === 'https:') parsed.protocol = 'wss:'
  else if (parsed.protocol === 'http:') parsed.protocol = 'ws:'
  return parsed.toString()
}

/**
 * Add the connection's query parameters. Existing parameters are kept; ours win.
 * @param {string} url absolute ws:// or wss:// URL
 * @param {{apiKey?: string | null, events?: string[] | null, lastEventId?: number | null}} [params]
 *   `events` null means "everything" and adds nothing.
 * @returns {string}
 */
export function buildUrl(url, { apiKey, events, lastEventId } = {}) {
  const parsed = new URL(url)
  const query = parsed.searchParams
  if (events) query.set('events', events.join(','))
  if (isEventId(lastEventId)) query.set('last_event_id', String(lastEventId))
  if (apiKey) query.set('api_key', apiKey)
  return parsed.toString()
}

/**
 * Exponential backoff with full jitter: uniform in [0, min(cap, base * 2^attempt)).
 * Full jitter spreads a crowd of clients across the whole window, which is what keeps
 * a restarted server from being stampeded.
 * @param {number} attempt 0 for the first retry
 * @param {{base?: number, cap?: number, random?: () => number}} [opts]
 * @returns {number} ms
 */
export function backoffDelay(attempt, { base = DEFAULTS.reconnectDelay, cap = DEFAULTS.maxReconnectDelay, random = Math.random } = {}) {
  const exponent = Math.max(0, Math.floor(attempt) || 0)
  const ceiling = Math.min(cap, base * 2 ** exponent) // 2**large is Infinity: min() caps it
  return random() * ceiling
}

/**
 * What a close code means for reconnecting.
 * - `retry: false`: do not reconnect (`fatal` also ends in state 'error');
 * - `prompt`: the server is restarting on purpose; come back soon;
 * - `minDelay`: a floor added to the jittered backoff.
 * @param {number} code
 * @returns {{retry: boolean, fatal: boolean, prompt: boolean, minDelay: number}}
 */
export function closePolicy(code) {
  switch (code) {
    case CLOSE_CODES.UNAUTHORIZED:
      // A missing or wrong key will not fix itself; retrying only fills the server log.
      return { retry: false, fatal: true, prompt: false, minDelay: 0 }
    case CLOSE_CODES.RATE_LIMIT_EXCEEDED:
      return { retry: true, fatal: false, prompt: false, minDelay: RATE_LIMITED_MIN_DELAY }
    case CLOSE_CODES.OVER_CAPACITY:
      return { retry: true, fatal: false, prompt: false, minDelay: OVER_CAPACITY_MIN_DELAY }
    case CLOSE_CODES.SERVER_RESTART:
      return { retry: true, fatal: false, prompt: true, minDelay: 0 }
    default:
      // 1000/1001 from the server, 1006 network loss, 1009, 4408 too slow, our own
      // heartbeat timeout: ordinary backoff; resume fills whatever was missed.
      return { retry: true, fatal: false, prompt: false, minDelay: 0 }
  }
}

/**
 * Parse one server frame. Anything that is not a JSON object with a string `type`
 * (binary frames, truncated JSON, arrays...) yields null and is ignored.
 * @param {unknown} data
 * @returns {JobMessage | null}
 */
export function parseMessage(data) {
  if (typeof data !== 'string') return null
  let value
  try {
    value = JSON.parse(data)
  } catch {
    return null
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return null
  if (typeof value.type !== 'string') return null
  return value
}

/**
 * @param {unknown} value
 * @returns {value is number}
 */
function isEventId(value) {
  return Number.isSafeInteger(value) && /** @type {number} */ (value) >= 0
}

/**
 * A filter list, or null for "no filter". An empty list also means no filter, as in the hook.
 * @param {string[] | string | null | undefined} types
 * @returns {string[] | null}
 */
function normalizeTypes(types) {
  if (types === null || types === undefined) return null
  const list = (Array.isArray(types) ? types : [types]).filter((t) => typeof t === 'string' && t)
  return list.length ? [...new Set(list)] : null
}

/**
 * Ids already delivered, bounded so a long-lived page does not grow without limit. A
 * replay only ever repeats recent ids, so forgetting the oldest is safe.
 * @param {number} limit
 */
function createIdWindow(limit) {
  const ids = new Set()
  return {
    /** @param {number} id */
    has: (id) => ids.has(id),
    /** @param {number} id */
    add(id) {
      ids.add(id)
      if (ids.size > limit) ids.delete(ids.values().next().value) // Sets iterate oldest first
    },
    clear: () => ids.clear(),
  }
}

/** @param {unknown} error */
function defaultListenerError(error) {
  if (typeof globalThis.reportError === 'function') globalThis.reportError(error)
  else console.error(error)
}

// --- the client ---------------------------------------------------------------------------

/**
 * Open (by default immediately) a self-healing connection to the JobSentinel socket.
 * @param {JobSocketOptions} [options]
 * @returns {JobSocket}
 */
export function createJobSocket(options = {}) {
  const cfg = { ...DEFAULTS, ...withoutUndefined(options) }
  const WebSocketImpl = options.WebSocketImpl ?? globalThis.WebSocket
  if (typeof WebSocketImpl !== 'function') {
    throw new TypeError('createJobSocket: no WebSocket implementation; pass options.WebSocketImpl')
  }
  const random = options.random ?? Math.random
  const setTimer = options.setTimeout ?? ((fn, ms) => globalThis.setTimeout(fn, ms))
  const clearTimer = options.clearTimeout ?? ((id) => globalThis.clearTimeout(id))
  const now = options.now ?? Date.now
  const reportListenerError = options.onListenerError ?? defaultListenerError
  const location = options.location ?? globalThis.location
  const baseUrl = options.url ? toSocketUrl(options.url, location) : defaultUrl(location, cfg.basePath)

  /** @type {Record<string, Set<Function>>} */
  const listeners = { message: new Set(), state: new Set(), retry: new Set() }
  if (options.onMessage) listeners.message.add(options.onMessage)
  if (options.onConnectionChange) listeners.state.add(options.onConnectionChange)

  let ws = null
  /** @type {ConnectionState} */
  let state = 'disconnected'
  /** @type {JobMessage[]} */
  let messages = []
  /** @type {JobMessage | null} */
  let lastMessage = null
  let filter = normalizeTypes(options.messageTypes)
  let knownEvents = [...EVENT_TYPES]
  let lastEventId = isEventId(options.lastEventId) ? options.lastEventId : null
  const seen = createIdWindow(cfg.maxSeenIds)

  let heartbeatMs = cfg.heartbeatInterval * 1000
  let lastFrameAt = 0
  let watchdogTimer = null
  let retryTimer = null
  let nextRetryAt = null
  // `attempt` drives the backoff exponent; `budgetUsed` is what maxReconnectAttempts
  // limits. They differ only while the server is restarting (see RESTART_ATTEMPT_WEIGHT).
  let attempt = 0
  let budgetUsed = 0
  let restarting = false
  // True from connect() to disconnect(): whether a lost connection should come back.
  let wanted = false

  // --- listeners and state ---

  function emit(type, payload) {
    for (const fn of [...listeners[type]]) {
      try {
        fn(payload)
      } catch (error) {
        // A broken UI callback must not break reconnects or message bookkeeping.
        reportListenerError(error)
      }
    }
  }

  /** @param {ConnectionState} next */
  function setState(next) {
    if (state === next) return
    state = next
    emit('state', next)
  }

  function on(type, fn) {
    if (!Object.hasOwn(listeners, type)) throw new TypeError(`unknown event type ${JSON.stringify(type)}`)
    listeners[type].add(fn)
    return () => off(type, fn)
  }

  function off(type, fn) {
    if (Object.hasOwn(listeners, type)) listeners[type].delete(fn)
  }

  // --- subscription ---

  /** Event types the server should send, or null for all of them. */
  function serverEvents() {
    return filter ? filter.filter((t) => knownEvents.includes(t)) : null
  }

  function currentUrl() {
    return buildUrl(baseUrl, { apiKey: cfg.apiKey, events: serverEvents(), lastEventId })
  }

  function sendSubscribe() {
    const events = serverEvents()
    // Without `events` the server subscribes to everything, which is what "no filter" means.
    return send(events ? { type: 'subscribe', events } : { type: 'subscribe' })
  }

  function subscribe(events) {
    filter = normalizeTypes(events)
    return sendSubscribe()
  }

  // --- connection lifecycle ---

  function open() {
    clearRetry()
    setState('connecting')
    let socket
    try {
      socket = new WebSocketImpl(currentUrl())
    } catch {
      socketGone(CLOSE_CODES.ABNORMAL)
      return
    }
    ws = socket
    socket.onopen = () => socket === ws && handleOpen()
    socket.onmessage = (event) => socket === ws && handleFrame(event)
    socket.onclose = (event) => socket === ws && handleClose(socket, event)
    // A close event always follows an error; handling both would retry twice. The no-op
    // handler also keeps Node's `ws` package from treating the error as unhandled.
    socket.onerror = () => {}
    // Armed from creation, so a handshake that hangs counts as a dead connection too.
    lastFrameAt = now()
    armWatchdog()
  }

  function handleOpen() {
    // The URL already carried the filter; the message also covers servers that ignore
    // query parameters and a subscribe() made while we were connecting.
    if (filter) sendSubscribe()
  }

  function handleClose(socket, event) {
    detach(socket)
    ws = null
    socketGone(typeof event?.code === 'number' ? event.code : CLOSE_CODES.ABNORMAL)
  }

  /** The socket is gone (closed, failed to open, or abandoned): decide what comes next. */
  function socketGone(code) {
    stopWatchdog()
    if (!wanted) return setState('disconnected')
    const policy = closePolicy(code)
    if (policy.fatal) return giveUp('error')
    if (!cfg.reconnect) return giveUp('disconnected')
    const delay = retryDelay(policy)
    if (delay === null) return giveUp('error')
    scheduleRetry(delay, code)
  }

  /** @returns {number | null} ms, or null when the attempts are used up */
  function retryDelay(policy) {
    if (policy.prompt && !restarting) {
      // First 1012 since the last healthy connection: free, quick, lightly jittered. A
      // second one before we get back in is an ordinary (half-weight) failure, so a server
      // stuck closing with 1012 cannot make us spin.
      restarting = true
      return random() * cfg.restartDelay
    }
    if (budgetUsed >= cfg.maxReconnectAttempts) return null
    budgetUsed += restarting ? RESTART_ATTEMPT_WEIGHT : 1
    const delay = policy.minDelay + backoffDelay(attempt, { base: cfg.reconnectDelay, cap: cfg.maxReconnectDelay, random })
    attempt += 1
    return delay
  }

  function scheduleRetry(delay, code) {
    // nextRetryAt is set before the state change so a state listener can show it.
    nextRetryAt = now() + delay
    retryTimer = setTimer(() => {
      retryTimer = null
      open()
    }, delay)
    setState('disconnected')
    emit('retry', { delay, at: nextRetryAt, attempt, code })
  }

  function clearRetry() {
    if (retryTimer !== null) clearTimer(retryTimer)
    retryTimer = null
    nextRetryAt = null
  }

  /** @param {ConnectionState} finalState */
  function giveUp(finalState) {
    wanted = false
    clearRetry()
    setState(finalState)
  }

  function detach(socket) {
    socket.onopen = socket.onmessage = socket.onclose = null
    socket.onerror = () => {}
  }

  function resetBudget() {
    attempt = 0
    budgetUsed = 0
    restarting = false
  }

  // --- dead-connection detection ---

  function watchdogTimeout() {
    return heartbeatMs + cfg.heartbeatGrace * 1000
  }

  // One timer that re-checks `lastFrameAt`, rather than a clear/set per frame: cheap
  // even when a scrape produces hundreds of events a second.
  function armWatchdog() {
    stopWatchdog()
    if (!ws || !(heartbeatMs > 0) || !Number.isFinite(heartbeatMs)) return
    const remaining = lastFrameAt + watchdogTimeout() - now()
    watchdogTimer = setTimer(checkWatchdog, Math.max(0, remaining))
  }

  function checkWatchdog() {
    watchdogTimer = null
    if (!ws) return
    if (now() - lastFrameAt >= watchdogTimeout()) abandonSilentSocket()
    else armWatchdog()
  }

  function stopWatchdog() {
    if (watchdogTimer !== null) clearTimer(watchdogTimer)
    watchdogTimer = null
  }

  // Stop listening to the current socket and close it; its events no longer reach us.
  function dropSocket(code, reason) {
    const socket = ws
    detach(socket)
    ws = null
    try {
      socket.close(code, reason)
    } catch {
      // already closing, or never opened (some implementations throw then): nothing to do
    }
  }

  function abandonSilentSocket() {
    // On a dead network the closing handshake never completes and `onclose` can take
    // minutes, so stop listening to this socket and move on now.
    dropSocket(CLOSE_CODES.HEARTBEAT_TIMEOUT, 'heartbeat timeout')
    socketGone(CLOSE_CODES.HEARTBEAT_TIMEOUT)
  }

  // --- incoming frames ---

  function handleFrame(event) {
    lastFrameAt = now() // any frame, even one we cannot parse, proves the link is alive
    const message = parseMessage(event?.data)
    if (!message) return
    if (message.type === 'connected') handleConnected(message.data)
    if (isEventId(message.id) && !rememberEvent(message.id)) return // replayed duplicate
    if (filter && !filter.includes(message.type)) return
    record(message)
    emit('message', message)
  }

  function handleConnected(data) {
    if (data && typeof data === 'object') {
      const interval = data.heartbeat_interval
      if (typeof interval === 'number' && interval > 0 && Number.isFinite(interval)) {
        heartbeatMs = interval * 1000
        armWatchdog()
      }
      if (Array.isArray(data.events) && data.events.every((e) => typeof e === 'string')) {
        knownEvents = [...data.events]
      }
      adoptServerPosition(data.last_event_id)
    }
    // The server accepted us (auth and capacity passed): this counts as healthy.
    resetBudget()
    setState('connected')
  }

  function adoptServerPosition(latest) {
    if (!isEventId(latest)) return
    if (lastEventId === null) {
      // Fresh client: start the resume point at "now", so events published while we are
      // disconnected later are replayed even if none arrived on this connection.
      lastEventId = latest
    } else if (latest < lastEventId) {
      // The server's log is behind us: it was reset (new database). Our ids mean nothing
      // there, and remembering them would drop new events that reuse them as duplicates.
      lastEventId = latest
      seen.clear()
    }
  }

  /** @returns {boolean} false when the id was already delivered */
  function rememberEvent(id) {
    if (seen.has(id)) return false
    seen.add(id)
    if (lastEventId === null || id > lastEventId) lastEventId = id
    return true
  }

  function record(message) {
    lastMessage = message
    // A new array each time, so a UI can compare by identity to detect changes.
    const next = [...messages, message]
    messages = next.length > cfg.maxMessages ? next.slice(next.length - cfg.maxMessages) : next
  }

  // --- public API ---

  function send(message) {
    if (!ws || ws.readyState !== OPEN) return false
    ws.send(JSON.stringify(message))
    return true
  }

  function connect() {
    wanted = true
    if (ws) return // already connecting or connected
    // A manual connect (e.g. a "retry" button after 'error') gets a fresh budget.
    resetBudget()
    open()
  }

  function disconnect() {
    wanted = false
    clearRetry()
    stopWatchdog()
    if (ws) dropSocket(CLOSE_CODES.NORMAL, 'client disconnect')
    setState('disconnected')
  }

  function clearMessages() {
    messages = []
    lastMessage = null
  }

  const api = {
    get state() { return state },
    get lastMessage() { return lastMessage },
    get messages() { return messages },
    get lastEventId() { return lastEventId },
    get nextRetryAt() { return nextRetryAt },
    get reconnectAttempts() { return attempt },
    get messageTypes() { return filter ? [...filter] : null },
    get url() { return currentUrl() },
    send,
    connect,
    disconnect,
    clearMessages,
    subscribe,
    on,
    off,
    addEventListener: on,
    removeEventListener: off,
  }

  if (cfg.autoConnect) connect()
  return api
}

/**
 * Options with `undefined` values removed, so `{reconnectDelay: undefined}` keeps the default.
 * @param {object} options
 */
function withoutUndefined(options) {
  return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined))
}

// What every JobSentinel page shares: the live connection and its status in the header, the
// REST API with this page's session, and the live-updates choice. Values from the server are
// written with textContent, or come as HTML rendered and escaped by Django's templates.
import { createJobSocket } from './jobsentinel-ws.js'

export const root = document.querySelector('[data-page]')
export const basePath = (root.dataset.basePath || '/').replace(/\/$/, '')
const csrfToken = root.dataset.csrf || ''

/** Call the REST API; resolves to {ok, status, data}, never throws on an HTTP error. */
export async function api (method, path, body) {
  const headers = { Accept: 'application/json', 'X-CSRFToken': csrfToken }
  if (body !== undefined) headers['Content-Type'] = 'application/json'
  try {
    const response = await fetch(`${basePath}/api/v1/${path}`, {
      method,
      headers,
      credentials: 'same-origin',
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    const data = await response.json().catch(() => ({}))
    return { ok: response.ok, status: response.status, data }
  } catch (error) {
    return { ok: false, status: 0, data: { detail: 'The server could not be reached.' } }
  }
}

/** The first message of an API error body, in words. */
export function errorText (result) {
  const data = result.data || {}
  if (typeof data.detail === 'string') return data.detail
  const [field, problems] = Object.entries(data)[0] || []
  if (!field) return `The server answered ${result.status}.`
  const text = Array.isArray(problems) ? problems.join(' ') : String(problems)
  return `${field.replace(/_/g, ' ')}: ${text}`
}

/** Fetch server-rendered HTML (same origin) and parse it into nodes. */
export async function fetchFragment (url) {
  const response = await fetch(url, { credentials: 'same-origin' })
  if (!response.ok) return null
  const holder = document.createElement('template')
  holder.innerHTML = await response.text() // rendered and escaped by Django templates
  return holder.content
}

const dot = root.querySelector('.dot')
const connectionText = root.querySelector('[data-connection-text]')

/** The page's live connection; `types` are the event types it wants. */
export function connect (types) {
  root.querySelector('[data-connection]').hidden = false
  const socket = createJobSocket({
    basePath,
    lastEventId: Number(root.dataset.lastEventId) || 0,
    messageTypes: types,
    maxReconnectAttempts: Infinity,
  })
  function render (state) {
    dot.dataset.state = state
    let text = state
    if (state !== 'connected' && socket.nextRetryAt) {
      const seconds = Math.max(0, Math.ceil((socket.nextRetryAt - Date.now()) / 1000))
      text = `${state}, retrying in ${seconds} s`
    }
    connectionText.textContent = text
    root.dataset.connection = state
  }
  socket.on('state', render)
  socket.on('retry', () => render(socket.state))
  setInterval(() => render(socket.state), 1000)
  return socket
}

/** Debounce a handler of job ids: many events in a burst become one request. */
export function batched (handle, wait = 150) {
  let pending = new Set()
  let timer = null
  return (id) => {
    pending.add(Number(id))
    if (timer) return
    timer = setTimeout(() => {
      const ids = [...pending]
      pending = new Set()
      timer = null
      handle(ids)
    }, wait)
  }
}

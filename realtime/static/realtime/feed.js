// The feed page. The server rendered the jobs matching the URL's search and filters; this
// keeps them live. A job that arrives or changes is fetched again as server-rendered rows
// filtered by the page's own query (`/feed/jobs?<query>&ids=...`), so the server's one filter
// decides what belongs on the page and the one card template decides how it looks.
import { EVENT_TYPES } from './jobsentinel-ws.js'
import { basePath, batched, connect, fetchFragment, root } from './page.js'
import { scrapeHandlers } from './monitor.js'
import './job-actions.js'

const list = root.querySelector('[data-jobs]')
const emptyNote = root.querySelector('[data-jobs-empty]')
const announce = root.querySelector('[data-announce]')
const notifyButton = root.querySelector('[data-notify]')
const filters = root.querySelector('[data-filters]')
const notifyThreshold = Number(root.dataset.notifyThreshold || 1)
const query = root.dataset.query || ''
const ordering = root.dataset.ordering || '-first_seen'
const pageNumber = Number(root.dataset.pageNumber || 1)
const pageSize = Number(root.dataset.pageSize || 100)
const includesClosed = new URLSearchParams(query).has('include_closed')

// --- where a row goes --------------------------------------------------------------------------

function sortKey (row) {
  const id = Number(row.dataset.jobId)
  if (ordering === '-score') return [Number(row.dataset.score || 0), id]
  if (ordering === '-posted_at') return [row.dataset.posted ? Date.parse(row.dataset.posted) : -Infinity, id]
  return [Date.parse(row.dataset.firstSeen || 0), id]
}

function comesBefore (a, b) {
  const [ka, ia] = sortKey(a)
  const [kb, ib] = sortKey(b)
  return ka > kb || (ka === kb && ia > ib)
}

/** Put a new row where the page's sort order says; false when it belongs on a later page. */
function insertSorted (row) {
  for (const other of list.children) {
    if (comesBefore(row, other)) {
      other.before(row)
      trimToPageSize()
      return true
    }
  }
  if (list.children.length >= pageSize) return false
  list.append(row)
  return true
}

function trimToPageSize () {
  while (list.children.length > pageSize) list.lastElementChild.remove()
}

function findRow (jobId) {
  return list.querySelector(`:scope > [data-job-id="${Number(jobId)}"]`)
}

/** Replace a row's content in place (the same element), keeping what the user had open. */
function updateRow (row, fresh) {
  const open = [...row.querySelectorAll('details[open]')].map((d) => d.className)
  const focused = row.contains(document.activeElement) ? document.activeElement : null
  const focusKey = focused?.dataset.action || (focused?.hasAttribute('data-notes') ? 'notes-text' : null)
  const said = row.querySelector('[data-action-state]')?.textContent || ''
  for (const { name, value } of fresh.attributes) row.setAttribute(name, value)
  row.replaceChildren(...fresh.childNodes)
  const state = row.querySelector('[data-action-state]')
  if (state && said) state.textContent = said
  for (const details of row.querySelectorAll('details')) if (open.includes(details.className)) details.open = true
  if (focusKey) {
    const target = focusKey === 'notes-text' ? row.querySelector('[data-notes]') : row.querySelector(`[data-action="${focusKey}"]`)
    target?.focus()
  }
}

function highlight (row) {
  row.classList.add('fresh')
  setTimeout(() => row.classList.remove('fresh'), 4000)
}

function refreshEmpty () {
  emptyNote.hidden = list.children.length > 0
}

// --- live rows ---------------------------------------------------------------------------------

function rowsUrl (ids) {
  // Closed jobs are asked for too: a job on the page that closes stays, marked closed.
  const params = new URLSearchParams(query)
  params.set('include_closed', '1')
  params.set('ids', ids.join(','))
  return `${basePath}/feed/jobs?${params}`
}

async function fetchRows (ids) {
  const fragment = await fetchFragment(rowsUrl(ids))
  const rows = new Map()
  for (const row of fragment ? fragment.children : []) rows.set(Number(row.dataset.jobId), row)
  return rows
}

const newJobs = new Map() // id → event data, for the announcement and notification

const showNew = batched(async (ids) => {
  const rows = await fetchRows(ids)
  for (const id of ids) {
    const job = newJobs.get(id)
    newJobs.delete(id)
    const row = rows.get(id)
    if (!row || findRow(id) || (row.dataset.status === 'closed' && !includesClosed)) continue
    if (!insertSorted(row)) continue
    highlight(row)
    if (job) announce.textContent = `New job: ${job.title} at ${job.company}`
  }
  refreshEmpty()
})

const showUpdated = batched(async (ids) => {
  const rows = await fetchRows(ids)
  for (const id of ids) {
    const row = findRow(id)
    const fresh = rows.get(id)
    if (row && fresh) {
      updateRow(row, fresh)
      highlight(row)
    } else if (row) {
      row.remove() // no longer matches the page's filters (hidden, unstarred, ...)
    } else if (fresh && pageNumber === 1 && (fresh.dataset.status !== 'closed' || includesClosed)) {
      if (insertSorted(fresh)) highlight(fresh) // now matches (starred elsewhere, ...)
    }
  }
  refreshEmpty()
})

async function reloadJobs () {
  // Many scores changed at once: the server renders this page of the list again.
  const params = new URLSearchParams(query)
  if (pageNumber > 1) params.set('page', String(pageNumber))
  const fragment = await fetchFragment(`${basePath}/feed/jobs?${params}`)
  if (!fragment) return
  list.replaceChildren(...fragment.children)
  refreshEmpty()
}

function onNewJob (job) {
  notify(job)
  if (pageNumber !== 1) return // new jobs would shift the later pages under the reader
  newJobs.set(Number(job.job_id), job)
  showNew(job.job_id)
}

function onJobUpdated (data) {
  if (findRow(data.job_id) || pageNumber === 1) showUpdated(data.job_id)
}

// --- notifications -----------------------------------------------------------------------------

const NOTIFY_KEY = 'jobsentinel.notify'

function notificationsOn () {
  return 'Notification' in window && Notification.permission === 'granted' && localStorage.getItem(NOTIFY_KEY) === 'on'
}

function notify (job) {
  if (!notificationsOn() || Number(job.score) < notifyThreshold) return
  new Notification('New job found', { body: `${job.title} at ${job.company}`, tag: `job-${job.job_id}` })
}

function renderNotifyButton () {
  if (!('Notification' in window)) {
    notifyButton.disabled = true
    notifyButton.textContent = 'Notifications unavailable'
    return
  }
  notifyButton.textContent = notificationsOn() ? 'Disable notifications' : 'Enable notifications'
  notifyButton.setAttribute('aria-pressed', String(notificationsOn()))
}

notifyButton.addEventListener('click', async () => {
  if (notificationsOn()) {
    localStorage.setItem(NOTIFY_KEY, 'off')
  } else if ((await Notification.requestPermission()) === 'granted') {
    localStorage.setItem(NOTIFY_KEY, 'on')
  }
  renderNotifyButton()
})
renderNotifyButton()

// --- connection --------------------------------------------------------------------------------

function selectedEvents () {
  return [...root.querySelectorAll('input[name="events"]:checked')]
    .flatMap((box) => box.dataset.eventGroup.split(','))
    .filter((type) => EVENT_TYPES.includes(type))
}

const socket = connect(selectedEvents())
const handlers = { new_job: onNewJob, job_updated: onJobUpdated, jobs_rescored: reloadJobs, ...scrapeHandlers }
socket.on('message', (message) => {
  if (EVENT_TYPES.includes(message.type)) handlers[message.type]?.(message.data)
})
for (const box of root.querySelectorAll('input[name="events"]')) {
  box.addEventListener('change', () => socket.subscribe(selectedEvents()))
}

// The form shows the URL's state: after Back, browsers would restore what was typed before
// instead, which would disagree with the list the server rendered for this URL.
const filterForm = root.querySelector('[data-filter-form]')
filterForm?.reset()
window.addEventListener('pageshow', () => filterForm?.reset())

// On a phone the filters start folded (one tap away at the top) unless some are in use.
if (filters && window.matchMedia('(max-width: 760px)').matches && !query) filters.open = false
refreshEmpty()

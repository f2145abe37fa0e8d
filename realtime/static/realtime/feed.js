// The live feed page: the server rendered the latest jobs and the scraper monitor; this keeps
// them live. Every value from the server is written with textContent (never innerHTML), so a
// job title or description cannot run script in the page.
import { createJobSocket, EVENT_TYPES } from './jobsentinel-ws.js'

const root = document.querySelector('[data-feed]')
const list = root.querySelector('[data-jobs]')
const emptyNote = root.querySelector('[data-jobs-empty]')
const announce = root.querySelector('[data-announce]')
const template = document.querySelector('[data-job-template]')
const dot = root.querySelector('.dot')
const connectionText = root.querySelector('[data-connection-text]')
const minScoreInput = root.querySelector('[data-min-score]')
const minScoreValue = root.querySelector('[data-min-score-value]')
const remoteOnly = root.querySelector('[data-remote-only]')
const notifyButton = root.querySelector('[data-notify]')
const notifyThreshold = Number(root.dataset.notifyThreshold || 1)
const basePath = (root.dataset.basePath || '/').replace(/\/$/, '')
const WORKPLACE_LABELS = { remote: 'Remote', hybrid: 'Hybrid', onsite: 'On-site', unknown: 'Unknown' }

// --- filters ---------------------------------------------------------------------------------

function selectedEvents () {
  return [...root.querySelectorAll('input[name="events"]:checked')].map((box) => box.value)
}

function passesFilters (row) {
  const score = Number(row.dataset.score || 0)
  if (score + 1e-9 < Number(minScoreInput.value)) return false
  if (remoteOnly.checked && row.dataset.workplace !== 'remote') return false
  return true
}

function applyFilters () {
  minScoreValue.textContent = Number(minScoreInput.value).toFixed(2)
  for (const row of list.children) row.hidden = !passesFilters(row)
  emptyNote.hidden = list.children.length > 0
}

// --- job rows --------------------------------------------------------------------------------

function safeUrl (url) {
  return /^https?:\/\//i.test(url || '') ? url : '#'
}

function fillRow (row, job) {
  row.dataset.jobId = String(job.job_id)
  row.dataset.score = String(job.score ?? 0)
  row.dataset.workplace = job.workplace || 'unknown'
  row.dataset.status = job.status || 'open'
  row.classList.toggle('closed', job.status === 'closed')
  const title = row.querySelector('.job-title')
  title.textContent = job.title || ''
  title.href = safeUrl(job.url)
  row.querySelector('.job-score').textContent = Number(job.score ?? 0).toFixed(2)
  row.querySelector('.job-company').textContent = job.company || ''
  row.querySelector('.job-location').textContent = job.location || ''
  row.querySelector('.job-workplace').textContent = WORKPLACE_LABELS[job.workplace] || ''
  if (job.snippet !== undefined) row.querySelector('.job-snippet').textContent = job.snippet
}

function findRow (jobId) {
  return list.querySelector(`[data-job-id="${Number(jobId)}"]`)
}

function highlight (row) {
  row.classList.add('fresh')
  setTimeout(() => row.classList.remove('fresh'), 4000)
}

function onNewJob (job) {
  let row = findRow(job.job_id)
  if (!row) {
    row = template.content.firstElementChild.cloneNode(true)
    list.prepend(row)
  }
  fillRow(row, job)
  row.hidden = !passesFilters(row)
  emptyNote.hidden = true
  highlight(row)
  if (!row.hidden) announce.textContent = `New job: ${job.title} at ${job.company}`
  notify(job)
}

function onJobUpdated (data) {
  const row = findRow(data.job_id)
  if (!row) return
  if (data.job?.hidden) {
    row.remove()
    applyFilters()
    return
  }
  fillRow(row, { ...data.job, score: data.new_score ?? data.job?.score })
  row.hidden = !passesFilters(row)
  highlight(row)
}

async function reloadJobs () {
  // Many scores changed at once: fetch the freshly ordered list rendered by the server.
  const response = await fetch(`${basePath}/feed/jobs`, { credentials: 'same-origin' })
  if (!response.ok) return
  const holder = document.createElement('template')
  holder.innerHTML = await response.text() // server-rendered and escaped by Django templates
  list.replaceChildren(...holder.content.children)
  applyFilters()
}

// --- scraper monitor -------------------------------------------------------------------------

function monitorRow (data) {
  const monitor = root.querySelector('[data-monitor]')
  let row = monitor.querySelector(`[data-source-id="${Number(data.source_id)}"]`)
  if (!row) {
    monitor.querySelector('[data-monitor-empty]')?.remove()
    row = document.createElement('li')
    row.className = 'source'
    row.dataset.sourceId = String(data.source_id)
    for (const [cls, attr] of [['source-name'], ['source-kind'], ['source-state', 'data-source-state'], ['source-detail', 'data-source-detail']]) {
      const span = document.createElement('span')
      span.className = cls
      if (attr) span.setAttribute(attr, '')
      row.append(span, ' ')
    }
    row.querySelector('.source-name').textContent = data.source_name || data.source
    row.querySelector('.source-kind').textContent = data.source
    monitor.append(row)
  }
  return row
}

function onScrapeStarted (data) {
  const row = monitorRow(data)
  row.dataset.runningSince = data.started_at || new Date().toISOString()
  row.dataset.expected = data.expected_duration_seconds ?? ''
  row.querySelector('[data-source-state]').textContent = 'running'
  tickMonitor()
}

function onScrapeCompleted (data) {
  const row = monitorRow(data)
  delete row.dataset.runningSince
  delete row.dataset.expected
  row.querySelector('[data-source-state]').textContent = data.status || 'completed'
  const errors = data.errors ? `, ${data.errors} error${data.errors > 1 ? 's' : ''}` : ''
  const message = data.error_message ? ` (${data.error_message})` : ''
  row.querySelector('[data-source-detail]').textContent =
    `${data.jobs_found} found, ${data.new_jobs} new, ${data.updated_jobs} updated${errors}${message}` +
    (data.duration_seconds != null ? ` in ${Number(data.duration_seconds).toFixed(1)} s` : '')
}

function tickMonitor () {
  for (const row of root.querySelectorAll('[data-running-since]')) {
    const elapsed = Math.max(0, (Date.now() - Date.parse(row.dataset.runningSince)) / 1000)
    const expected = row.dataset.expected ? ` of ~${Math.round(Number(row.dataset.expected))} s` : ''
    row.querySelector('[data-source-detail]').textContent = `running for ${Math.round(elapsed)} s${expected}`
  }
}
setInterval(tickMonitor, 1000)

// --- notifications ---------------------------------------------------------------------------

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

// --- connection ------------------------------------------------------------------------------

const socket = createJobSocket({
  basePath,
  lastEventId: Number(root.dataset.lastEventId) || 0,
  messageTypes: selectedEvents(),
  maxReconnectAttempts: Infinity,
})

function renderConnection (state) {
  dot.dataset.state = state
  let text = state
  if (state !== 'connected' && socket.nextRetryAt) {
    const seconds = Math.max(0, Math.ceil((socket.nextRetryAt - Date.now()) / 1000))
    text = `${state}, retrying in ${seconds} s`
  }
  connectionText.textContent = text
  root.dataset.connection = state
}

socket.on('state', renderConnection)
socket.on('retry', () => renderConnection(socket.state))
setInterval(() => renderConnection(socket.state), 1000)

const handlers = {
  new_job: onNewJob,
  job_updated: onJobUpdated,
  jobs_rescored: reloadJobs,
  scrape_started: onScrapeStarted,
  scrape_completed: onScrapeCompleted,
}

socket.on('message', (message) => {
  const handle = handlers[message.type]
  if (handle && EVENT_TYPES.includes(message.type)) handle(message.data)
})

// --- controls --------------------------------------------------------------------------------

for (const box of root.querySelectorAll('input[name="events"]')) {
  box.addEventListener('change', () => socket.subscribe(selectedEvents()))
}
minScoreInput.addEventListener('input', applyFilters)
remoteOnly.addEventListener('change', applyFilters)
applyFilters()
tickMonitor()

// The sources panel kept live: scrapes starting and finishing, and "Scrape now".
import { api, errorText, root } from './page.js'

export const SCRAPE_EVENTS = ['scrape_started', 'scrape_completed']
const monitor = root.querySelector('[data-monitor]')

function sourceRow (data) {
  let row = monitor.querySelector(`[data-source-id="${Number(data.source_id)}"]`)
  if (!row) {
    monitor.querySelector('[data-monitor-empty]')?.remove()
    row = document.createElement('li')
    row.className = 'source'
    row.dataset.sourceId = String(data.source_id)
    for (const [cls, attr] of [['source-name'], ['source-kind'], ['source-state', 'data-source-state'], ['source-detail', 'data-source-detail'], ['source-health', 'data-source-health']]) {
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

function setError (row, text) {
  let error = row.querySelector('[data-source-error]')
  if (!text) {
    error?.remove()
    return
  }
  if (!error) {
    error = document.createElement('span')
    error.className = 'source-error'
    error.setAttribute('data-source-error', '')
    row.querySelector('[data-source-health]').after(error)
  }
  error.textContent = `Last failure: ${text}`
}

export function onScrapeStarted (data) {
  const row = sourceRow(data)
  row.dataset.runningSince = data.started_at || new Date().toISOString()
  row.dataset.expected = data.expected_duration_seconds ?? ''
  row.querySelector('[data-source-state]').textContent = 'running'
  tick()
}

export function onScrapeCompleted (data) {
  const row = sourceRow(data)
  delete row.dataset.runningSince
  delete row.dataset.expected
  row.querySelector('[data-source-state]').textContent = data.status || 'completed'
  const took = data.duration_seconds != null ? ` in ${Number(data.duration_seconds).toFixed(1)} s` : ''
  row.querySelector('[data-source-detail]').textContent =
    `${data.jobs_found} found, ${data.new_jobs} new, ${data.updated_jobs} updated${took}`
  const failed = data.status === 'failed'
  row.dataset.health = failed ? 'failing' : 'healthy'
  row.querySelector('[data-source-health]').textContent = failed ? 'Failing: the last scrape failed.' : 'Healthy'
  setError(row, failed ? (data.error_message || 'no reason given') : '')
}

function tick () {
  for (const row of monitor.querySelectorAll('[data-running-since]')) {
    const elapsed = Math.max(0, (Date.now() - Date.parse(row.dataset.runningSince)) / 1000)
    const expected = row.dataset.expected ? ` of ~${Math.round(Number(row.dataset.expected))} s` : ''
    row.querySelector('[data-source-detail]').textContent = `running for ${Math.round(elapsed)} s${expected}`
  }
}
setInterval(tick, 1000)
tick()

monitor.addEventListener('click', async (event) => {
  const button = event.target.closest('button[data-scrape-now]')
  if (!button) return
  const row = button.closest('[data-source-id]')
  const state = row.querySelector('[data-scrape-state]')
  button.disabled = true
  const result = await api('POST', `sources/${Number(button.dataset.scrapeNow)}/scrape/`)
  button.disabled = false
  if (state) state.textContent = result.ok ? 'Scrape started.' : `Not started: ${errorText(result)}`
})

export const addSourceRow = sourceRow
export const scrapeHandlers = { scrape_started: onScrapeStarted, scrape_completed: onScrapeCompleted }

// The sources page: the live panel, and the "Watch a company" box (POST /api/v1/sources/).
import { api, connect, errorText, root } from './page.js'
import { SCRAPE_EVENTS, addSourceRow, scrapeHandlers } from './monitor.js'

const socket = connect(SCRAPE_EVENTS)
socket.on('message', (message) => scrapeHandlers[message.type]?.(message.data))

const form = root.querySelector('[data-watch-form]')
const result = form.querySelector('[data-watch-result]')

function body (dryRun) {
  const value = (name) => form.elements[name].value.trim()
  const data = {}
  for (const name of ['url', 'name', 'kind', 'token', 'api_url']) if (value(name)) data[name] = value(name)
  if (form.elements.force.checked) data.force = true
  if (dryRun) data.dry_run = true
  return data
}

form.addEventListener('submit', async (event) => {
  event.preventDefault()
  const dryRun = event.submitter?.name === 'dry_run'
  result.textContent = dryRun ? 'Checking the board…' : 'Saving…'
  result.className = 'watch-result'
  const answer = await api('POST', 'sources/', body(dryRun))
  if (!answer.ok) {
    // 422: the board exists but answered with an error or no jobs; its summary says how.
    const preview = answer.data?.preview?.summary
    result.textContent = preview ? `${errorText(answer)} (${preview})` : errorText(answer)
    result.classList.add('failed')
    return
  }
  const data = answer.data
  if (dryRun) {
    result.textContent = data.summary || 'The board answers; nothing was saved.'
    return
  }
  const summary = data.preview?.summary ? `: ${data.preview.summary}` : ''
  result.textContent = `Now watching ${data.name || data.token}${summary}.`
  addSourceRow({ source_id: data.id, source_name: data.name, source: data.kind })
  form.reset()
})

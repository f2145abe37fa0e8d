// The job page: its actions, and the page brought up to date when the job changes anywhere.
import { batched, connect, root } from './page.js'
import './job-actions.js'

const jobId = Number(root.dataset.jobPage)
const article = root.querySelector('.job-detail')

const refresh = batched(async () => {
  const response = await fetch(window.location.href, { credentials: 'same-origin' })
  if (!response.ok) return
  const fresh = new DOMParser().parseFromString(await response.text(), 'text/html').querySelector('.job-detail')
  if (!fresh) return
  const focused = article.contains(document.activeElement) ? document.activeElement : null
  const focusKey = focused?.dataset.action
  const notesOpen = article.querySelector('.job-notes')?.open
  article.replaceChildren(...fresh.childNodes)
  if (notesOpen) article.querySelector('.job-notes').open = true
  if (focusKey) article.querySelector(`[data-action="${focusKey}"]`)?.focus()
})

const socket = connect(['job_updated', 'jobs_rescored'])
socket.on('message', (message) => {
  if (message.type === 'jobs_rescored' || Number(message.data?.job_id) === jobId) refresh(jobId)
})

// A job's own actions (star, hide, application status, notes), on feed cards and the job page.
// They go through the REST API (PATCH /api/v1/jobs/<id>/); the server then sends job_updated,
// which is how this and every other open page show the change.
import { api, errorText, root } from './page.js'

// The card may have been rendered again meanwhile (the job_updated of this very change can
// arrive before the PATCH answers): always write to the one now in the page.
function current (actions) {
  return root.querySelector(`[data-job-actions="${Number(actions.dataset.jobActions)}"]`) || actions
}

function say (actions, text, failed = false) {
  const state = current(actions).querySelector('[data-action-state]')
  if (!state) return
  state.textContent = text
  state.classList.toggle('failed', failed)
}

async function patch (actions, body, done) {
  say(actions, 'Saving…')
  const result = await api('PATCH', `jobs/${Number(actions.dataset.jobActions)}/`, body)
  if (!result.ok) {
    say(actions, `Not saved: ${errorText(result)}`, true)
    return
  }
  say(actions, done)
  // Reflect it at once; the job_updated event that follows brings the server's view.
  actions = current(actions)
  const star = actions.querySelector('[data-action="star"]')
  if (star && 'starred' in body) {
    star.setAttribute('aria-pressed', String(body.starred))
    star.textContent = body.starred ? '★ Starred' : '☆ Star'
  }
  const hide = actions.querySelector('[data-action="hide"]')
  if (hide && 'hidden' in body) {
    hide.setAttribute('aria-pressed', String(body.hidden))
    hide.textContent = body.hidden ? 'Unhide' : 'Hide'
  }
}

root.addEventListener('click', (event) => {
  const button = event.target.closest('button[data-action]')
  const actions = button?.closest('[data-job-actions]')
  if (!actions) return
  const pressed = button.getAttribute('aria-pressed') === 'true'
  if (button.dataset.action === 'star') patch(actions, { starred: !pressed }, pressed ? 'Unstarred' : 'Starred')
  if (button.dataset.action === 'hide') patch(actions, { hidden: !pressed }, pressed ? 'Shown again' : 'Hidden')
  if (button.dataset.action === 'notes') {
    patch(actions, { notes: actions.querySelector('[data-notes]').value }, 'Notes saved')
  }
})

root.addEventListener('change', (event) => {
  const select = event.target.closest('select[data-action="status"]')
  const actions = select?.closest('[data-job-actions]')
  if (!actions) return
  const label = select.selectedOptions[0]?.textContent || ''
  patch(actions, { application_status: select.value }, select.value ? `Status: ${label}` : 'Status cleared')
})

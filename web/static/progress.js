// Progress pages: read the job's JSON every 2 seconds and update the page's polite live region.
// Without this script the page offers a "Refresh this page" link instead (never a timed refresh).
const panel = document.querySelector('[data-progress]')

if (panel) {
  const message = panel.querySelector('[data-progress-message]')
  const percent = panel.querySelector('[data-progress-percent]')
  const fallback = panel.querySelector('[data-progress-fallback]')
  const bar = document.querySelector('[data-progress-bar]')
  const every = 2000

  const refresh = fallback.cloneNode(true)
  fallback.textContent = 'This page updates itself as the work goes on. You can leave it: the work carries on.'

  const show = (status) => {
    // Only a changed sentence is written, so the live region speaks once per stage.
    if (message.textContent !== status.message) message.textContent = status.message
    percent.textContent = `${status.percent}% done.`
    if (bar) {
      bar.value = status.percent
      bar.textContent = `${status.percent}%`
    }
  }

  const finish = (status) => {
    const link = document.createElement('a')
    link.href = window.location.pathname
    link.textContent = panel.dataset.progressDoneLink
    message.textContent = `${status.message} `
    message.append(link)
    percent.remove()
    fallback.remove()
    if (bar) bar.remove()
  }

  const poll = async () => {
    try {
      const response = await fetch(panel.dataset.progress, {
        headers: { Accept: 'application/json' },
        credentials: 'same-origin',
        cache: 'no-store'
      })
      if (!response.ok) throw new Error(`status ${response.status}`)
      const status = await response.json()
      show(status)
      if (!status.running) {
        finish(status)
        return
      }
    } catch (error) {
      // A dropped connection or a signed-out session: offer the refresh link again, keep trying.
      fallback.replaceChildren(...refresh.cloneNode(true).childNodes)
    }
    window.setTimeout(poll, every)
  }

  window.setTimeout(poll, every)
}

/**
 * The page's side of `parley dev`: it listens for reloads of content/, shows the problems of broken
 * files at file:line:col, and asks the page to pick up the edited NPC. Only active when the page is
 * served by the dev server (which marks it with `<meta name="parley-dev">`).
 */
export interface DevStatus { version: number; npcs: string[]; problems: string[]; stale: string[] }

export function isDevPage(): boolean {
  return !!document.querySelector('meta[name="parley-dev"]')
}

function show(status: DevStatus): void {
  let box = document.getElementById('dev-problems')
  if (!box) {
    box = document.createElement('section')
    box.id = 'dev-problems'
    box.setAttribute('role', 'status')
    document.querySelector('header.top')?.after(box)
  }
  box.className = status.problems.length ? 'dev problems' : 'dev ok'
  const title = document.createElement('strong')
  title.textContent = status.problems.length
    ? `parley dev · ${status.problems.length} problem${status.problems.length === 1 ? '' : 's'} in content/${status.stale.length ? ` · still serving the last good ${status.stale.join(', ')}` : ''}`
    : `parley dev · watching content/ · reload ${status.version} · no problems`
  const list = document.createElement('ul')
  for (const p of status.problems) {
    const li = document.createElement('li')
    li.textContent = p
    list.append(li)
  }
  box.replaceChildren(title, list)
}

export function connectDev(onReload: (status: DevStatus) => void): void {
  const source = new EventSource('/dev/events')
  source.addEventListener('hello', (e) => show(JSON.parse((e as MessageEvent<string>).data) as DevStatus))
  source.addEventListener('reload', (e) => {
    const status = JSON.parse((e as MessageEvent<string>).data) as DevStatus
    show(status)
    onReload(status)
  })
}

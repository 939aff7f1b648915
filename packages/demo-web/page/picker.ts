/** The NPC picker: every NPC the server has, the choice kept in the address (`?npc=id`) so it can be shared. */
import type { NpcInfo } from './api.ts'

export function chosenNpcId(): string | null {
  return new URLSearchParams(location.search).get('npc')
}

export function mountPicker(npcs: readonly NpcInfo[], current: string): void {
  let select = document.getElementById('npc-picker') as HTMLSelectElement | null
  if (!select) {
    const label = document.createElement('label')
    label.className = 'picker'
    label.htmlFor = 'npc-picker'
    label.textContent = 'NPC '
    select = document.createElement('select')
    select.id = 'npc-picker'
    label.append(select)
    document.querySelector('header.top')?.insertBefore(label, document.getElementById('provider'))
    select.addEventListener('change', () => {
      const url = new URL(location.href)
      url.searchParams.set('npc', select!.value)
      location.assign(url)
    })
  }
  select.replaceChildren(
    ...npcs.map((n) => {
      const option = document.createElement('option')
      option.value = n.id
      option.textContent = `${n.name} (${n.id})`
      option.selected = n.id === current
      return option
    }),
  )
}

import { api, type ConversationView, type Inventory, type Message, type Moved, type NpcInfo } from './api.ts'
import { renderExplain } from './explain-panel.ts'
import { chosenNpcId, mountPicker } from './picker.ts'
import { connectDev, isDevPage } from './dev-reload.ts'

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T
const log = $<HTMLOListElement>('log')
const input = $<HTMLInputElement>('line')
const send = $<HTMLButtonElement>('send')
const typing = $<HTMLDivElement>('typing')
const saveKey = () => `parley.demo.save.${npc.id}`

let npc: NpcInfo
let conversationId = ''
/** What the player holds, as the demo server (the game) says: the page decides nothing. */
let inventory: Inventory = { items: [], received: [] }
let busy = false
let ended = false

function line(kind: 'npc' | 'player' | 'system', text: string, who?: string): HTMLElement {
  const li = document.createElement('li')
  li.className = `msg ${kind}`
  if (who) {
    const w = document.createElement('span')
    w.className = 'who'
    w.textContent = who
    li.append(w)
  }
  const body = document.createElement('span')
  body.className = 'text'
  body.textContent = text
  li.append(body)
  log.append(li)
  log.scrollTop = log.scrollHeight
  return li
}

function setBusy(on: boolean) {
  busy = on
  send.disabled = on || ended
  input.disabled = ended
  typing.hidden = !on
}

/** A small part of a large stack (gold) can be paid on its own: the game rewards every 10. */
const PART = 10

function giveButton(item: { id: string; name: string }, count: number, label: string): HTMLButtonElement {
  const button = document.createElement('button')
  button.type = 'button'
  button.textContent = label
  button.setAttribute('aria-label', `give ${item.name} ×${count}`)
  button.disabled = ended
  button.addEventListener('click', () => void give(item.id, count))
  return button
}

function renderInventory() {
  const ul = $<HTMLUListElement>('inventory')
  ul.replaceChildren()
  let any = false
  for (const item of inventory.items) {
    const have = item.count
    any = true
    const li = document.createElement('li')
    const label = document.createElement('span')
    label.className = item.id === 'red_gem' ? 'gem' : 'gold'
    label.textContent = `${item.id === 'red_gem' ? '◆' : '●'} ${item.name} ×${have}`
    const gives = document.createElement('span')
    gives.className = 'gives'
    if (have > PART) {
      const part = giveButton(item, PART, `交${PART}`)
      part.dataset.part = item.id
      gives.append(part)
    }
    const all = giveButton(item, have, `交给${npc.name.slice(0, 6)}`)
    all.dataset.item = item.id
    gives.append(all)
    li.append(label, gives)
    ul.append(li)
  }
  for (const thing of inventory.received) {
    any = true
    const li = document.createElement('li')
    const label = document.createElement('span')
    label.className = 'map'
    label.textContent = `▤ ${thing}`
    li.append(label)
    ul.append(li)
  }
  if (!any) {
    const li = document.createElement('li')
    li.className = 'empty'
    li.textContent = '空空如也 · empty'
    ul.append(li)
  }
  renderDeeds()
}

/** The deeds the game offers for this NPC (threatening the informant): the game decides what each does. */
function renderDeeds() {
  const box = $<HTMLDivElement>('deeds')
  box.replaceChildren(
    ...(inventory.deeds ?? []).map((d) => {
      const button = document.createElement('button')
      button.type = 'button'
      button.textContent = d.label
      button.dataset.deed = d.id
      button.disabled = ended
      button.addEventListener('click', () => void deed(d.id))
      return button
    }),
  )
  box.hidden = box.childElementCount === 0
}

const movedNote = (m: Moved | undefined) => (m && m.from !== m.to ? ` · ${m.var} ${m.from} → ${m.to}` : m ? ` · ${m.var} stays ${m.to}` : '')

function renderBackstage(view: ConversationView, flash: string[] = []) {
  $('state-pill').textContent = view.state
  $('bs-state').textContent = view.state
  $('bs-turns').textContent = String(view.turns)
  $('bs-items').textContent = Object.entries(view.items).map(([k, n]) => `${k}×${n}`).join(', ') || '—'
  $('bs-lore').textContent = view.lore?.join(', ') || '—'
  const secrets = $<HTMLUListElement>('bs-secrets')
  secrets.replaceChildren(
    ...view.secrets.map((s) => {
      const li = document.createElement('li')
      li.className = `${s.unlocked ? 'open' : 'locked'}${flash.includes(s.id) ? ' flash' : ''}`
      li.textContent = `${s.unlocked ? '[+]' : '[×]'} ${s.id} — ${s.unlocked ? 'unlocked' : 'locked'}: ${s.condition}`
      return li
    }),
  )
  if (view.explain) renderExplain(view.explain, flash)
  const list = $<HTMLOListElement>('bs-messages')
  if (!view.lastRequest) return
  list.replaceChildren(...view.lastRequest.map(renderMessage))
}

function renderMessage(m: Message) {
  const li = document.createElement('li')
  li.className = m.role
  const role = document.createElement('span')
  role.className = 'role'
  role.textContent = m.role
  li.append(role, document.createTextNode(m.content))
  return li
}

function celebrate(ids: string[]) {
  if (ids.length === 0) return
  const box = $<HTMLDivElement>('unlock')
  box.replaceChildren()
  const title = document.createElement('strong')
  title.textContent = '// SECRET UNLOCKED'
  box.append(title, document.createTextNode(ids.join(' · ')))
  box.hidden = false
  setTimeout(() => (box.hidden = true), 2600)
}

async function say(text: string) {
  if (busy || ended) return
  linesSent++
  line('player', text || '……', '你')
  setBusy(true)
  let bubble: HTMLElement | undefined
  try {
    const turn = await api.say(conversationId, text, (delta) => {
      if (!bubble) {
        typing.hidden = true
        bubble = line('npc', '', npc.name)
        bubble.classList.add('streaming')
      }
      bubble.querySelector('.text')!.textContent += delta
      log.scrollTop = log.scrollHeight
    })
    bubble ??= line('npc', '', npc.name)
    bubble.classList.remove('streaming')
    // A failed stream may have shown part of a reply: the NPC's authored line replaces it.
    bubble.querySelector('.text')!.textContent = turn.text
    if (turn.kind === 'fallback') bubble.classList.add('fallback')
    for (const action of turn.actions ?? []) {
      if (action.status !== 'done') continue
      if (action.name === 'give_map') {
        line('system', `${npc.name}把${String(action.args?.region ?? '')}的地图交给了你`)
        inventory = await api.inventory(conversationId)
        renderInventory()
      }
    }
    renderBackstage(turn.conversation, turn.unlocked)
    celebrate(turn.unlocked)
    if (turn.state === 'ended') end()
  } catch (error) {
    line('system', `⚠ ${(error as Error).message}`)
  } finally {
    setBusy(false)
    if (!ended) input.focus()
    if (reloadAfterTurn) void ((reloadAfterTurn = false), reloadNpc())
  }
}

async function give(item: string, count: number) {
  if (ended) return
  try {
    const { unlocked, conversation, inventory: after, moved, rewardRefused } = await api.give(conversationId, item, count)
    inventory = after
    const name = npc.items.find((i) => i.id === item)?.name ?? item
    line('system', `你把${name}×${count}交给了${npc.name}${movedNote(moved)}${rewardRefused ? ` · (the game could not reward it: ${rewardRefused})` : ''}`)
    renderInventory()
    renderBackstage(conversation, unlocked)
    celebrate(unlocked)
  } catch (error) {
    line('system', `⚠ ${(error as Error).message}`)
  }
  input.focus()
}

async function deed(id: string) {
  if (ended) return
  try {
    const done = await api.deed(conversationId, id)
    inventory = done.inventory
    line('system', `${done.says}${npc.name}${movedNote(done.moved)}`)
    renderInventory()
    renderBackstage(done.conversation, done.unlocked)
    celebrate(done.unlocked)
  } catch (error) {
    line('system', `⚠ ${(error as Error).message}`)
  }
  input.focus()
}

function end() {
  ended = true
  line('system', '— 对话结束 · conversation ended —')
  setBusy(false)
  renderInventory()
}

function showConversation(view: ConversationView, greeting: string | null, holding: Inventory) {
  log.replaceChildren()
  ended = view.state === 'ended'
  inventory = holding
  if (greeting) line('npc', greeting, npc.name)
  // Tool calls and their results are the machinery behind a turn, not lines anyone said.
  for (const m of view.history.filter((h) => h.role !== 'tool' && !h.tool_calls)) line(m.role === 'user' ? 'player' : 'npc', m.content, m.role === 'user' ? '你' : npc.name)
  renderInventory()
  renderBackstage(view)
  if (!view.lastRequest) $('bs-messages').replaceChildren(Object.assign(document.createElement('li'), { className: 'muted', textContent: 'no call yet' }))
  setBusy(false)
  if (ended) line('system', '— 对话结束 · conversation ended —')
}

async function start(snapshot?: unknown) {
  const view = await api.start(npc.id, snapshot)
  conversationId = view.id
  showConversation(view, view.greeting, await api.inventory(view.id))
  // A returning player: the NPC greets them with what it remembers of their last talks.
  const memories = (view.explain as { memories?: Array<{ text: string; carried: boolean }> } | undefined)?.memories ?? []
  const remembered = memories.filter((m) => m.carried).at(-1)
  if (view.returning && remembered) line('system', `${npc.name}记得 · remembers: ${remembered.text}`)
  input.focus()
}

async function boot() {
  const { npcs } = await api.npcs()
  npc = npcs.find((n) => n.id === (chosenNpcId() ?? 'informant')) ?? npcs[0]!
  mountPicker(npcs, npc.id)
  if (isDevPage()) connectDev(() => void reloadNpc())
  $('npc-name').textContent = npc.name
  const card = $('npc-name').closest('.npc-card')!
  card.querySelector('.avatar')!.textContent = Array.from(npc.name)[0] ?? '?'
  // The tagline under the name is the informant's; other NPCs show their id.
  if (npc.id !== 'informant') card.querySelector('.sub')!.firstChild!.textContent = `${npc.id} · `
  const badge = $('provider')
  badge.textContent = npc.provider === 'scripted' ? 'scripted provider · offline, no GLM key' : `GLM · live model`
  badge.classList.toggle('scripted', npc.provider === 'scripted')
  $<HTMLButtonElement>('restore').disabled = !localStorage.getItem(saveKey())
  await start()
}

/** `parley dev` reloaded content/: the edited NPC is picked up; the conversation continues if its save still fits. */
let reloadAfterTurn = false
/** Lines the player sent: a reload whose view was read before the latest line must not redraw the log. */
let linesSent = 0
async function reloadNpc() {
  // A reload mid-turn would redraw the log under the reply being streamed: wait for the turn.
  if (busy) return void (reloadAfterTurn = true)
  const sentBefore = linesSent
  const { npcs } = await api.npcs()
  mountPicker(npcs, npc.id)
  const fresh = npcs.find((n) => n.id === npc.id)
  if (!fresh) return void line('system', `⚠ ${npc.id} is not served any more (see the problems above)`)
  npc = fresh
  $('npc-name').textContent = npc.name
  try {
    const view = await api.get(conversationId)
    const held = await api.inventory(conversationId)
    // Checked after the last await: a line sent meanwhile must not have its log redrawn from a view
    // read before it (the turn may even be over by now): read again once it is.
    if (busy) return void (reloadAfterTurn = true)
    if (linesSent !== sentBefore) return reloadNpc()
    showConversation(view, npc.greeting, held)
    $('save-note').textContent = '已重新加载 · reloaded, conversation kept'
  } catch (error) {
    await start()
    $('save-note').textContent = `⚠ the conversation no longer fits the edited file (${(error as Error).message}): started over`
  }
}

$<HTMLFormElement>('say').addEventListener('submit', (e) => {
  e.preventDefault()
  const text = input.value
  input.value = ''
  void say(text)
})
$('save').addEventListener('click', async () => {
  const save = await api.save(conversationId)
  localStorage.setItem(saveKey(), JSON.stringify(save))
  $('save-note').textContent = `已存档 · saved at ${new Date().toLocaleTimeString()}`
  $<HTMLButtonElement>('restore').disabled = false
})
$('restore').addEventListener('click', async () => {
  const saved = localStorage.getItem(saveKey())
  if (!saved) return
  try {
    await start(JSON.parse(saved))
    $('save-note').textContent = '已读档 · restored'
  } catch (error) {
    $('save-note').textContent = `⚠ ${(error as Error).message}`
  }
})
$('reset').addEventListener('click', () => void start().then(() => ($('save-note').textContent = '新的对话 · new conversation')))

boot().catch((error: Error) => {
  $('provider').textContent = `⚠ ${error.message}`
})

// Small DOM helpers: element lookup, load status with progress, and the in-page error box
// (a failed load must show a message, never a blank canvas).

export function $<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`viewer page is missing #${id}`);
  return el as T;
}

const NON_TEXT_INPUTS = new Set(['range', 'checkbox', 'radio', 'button', 'submit', 'reset', 'file', 'color']);

/** Whether a key event goes to a text field (or a select's arrows): shortcuts must not fire then. */
export function isTyping(e: KeyboardEvent): boolean {
  const t = e.target;
  if (t instanceof HTMLInputElement) return !NON_TEXT_INPUTS.has(t.type);
  return t instanceof HTMLTextAreaElement || t instanceof HTMLSelectElement || (t instanceof HTMLElement && t.isContentEditable);
}

/** Show a warning in the page (kept apart from errors: the scene still works). */
const warnings: string[] = [];
export function showWarning(message: string): void {
  warnings.push(message);
  const box = $('warning');
  box.textContent = warnings.join('\n');
  box.hidden = false;
}
export function warningMessages(): string[] {
  return [...warnings];
}

/**
 * Message on what a tool did and the command to run next; it stays until closed (its × or Esc),
 * since the command is there to be copied.
 */
export function showNote(html: string): void {
  const box = $('note');
  box.innerHTML = `<button class="note-close" title="Close (Esc)" aria-label="close">×</button>${html}`;
  box.querySelector('button')!.addEventListener('click', hideNote);
  box.hidden = false;
}

/** Close the note; false when none was shown. */
export function hideNote(): boolean {
  const box = $('note');
  if (box.hidden) return false;
  box.hidden = true;
  return true;
}

export function downloadBytes(name: string, bytes: Uint8Array | string, type = 'application/octet-stream'): void {
  const url = URL.createObjectURL(new Blob([bytes as BlobPart], { type }));
  download(name, url);
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

export function setStatus(text: string, progress?: number): void {
  $('status').hidden = false;
  $('status-text').textContent = text;
  const bar = $<HTMLProgressElement>('status-progress');
  if (progress === undefined || !Number.isFinite(progress)) bar.removeAttribute('value');
  else bar.value = Math.max(0, Math.min(1, progress));
}

export function clearStatus(): void {
  $('status').hidden = true;
}

const errors: string[] = [];

export function showError(message: string): void {
  errors.push(message);
  const box = $('error');
  box.textContent = errors.join('\n');
  box.hidden = false;
}

export function errorMessages(): string[] {
  return [...errors];
}

export function messageOf(e: unknown): string {
  if (e instanceof Error) return e.message;
  if (typeof e === 'string') return e;
  if (e && typeof e === 'object' && 'message' in e) return String((e as { message: unknown }).message);
  return String(e);
}

export async function fetchJson<T>(url: string): Promise<T> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return (await res.json()) as T;
}

/** Fetch a file with download progress (0..1) reported as it arrives. */
export async function fetchBytes(url: string, onProgress: (fraction: number) => void): Promise<Uint8Array> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${decodeURIComponent(url)}: HTTP ${res.status}`);
  const total = Number(res.headers.get('Content-Length') ?? 0);
  if (!res.body || !total) return new Uint8Array(await res.arrayBuffer());
  const out = new Uint8Array(total);
  const reader = res.body.getReader();
  let at = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    out.set(value, at);
    at += value.length;
    onProgress(at / total);
  }
  return at === total ? out : out.subarray(0, at);
}

export function download(name: string, href: string): void {
  const a = document.createElement('a');
  a.href = href;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
}

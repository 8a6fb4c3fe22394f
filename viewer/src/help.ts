// First-view hint (what dragging does) and the help overlay with every shortcut (`?` or `h`).
import { $ } from './ui.js';

export const SHORTCUTS: Array<[string, string]> = [
  ['drag', 'orbit (right-drag or shift-drag: pan, wheel: zoom)'],
  ['F', 'fly mode: WASD move, Q/E down/up, drag to look'],
  ['+ / −', 'fly faster / slower (×2)'],
  ['R', 'reset view (camera 1)'],
  ['[ ]', 'previous / next capture camera'],
  ['P', 'play the capture path'],
  ['C', 'compare photo and render at this camera'],
  ['Esc', 'close Compare / the note / the open panel'],
  ['B', 'crop & clean (box, sphere, lasso, floaters, export)'],
  ['M', 'measure, set scale, origin and up'],
  ['⚙', 'quality: SH degree, render scale, splat budget'],
  ['G', 'gizmo mode: move / rotate / scale'],
  ['Z / Y', 'undo / redo a crop'],
  ['I', 'invert the crop selection'],
  ['? or H', 'this help'],
];

export function buildHelp(): void {
  const tbody = $('help-keys');
  tbody.replaceChildren(
    ...SHORTCUTS.map(([k, what]) => {
      const tr = document.createElement('tr');
      const a = document.createElement('td');
      const kbd = document.createElement('kbd');
      kbd.textContent = k;
      a.appendChild(kbd);
      const b = document.createElement('td');
      b.textContent = what;
      tr.append(a, b);
      return tr;
    }),
  );
  $('btn-help').addEventListener('click', () => toggleHelp());
  $('btn-help-close').addEventListener('click', () => toggleHelp(false));
}

export function toggleHelp(on?: boolean): void {
  const el = $('help');
  el.hidden = on === undefined ? !el.hidden : !on;
  hideHint();
}

export function helpOpen(): boolean {
  return !$('help').hidden;
}

/** The hint goes once the user has done something with the view. */
export function hideHint(): void {
  $('hint').classList.add('gone');
}

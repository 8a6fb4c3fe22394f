// Toolbar buttons, toggles and keyboard shortcuts (see help.ts for the list shown to users).
import { app, canvas, markDirty, renderFrame } from './app.js';
import { $, download, hideNote, isTyping } from './ui.js';
import { closeCompare, compare, jumpToCamera, nav, resetView, step, toggleCompare, togglePlay, updateFrustums, views } from './views.js';
import { assets, editPanel, measure, quality, sceneBox, state } from './main.js';
import { helpOpen, hideHint, toggleHelp } from './help.js';

export function screenshot(): string {
  // drawing and reading in the same task: no preserveDrawingBuffer needed
  renderFrame();
  return canvas.toDataURL('image/png');
}

type PanelName = 'edit' | 'measure' | 'settings';

export function togglePanel(name: PanelName, on?: boolean): void {
  const want = on ?? $(`panel-${name}`).hidden === true;
  // one tool panel at a time
  editPanel.setOpen(name === 'edit' && want);
  measure.setOpen(name === 'measure' && want);
  $('panel-settings').hidden = !(name === 'settings' && want);
  for (const n of ['edit', 'measure', 'settings'] as const) $(`btn-${n}`).setAttribute('aria-pressed', String(n === name && want));
  quality.applySh();
}

function escape(): void {
  if (helpOpen()) return toggleHelp(false);
  if (compare.active) return closeCompare();
  if (hideNote()) return;
  for (const n of ['edit', 'measure', 'settings'] as const) if (!$(`panel-${n}`).hidden) return togglePanel(n, false);
}

/** Fly speed factor (the speed control shows it, with the speed in scene units per second). */
export function setSpeedFactor(f: number): void {
  nav.factor = f;
  const sel = $<HTMLSelectElement>('sel-speed');
  if (![...sel.options].some((o) => Number(o.value) === f)) sel.add(new Option(`×${f}`, String(f)));
  sel.value = String(f);
  const unit = app.manifest?.frame?.scale === 'metric' ? 'm/s' : 'units/s';
  sel.title = `Fly speed ${nav.speed.toPrecision(3)} ${unit} (+ / −)`;
}

function stepSpeed(d: number): void {
  setSpeedFactor(Math.min(64, Math.max(1 / 64, nav.factor * (d > 0 ? 2 : 0.5))));
}

export function wireControls(): void {
  $('btn-reset').addEventListener('click', () => resetView(sceneBox()));
  $('btn-fly').addEventListener('click', () => {
    nav.setFly(!nav.fly);
    $('btn-fly').setAttribute('aria-pressed', String(nav.fly));
  });
  const speed = $<HTMLSelectElement>('sel-speed');
  speed.addEventListener('change', () => {
    setSpeedFactor(Number(speed.value));
    speed.blur();
  });
  setSpeedFactor(1);
  const frus = $<HTMLInputElement>('tgl-frustums');
  frus.addEventListener('change', () => {
    views.showFrustums = frus.checked;
    updateFrustums();
  });
  const pts = $<HTMLInputElement>('tgl-points');
  pts.addEventListener('change', () => {
    if (state.points) state.points.visible = pts.checked;
    markDirty();
  });
  const gr = $<HTMLInputElement>('tgl-grid');
  gr.addEventListener('change', () => {
    if (state.grid) state.grid.visible = gr.checked;
    markDirty();
  });
  const sel = $<HTMLSelectElement>('sel-camera');
  sel.addEventListener('change', () => {
    if (sel.value !== '') jumpToCamera(Number(sel.value));
    sel.blur();
  });
  $('btn-prev').addEventListener('click', () => step(-1));
  $('btn-next').addEventListener('click', () => step(1));
  $('btn-play').addEventListener('click', togglePlay);
  $('btn-compare').addEventListener('click', () => void toggleCompare());
  $('btn-shot').addEventListener('click', () => download(`r2s-${app.manifest?.title ?? 'view'}-${Date.now()}.png`, screenshot()));
  $('btn-edit').addEventListener('click', () => togglePanel('edit'));
  $('btn-measure').addEventListener('click', () => togglePanel('measure'));
  $('btn-settings').addEventListener('click', () => togglePanel('settings'));
  canvas.addEventListener('pointerdown', hideHint);
  canvas.addEventListener('wheel', hideHint, { passive: true });
  window.addEventListener('keydown', (e) => {
    if (isTyping(e) || e.ctrlKey || e.metaKey || e.altKey) return;
    const actions: Record<string, () => void> = {
      KeyR: () => resetView(sceneBox()),
      KeyF: () => $('btn-fly').click(),
      BracketLeft: () => step(-1),
      BracketRight: () => step(1),
      KeyP: togglePlay,
      KeyC: () => void toggleCompare(),
      KeyG: () => (editPanel.open ? editPanel.cycleGizmo() : assets.cycleMode()),
      KeyB: () => togglePanel('edit'),
      KeyM: () => togglePanel('measure'),
      KeyZ: () => editPanel.undo(),
      KeyY: () => editPanel.redo(),
      KeyI: () => editPanel.open && editPanel.invert(),
      KeyH: () => toggleHelp(),
      Equal: () => stepSpeed(1),
      NumpadAdd: () => stepSpeed(1),
      Minus: () => stepSpeed(-1),
      NumpadSubtract: () => stepSpeed(-1),
      Escape: escape,
    };
    const act = e.key === '?' ? () => toggleHelp() : actions[e.code];
    if (!act) return;
    // a focused button or slider must not keep the key (C after the Compare slider, say)
    if (document.activeElement instanceof HTMLElement && document.activeElement !== document.body) document.activeElement.blur();
    e.preventDefault();
    act();
  });
}

// "Enter VR/AR" buttons when the browser supports WebXR; where it does not, a disabled "VR/AR"
// button that says why (WebXR needs a headset browser or an AR-capable phone, over https or
// localhost).
import { VRButton } from 'three/addons/webxr/VRButton.js';
import { ARButton } from 'three/addons/webxr/ARButton.js';
import { renderer } from './app.js';
import { $, escapeHtml, showNote } from './ui.js';

export async function setupXR(): Promise<void> {
  const xr = (navigator as Navigator & { xr?: { isSessionSupported(m: string): Promise<boolean> } }).xr;
  const [vr, ar] = xr
    ? await Promise.all([xr.isSessionSupported('immersive-vr').catch(() => false), xr.isSessionSupported('immersive-ar').catch(() => false)])
    : [false, false];
  if (!vr && !ar) {
    const b = document.createElement('button');
    b.id = 'btn-xr';
    b.textContent = 'VR/AR';
    b.setAttribute('aria-disabled', 'true');
    const why = xr
      ? 'No VR headset or AR device found: WebXR needs a headset browser or an AR-capable phone (Chrome on Android) — open this page there'
      : `WebXR is not available in this browser${window.isSecureContext ? '' : ' (it needs https or localhost)'}: open the page in a headset browser or Chrome on an AR-capable phone`;
    b.title = why;
    b.addEventListener('click', () => showNote(escapeHtml(why)));
    $('xr-slot').appendChild(b);
    return;
  }
  renderer.xr.enabled = true;
  const slot = $('xr-slot');
  for (const b of [vr ? VRButton.createButton(renderer) : null, ar ? ARButton.createButton(renderer) : null]) {
    if (!b) continue;
    // three styles these buttons for the bottom centre; put them in the toolbar instead
    Object.assign(b.style, { position: 'static', left: '', bottom: '', width: 'auto', padding: '3px 8px', fontSize: '13px' });
    slot.appendChild(b);
  }
}

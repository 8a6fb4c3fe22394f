// "Enter VR/AR" buttons when the browser supports WebXR.
import { VRButton } from 'three/addons/webxr/VRButton.js';
import { ARButton } from 'three/addons/webxr/ARButton.js';
import { renderer } from './app.js';
import { $ } from './ui.js';

export async function setupXR(): Promise<void> {
  const xr = (navigator as Navigator & { xr?: { isSessionSupported(m: string): Promise<boolean> } }).xr;
  if (!xr) return;
  const [vr, ar] = await Promise.all([
    xr.isSessionSupported('immersive-vr').catch(() => false),
    xr.isSessionSupported('immersive-ar').catch(() => false),
  ]);
  if (!vr && !ar) return;
  renderer.xr.enabled = true;
  const slot = $('xr-slot');
  for (const b of [vr ? VRButton.createButton(renderer) : null, ar ? ARButton.createButton(renderer) : null]) {
    if (!b) continue;
    // three styles these buttons for the bottom centre; put them in the toolbar instead
    Object.assign(b.style, { position: 'static', left: '', bottom: '', width: 'auto', padding: '3px 8px', fontSize: '13px' });
    slot.appendChild(b);
  }
}

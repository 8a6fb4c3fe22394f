// Photo vs render at a capture camera: the photo is laid over the canvas exactly where the render
// of that camera lands (same fit as the projection), and a slider reveals it up to a split line.
import type { ViewerCamera } from '../../src/viewer-server/protocol.js';
import { $ } from './ui.js';

export class Compare {
  active = false;
  private cam: ViewerCamera | null = null;

  constructor(private onChange: () => void) {
    const slider = $<HTMLInputElement>('compare-slider');
    slider.addEventListener('input', () => this.layout());
    // give the keys back to the page once the split is set, so C / Esc close Compare
    slider.addEventListener('change', () => slider.blur());
    slider.addEventListener('pointerup', () => slider.blur());
  }

  get split(): number {
    return Number($<HTMLInputElement>('compare-slider').value) / 1000;
  }

  set split(v: number) {
    $<HTMLInputElement>('compare-slider').value = String(Math.round(Math.max(0, Math.min(1, v)) * 1000));
    this.layout();
  }

  /** Show the photo of `cam` (must be the camera the view is at). */
  async open(cam: ViewerCamera): Promise<void> {
    if (!cam.photo) throw new Error(`no photo for ${cam.name} in the workspace's images/`);
    this.cam = cam;
    $('compare-label').textContent = `photo ${cam.name} | render`;
    const img = $<HTMLImageElement>('compare-photo');
    if (img.getAttribute('src') !== cam.photo) {
      img.src = cam.photo;
      await img.decode().catch(() => {
        throw new Error(`photo ${cam.name} could not be loaded`);
      });
    }
    this.active = true;
    $('compare').hidden = false;
    this.layout();
    this.onChange();
  }

  close(): void {
    this.active = false;
    $('compare').hidden = true;
    this.onChange();
  }

  layout(): void {
    if (!this.cam) return;
    const W = window.innerWidth, H = window.innerHeight;
    const s = Math.min(W / this.cam.width, H / this.cam.height);
    const w = this.cam.width * s, h = this.cam.height * s;
    const x = (W - w) / 2, y = (H - h) / 2;
    const img = $<HTMLImageElement>('compare-photo');
    Object.assign(img.style, { left: `${x}px`, top: `${y}px`, width: `${w}px`, height: `${h}px` });
    // photo on the left of the split, render on the right
    img.style.clipPath = `inset(0 ${((1 - this.split) * 100).toFixed(2)}% 0 0)`;
    Object.assign($('compare-handle').style, { left: `${x + this.split * w - 1}px`, top: `${y}px`, height: `${h}px`, bottom: 'auto' });
  }
}

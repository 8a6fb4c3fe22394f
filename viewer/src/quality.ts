// Quality settings: spherical-harmonics degree, render scale (pixel ratio) and a splat budget
// (most splats drawn; the most opaque and largest first). Remembered in localStorage.
import type { SplatMesh } from '@sparkjsdev/spark';
import { markDirty, renderer } from './app.js';
import { $ } from './ui.js';

export interface Quality {
  shDegree: number;
  renderScale: number;
  /** 0 = no limit */
  budget: number;
}

const KEY = 'r2s.viewer.quality';

export function loadQuality(): Quality {
  const d: Quality = { shDegree: 3, renderScale: 1, budget: 0 };
  try {
    return { ...d, ...(JSON.parse(localStorage.getItem(KEY) ?? '{}') as Partial<Quality>) };
  } catch {
    return d;
  }
}

export class QualityPanel {
  q = loadQuality();

  constructor(private apply: { meshes: () => SplatMesh[]; setBudget: (n: number) => void }) {
    const sh = $<HTMLSelectElement>('q-sh'), rs = $<HTMLSelectElement>('q-scale'), bu = $<HTMLInputElement>('q-budget');
    sh.value = String(this.q.shDegree);
    rs.value = String(this.q.renderScale);
    bu.value = this.q.budget ? String(this.q.budget) : '';
    sh.addEventListener('change', () => this.set({ shDegree: Number(sh.value) }));
    rs.addEventListener('change', () => this.set({ renderScale: Number(rs.value) }));
    bu.addEventListener('change', () => this.set({ budget: Math.max(0, Math.floor(Number(bu.value) || 0)) }));
    this.applyRenderScale();
  }

  set(p: Partial<Quality>): void {
    const budgetChanged = p.budget !== undefined && p.budget !== this.q.budget;
    this.q = { ...this.q, ...p };
    try {
      localStorage.setItem(KEY, JSON.stringify(this.q));
    } catch {
      /* private mode: settings last for the page only */
    }
    this.applyRenderScale();
    this.applySh();
    if (budgetChanged) this.apply.setBudget(this.q.budget || Infinity);
    markDirty();
  }

  applySh(): void {
    for (const m of this.apply.meshes()) {
      m.maxSh = this.q.shDegree;
      m.updateGenerator();
    }
  }

  private applyRenderScale(): void {
    renderer.setPixelRatio(Math.min(window.devicePixelRatio, 2) * this.q.renderScale);
    renderer.setSize(window.innerWidth, window.innerHeight);
  }
}

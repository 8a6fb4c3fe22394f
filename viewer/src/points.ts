// The sparse SfM point cloud as coloured points.
import * as THREE from 'three';
import type { ViewerPoints } from '../../src/viewer-server/protocol.js';

export function buildPointCloud(p: ViewerPoints, pointSize: number): THREE.Points {
  const g = new THREE.BufferGeometry();
  g.setAttribute('position', new THREE.Float32BufferAttribute(p.xyz, 3));
  const rgb = new Float32Array(p.rgb.length);
  for (let i = 0; i < rgb.length; i++) rgb[i] = p.rgb[i]! / 255;
  g.setAttribute('color', new THREE.BufferAttribute(rgb, 3));
  const pts = new THREE.Points(g, new THREE.PointsMaterial({ size: pointSize, vertexColors: true, sizeAttenuation: true }));
  pts.name = 'sparse-points';
  return pts;
}

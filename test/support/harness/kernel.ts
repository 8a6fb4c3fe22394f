/** A one-binding compute kernel for the harness fixtures: b[i] = i + 1 for i < 4. */
export function tinyKernel(device: GPUDevice, label: string) {
  const module = device.createShaderModule({
    label,
    code: `@group(0) @binding(0) var<storage, read_write> b: array<u32>;
@compute @workgroup_size(1) fn main(@builtin(global_invocation_id) g: vec3u) { if (g.x < 4u) { b[g.x] = g.x + 1u; } }`,
  });
  const pipeline = device.createComputePipeline({ label, layout: 'auto', compute: { module, entryPoint: 'main' } });
  const buffer = device.createBuffer({ label: `${label}-out`, size: 16, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
  const bindGroup = device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer } }] });
  /** encode one dispatch of `groups` workgroups, in a pass labelled `label` */
  const dispatch = (groups: number): GPUCommandBuffer => {
    const enc = device.createCommandEncoder({ label });
    const pass = enc.beginComputePass({ label });
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(groups);
    pass.end();
    return enc.finish({ label });
  };
  return { buffer, dispatch };
}

#!/bin/bash
# The NVIDIA check of issue 22 in one device call, unattended, full logs to $OUT (at most 8 files
# come back; each step has its own timeout so that one hang cannot eat the others' time; the whole
# kit stays under the 10-minute command limit). Pack first, on the dev machine:
#   bash bench/device/pack.sh
# then run(command="bash devrun/kit.sh", carry=["devrun", ".gl"], timeout_s=600). In order of
# importance, so that a cut-off run still answers the main question:
#   1. kit.log              machine, adapter, `r2s doctor --json` (which training path, and why)
#   2. lund-curves.json/.log the Lund photos trained 2000 steps at 480 px on the GPU-resident path and
#                           on the CPU-array path (each within a wall-clock budget): PSNR curves
#   3. resident-check.log   resident vs CPU-array, stage by stage, with WebGPU error scopes
#   4. tests.log            the GPU test files (kernels vs references, NaN safety, default limits,
#                           resident, lockstep on Lund) on the NVIDIA adapter
#   5. train.json/.log      training steps/s of both paths at 100k and 1M Gaussians
cd "$(dirname "$0")/.."
source devrun/setup.sh
exec > >(tee -a "$OUT/kit.log") 2>&1
date -u; nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv; nproc; node -v
export R2S_GPU_STRICT=1
t=$SECONDS; timeout 90 node devrun/cli/main.mjs doctor --json > /tmp/doctor.json 2>&1; echo "doctor rc=$? $((SECONDS-t))s"; grep -v artificially /tmp/doctor.json | tail -3
# when the resident step does not pass, separate the suspects: queue ordering between the step's
# submits (R2S_RESIDENT_SERIALIZE=1 waits between them) and subgroups after divergence (R2S_NO_SUBGROUPS=1)
if ! grep -q '"gpu-resident"' /tmp/doctor.json; then
  for e in R2S_RESIDENT_SERIALIZE=1 R2S_NO_SUBGROUPS=1 "R2S_RESIDENT_SERIALIZE=1 R2S_NO_SUBGROUPS=1"; do
    echo "doctor with $e:"; env $e timeout 60 node devrun/cli/main.mjs doctor --json 2>&1 | grep -o '"training":.*' | cut -c1-400
  done
fi
t=$SECONDS; (cd devrun && timeout 270 node lund-curves.mjs --out "$OUT/lund-curves.json" --steps 2000 --max-size 480 --budget-s 110 --eval-every 500) > "$OUT/lund-curves.log" 2>&1
echo "lund-curves rc=$? $((SECONDS-t))s"; grep "held-out\|step 2000\|step 1000 " "$OUT/lund-curves.log" | tail -12
mkdir -p devrun/check-ws/sparse && cp test/fixtures/lund-sparse/*.txt devrun/check-ws/sparse/
t=$SECONDS; timeout 60 node devrun/resident-check.mjs --workspace devrun/check-ws --images samples/lund --max-size 64 --steps 20 --stats --iterations 300 > "$OUT/resident-check.log" 2>&1
echo "resident-check rc=$? $((SECONDS-t))s"; grep -E "RESULT|WEBGPU|DEVICE LOST|ERROR|differs" "$OUT/resident-check.log" | head -8
t=$SECONDS; TEST_TIMEOUT=60 timeout 150 bash devrun/tests.sh; echo "tests $((SECONDS-t))s"
t=$SECONDS; (cd devrun && R2S_BENCH_SPEED_STEPS=20 timeout 110 node train.mjs speed > "$OUT/train.log" 2>&1; echo "train rc=$?"; cp train.json "$OUT/")
echo "train speed $((SECONDS-t))s"; grep -i "steps/s\|stepsPerSecond" "$OUT/train.log" | tail -6
date -u

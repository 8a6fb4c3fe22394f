#!/bin/bash
# Packs the GPU benchmarks and the CLI for a machine that has a GPU but no npm registry (the lent device
# machine): the bench scripts bundled by esbuild into devrun/*.mjs, the native modules they need
# (webgpu's Dawn, better-sqlite3, sharp) and this machine's node binary, xz-compressed (~50 MB).
#   bash bench/device/pack.sh [WS/sfm/database.db]   (real descriptors for the match bench)
# Then, on the device, the whole check in one call: `bash devrun/kit.sh` with devrun/ and .gl/ (the
# Vulkan loader .debs, see the device README) carried (kit.sh says what it runs and what comes back);
# or the parts alone: `bash devrun/run.sh` (benches), tests.sh, demo.sh. It writes match.json, raster.json and train.json to $OUT: raster.json and
# train.json come back already merged (the hardware figures under `hardware` / `speed-hardware`,
# lavapipe's kept); from match.json take each pair's `wgslHardware` (its CPU rows are the device's).
set -euo pipefail
cd "$(dirname "$0")/../.."
# everything but node and the scripts goes into one xz payload (the carried tree is limited to 64 MiB)
rm -rf devrun && mkdir -p devrun/p/node_modules/@img devrun/p/node_modules/webgpu/dist devrun/p/node_modules/better-sqlite3/build/Release
for b in match raster train device/resident-check device/lund-curves; do
  npx esbuild bench/$b.ts --bundle --platform=node --format=esm --target=node20 --outfile=devrun/p/$(basename $b).mjs \
    --external:webgpu --external:better-sqlite3 --external:sharp --log-level=warning \
    --banner:js="import { createRequire as __cr } from 'module'; const require = __cr(import.meta.url);"
done
# the CLI too (the README demo on the GPU): its workers are entries of their own, beside it, where
# its `new URL('./x-worker.mjs', import.meta.url)` finds them; opencv-js stays a plain script
npx esbuild src/cli/main.ts src/sfm/feature-worker.mjs src/sfm/match-worker.mjs src/sfm/verify-worker.mjs \
  --bundle --platform=node --format=esm --target=node20 --outdir=devrun/p/cli --entry-names=[name] --out-extension:.js=.mjs \
  --external:webgpu --external:better-sqlite3 --external:sharp --external:lightningcss --external:tsx --external:vite \
  --external:@techstark/opencv-js --log-level=error \
  --banner:js="import { createRequire as __cr } from 'module'; const require = __cr(import.meta.url);"
# the GPU test files, with vitest replaced by bench/device/vitest-shim.mjs (bench/device/tests.sh)
mkdir -p devrun/p/tests scratch/device-entry
for t in gpu-adam gpu-buffers gpu-device gpu-hamming gpu-loss gpu-photometric gpu-resident gpu-sort raster-gpu raster-edge mask-weights gpu-nan-safety gpu-default-limits train-lockstep train-synthetic; do
  echo "import '../../test/$t.test.ts'; import { runCollected } from 'vitest'; await runCollected();" > scratch/device-entry/$t.ts
  npx esbuild scratch/device-entry/$t.ts --bundle --platform=node --format=esm --target=node20 --outfile=devrun/p/tests/$t.device.mjs \
    --alias:vitest=./bench/device/vitest-shim.mjs --external:webgpu --external:better-sqlite3 --external:sharp \
    --external:@techstark/opencv-js --log-level=error \
    --banner:js="import { createRequire as __cr } from 'module'; const require = __cr(import.meta.url);"
done
N=node_modules D=devrun/p/node_modules
mkdir -p $D/@techstark/opencv-js/dist $D/tsx/esm
cp $N/@techstark/opencv-js/package.json $D/@techstark/opencv-js/ && cp $N/@techstark/opencv-js/dist/opencv.js $D/@techstark/opencv-js/dist/
# the verify worker registers tsx for its TypeScript import, which the bundle already inlined
echo '{"name":"tsx","type":"module","exports":{"./esm/api":"./esm/api.mjs"}}' > $D/tsx/package.json
echo 'export function register() {}' > $D/tsx/esm/api.mjs
cp $N/webgpu/package.json $N/webgpu/index.js $D/webgpu/ && cp -r $N/webgpu/dist/linux-x64 $D/webgpu/dist/
cp -r $N/debug $N/ms $N/bindings $N/file-uri-to-path $N/detect-libc $N/semver $N/sharp $D/
cp -r $N/@img/colour $N/@img/sharp-linux-x64 $N/@img/sharp-libvips-linux-x64 $D/@img/
cp -r $N/better-sqlite3/package.json $N/better-sqlite3/lib $D/better-sqlite3/
cp $N/better-sqlite3/build/Release/better_sqlite3.node $D/better-sqlite3/build/Release/
NODE_XZ=/tmp/r2s-node-$(node -v).xz  # compressing node takes a minute: reused
[ -f $NODE_XZ ] || xz -T0 -6 -c "$(command -v node)" > $NODE_XZ
cp $NODE_XZ devrun/node.xz
# real AKAZE descriptors for the match bench: the first two feature sets of an SfM database
DB=${1:-}
if [ -n "$DB" ]; then
  node -e '
const D = require("better-sqlite3"); const src = new D(process.argv[1], { readonly: true });
const rows = src.prepare("SELECT * FROM features ORDER BY name LIMIT 2").all();
const dst = new D("devrun/p/database.db"); dst.exec(src.prepare("SELECT sql FROM sqlite_master WHERE name = ?").get("features").sql);
const cols = Object.keys(rows[0]);
const ins = dst.prepare(`INSERT INTO features (${cols.join(",")}) VALUES (${cols.map(() => "?").join(",")})`);
for (const r of rows) ins.run(...cols.map((c) => r[c]));' "$DB"
fi
# a workspace's sparse model for resident-check (bench/device/tests.sh; its images are samples/lund's):
#   R2S_CHECK_WS=WS bash bench/device/pack.sh   (WS from `r2s reconstruct samples/lund -w WS --skip-train`)
if [ -n "${R2S_CHECK_WS:-}" ]; then
  mkdir -p devrun/p/check-ws/sparse && cp "$R2S_CHECK_WS"/sparse/*.bin devrun/p/check-ws/sparse/
  if [ -f "$R2S_CHECK_WS"/sparse/frame.json ]; then cp "$R2S_CHECK_WS"/sparse/frame.json devrun/p/check-ws/sparse/; fi
fi
cp bench/match.json bench/raster.json bench/train.json devrun/p/
tar cJf devrun/payload.tar.xz -C devrun/p . && rm -rf devrun/p
cp bench/device/run.sh devrun/run.sh
cp bench/device/setup.sh devrun/setup.sh
cp bench/device/demo.sh devrun/demo.sh
cp bench/device/tests.sh devrun/tests.sh
cp bench/device/kit.sh devrun/kit.sh
du -sh devrun

#!/bin/bash
# On the lent GPU machine (packed by bench/device/pack.sh): the match, raster and train-speed
# benches on its adapter: `bash devrun/run.sh`, devrun/ and .gl/ carried. Results land in $OUT.
cd "$(dirname "$0")/.."
source devrun/setup.sh
node -v; nvidia-smi --query-gpu=name,driver_version,clocks.sm,memory.used --format=csv; nproc
cd devrun
node -e "import('webgpu').then(async m=>{const g=m.create([]);const a=await g.requestAdapter({powerPreference:'high-performance'});console.log('adapter', a && JSON.stringify(a.info))})" 2>&1 | tail -2
t=$SECONDS; timeout 90 node match.mjs $( [ -f database.db ] && echo --db database.db ) > $OUT/match.log 2>&1; echo "match rc=$? $((SECONDS-t))s"; cp match.json $OUT/
t=$SECONDS; timeout 150 node raster.mjs > $OUT/raster.log 2>&1; echo "raster rc=$? $((SECONDS-t))s"; cp raster.json $OUT/
t=$SECONDS; R2S_BENCH_SPEED_STEPS=20 timeout 180 node train.mjs speed > $OUT/train.log 2>&1; echo "train rc=$? $((SECONDS-t))s"; cp train.json $OUT/
grep -h "bench\|forward\|steps" $OUT/*.log | tail -20

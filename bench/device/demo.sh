#!/bin/bash
# On the lent GPU machine (packed by bench/device/pack.sh): the README demo through the bundled
# CLI, then a longer training of the same scene at the photos' full size. `bash devrun/demo.sh`,
# devrun/ and .gl/ carried; logs and results land in $OUT.
cd "$(dirname "$0")/.."
source devrun/setup.sh
t=$SECONDS; timeout 240 node devrun/cli/main.mjs reconstruct samples/lund -w /tmp/lund --iterations 500 --train-max-size 240 --json > $OUT/demo.log 2>&1
echo "demo rc=$? $((SECONDS-t))s"; tail -c 1500 $OUT/demo.log | grep -v "█\\|░" | tail -5
t=$SECONDS; timeout 300 node devrun/cli/main.mjs reconstruct samples/lund -w /tmp/lund --iterations 7000 --train-max-size 800 --json > $OUT/long.log 2>&1
echo "long rc=$? $((SECONDS-t))s"; tail -c 1500 $OUT/long.log | grep -v "█\\|░" | tail -5

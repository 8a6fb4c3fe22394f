#!/bin/bash
# On the lent GPU machine (packed by bench/device/pack.sh): the GPU test files (WGSL kernels against
# their TypeScript references, resident training, synthetic training) on its adapter. They run from
# test/ so that their fixture paths resolve; `bash devrun/tests.sh`, devrun/ and .gl/ carried.
cd "$(dirname "$0")/.."
source devrun/setup.sh
[ -e node_modules ] || ln -s devrun/node_modules node_modules
cp devrun/tests/*.device.mjs test/
# the worker scripts the matcher test starts from beside its own file
cp devrun/cli/*-worker.mjs test/ 2>/dev/null || true
for f in test/*.device.mjs; do
  # one log for all (at most 8 files come back from the machine)
  t=$SECONDS; echo "=== $f" >> $OUT/tests.log; timeout ${TEST_TIMEOUT:-120} node $f > /tmp/t.log 2>&1; rc=$?
  grep -v "artificially reduced" /tmp/t.log >> $OUT/tests.log
  echo "$(basename $f) rc=$rc $((SECONDS-t))s"; grep "^FAIL" /tmp/t.log | cut -c1-400
done
# GPU-resident vs CPU-array training, stage by stage, on a real capture (packed with R2S_CHECK_WS)
if [ -d devrun/check-ws ]; then
  t=$SECONDS; timeout ${TEST_TIMEOUT:-120} node devrun/resident-check.mjs --workspace devrun/check-ws --images samples/lund --max-size 64 --steps 20 --stats > $OUT/resident-check.log 2>&1
  echo "resident-check rc=$? $((SECONDS-t))s"; grep -v "^step \|    ok\|agree$\|artificially" $OUT/resident-check.log | head -60 | cut -c1-400
fi

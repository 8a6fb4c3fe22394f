#!/bin/bash
# On the lent GPU machine (packed by bench/device/pack.sh): the README demo through the bundled
# CLI, then a longer training of the same scene at the photos' full size. `bash devrun/demo.sh`,
# devrun/ and .gl/ carried; logs and results land in $OUT.
cd "$(dirname "$0")/.."
for f in .gl/*.deb; do dpkg -x $f /; done; ldconfig
ICD=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
[ -f $ICD ] && export VK_DRIVER_FILES=$ICD
if [ ! -x /tmp/d/node ]; then
mkdir -p /tmp/d
python3 - <<'PY'
import lzma, shutil, tarfile, os
with lzma.open('devrun/node.xz') as s, open('/tmp/d/node', 'wb') as d: shutil.copyfileobj(s, d)
os.chmod('/tmp/d/node', 0o755)
tarfile.open('devrun/payload.tar.xz', 'r:xz').extractall('devrun')
PY
fi
export PATH=/tmp/d:$PATH
t=$SECONDS; timeout 240 node devrun/cli/main.mjs reconstruct samples/lund -w /tmp/lund --iterations 500 --train-max-size 240 --json > $OUT/demo.log 2>&1
echo "demo rc=$? $((SECONDS-t))s"; tail -c 1500 $OUT/demo.log | grep -v "█\\|░" | tail -5
t=$SECONDS; timeout 300 node devrun/cli/main.mjs reconstruct samples/lund -w /tmp/lund --iterations 7000 --train-max-size 800 --json > $OUT/long.log 2>&1
echo "long rc=$? $((SECONDS-t))s"; tail -c 1500 $OUT/long.log | grep -v "█\\|░" | tail -5

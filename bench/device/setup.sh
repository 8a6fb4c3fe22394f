# Sourced by the device scripts (run.sh, demo.sh, tests.sh) from the repository root: the Vulkan
# loader from the carried .gl/*.deb, the NVIDIA ICD when the driver ships one, and node plus the
# payload unpacked from devrun/ (once per machine).
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

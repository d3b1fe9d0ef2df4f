"""The old tool's way: Python's zipfile, ZIP_DEFLATED level 6, one file after another.
usage: zipfile_peer.py SRC_DIR OUT_ZIP"""
import os
import sys
import zipfile

src, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as z:
    for root, dirs, files in os.walk(src):
        dirs.sort()
        for name in sorted(files):
            path = os.path.join(root, name)
            z.write(path, os.path.relpath(path, os.path.dirname(src)))

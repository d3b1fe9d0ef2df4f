"""Makes DEST equal to SOURCE the way `msdeploy -verb:sync` does with no
skip rules: every file of SOURCE replaced in place in DEST, and what SOURCE
lacks deleted from DEST. For the Windows tier: run by a Windows CPython
under Wine, so that Windows' rules for files in use apply (a running exe or
a loaded DLL cannot be replaced or deleted). Prints each file it could not
replace or delete, and exits 1 if there was one.

usage: python msdeploy_sync.py SOURCE DEST
"""

import os
import shutil
import sys


def main(source, dest):
    failed = []
    for root, _dirs, files in os.walk(source):
        rel = os.path.relpath(root, source)
        target = dest if rel == "." else os.path.join(dest, rel)
        os.makedirs(target, exist_ok=True)
        for name in files:
            try:
                shutil.copyfile(os.path.join(root, name), os.path.join(target, name))
            except OSError as e:
                failed.append("replace %s: %s" % (os.path.join(target, name), e))
    for root, _dirs, files in os.walk(dest, topdown=False):
        rel = os.path.relpath(root, dest)
        origin = source if rel == "." else os.path.join(source, rel)
        for name in files:
            if not os.path.isfile(os.path.join(origin, name)):
                try:
                    os.remove(os.path.join(root, name))
                except OSError as e:
                    failed.append("delete %s: %s" % (os.path.join(root, name), e))
        if rel != "." and not os.path.isdir(origin):
            try:
                os.rmdir(root)
            except OSError as e:
                failed.append("delete %s: %s" % (root, e))
    for line in failed:
        print(line)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))

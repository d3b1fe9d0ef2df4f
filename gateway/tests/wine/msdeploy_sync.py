"""Makes DEST equal to SOURCE the way `msdeploy -verb:sync` does: every
file of SOURCE replaced in place in DEST, and what SOURCE lacks deleted
from DEST, except folders a `-skip:objectName=dirPath,absolutePath=REGEX`
rule names (given as `--skip-dir REGEX`, matched as msdeploy does: a
regular expression searched in the folder's full path, on both sides).
For the Windows tier: run by a Windows CPython under Wine, so that
Windows' rules for files in use apply (a running exe or a loaded DLL
cannot be replaced or deleted). Prints each file it could not replace or
delete, and exits 1 if there was one.

usage: python msdeploy_sync.py [--skip-dir REGEX]... SOURCE DEST
"""

import os
import re
import shutil
import sys


def skipped(path, rules):
    return any(rule.search(path) for rule in rules)


def main(source, dest, rules):
    failed = []
    for root, dirs, files in os.walk(source):
        dirs[:] = [d for d in dirs if not skipped(os.path.join(root, d), rules)]
        rel = os.path.relpath(root, source)
        target = dest if rel == "." else os.path.join(dest, rel)
        os.makedirs(target, exist_ok=True)
        for name in files:
            try:
                shutil.copyfile(os.path.join(root, name), os.path.join(target, name))
            except OSError as e:
                failed.append("replace %s: %s" % (os.path.join(target, name), e))
    doomed_files, doomed_dirs = [], []
    for root, dirs, files in os.walk(dest):
        dirs[:] = [d for d in dirs if not skipped(os.path.join(root, d), rules)]
        rel = os.path.relpath(root, dest)
        origin = source if rel == "." else os.path.join(source, rel)
        doomed_files += [
            os.path.join(root, name)
            for name in files
            if not os.path.isfile(os.path.join(origin, name))
        ]
        if rel != "." and not os.path.isdir(origin):
            doomed_dirs.append(root)
    for path in doomed_files:
        try:
            os.remove(path)
        except OSError as e:
            failed.append("delete %s: %s" % (path, e))
    for path in reversed(doomed_dirs):
        try:
            os.rmdir(path)
        except OSError as e:
            failed.append("delete %s: %s" % (path, e))
    for line in failed:
        print(line)
    return 1 if failed else 0


if __name__ == "__main__":
    args = sys.argv[1:]
    rules = []
    while args and args[0] == "--skip-dir":
        rules.append(re.compile(args[1]))
        args = args[2:]
    sys.exit(main(args[0], args[1], rules))

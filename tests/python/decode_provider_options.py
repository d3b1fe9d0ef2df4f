"""Decode MSDeploy.MSDeployProviderOptions values with code written by others.

Reads base64 values (one per line) on stdin; prints one JSON object per value
with the provider name, path, names and values, as decoded by Python's gzip
module and the `nrbf` package from PyPI (an independent MS-NRBF parser).
"""
import base64
import gzip
import json
import sys

import nrbf

for line in sys.stdin:
    line = line.strip()
    if not line:
        continue
    raw = gzip.decompress(base64.b64decode(line, validate=True))
    obj = nrbf.loads(raw)
    print(json.dumps({
        "class": obj["__class__"],
        "providerName": obj["providerName"],
        "path": obj["path"],
        "names": obj["names"],
        "values": obj["values"],
    }, ensure_ascii=False))

"""Reads WebPI feeds with Python's own XML parser, independently of iiswsgi.

    check_feed.py facts FEED [PACKAGE_DIR...]
        One JSON object per entry with an installerFile: what the feed says
        (fileSize, sha1, installerURL) and what the package really is (size,
        sha1 computed with hashlib), the package found through its file:///
        URL, or by file name in the PACKAGE_DIRs for http(s) URLs.

    check_feed.py foreign ORIGINAL MERGED PRODUCT_ID...
        Checks that every entry of ORIGINAL whose productId is not listed, and
        every root definition (keywords, oses, osLists, dependencies, tabs,
        featured), is in MERGED with the same elements, attributes, text and
        tails; that each listed productId occurs exactly once in MERGED.
        Prints "ok <entries kept> <definitions kept>".
"""
import hashlib
import json
import math
import os
import sys
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET

A = "{http://www.w3.org/2005/Atom}"


def text(el, name):
    child = el.find(A + name)
    return None if child is None else (child.text or "").strip()


def package_path(url, package_dirs):
    parsed = urllib.parse.urlparse(url)
    if parsed.scheme == "file":
        return urllib.request.url2pathname(parsed.path)
    name = os.path.basename(urllib.parse.unquote(parsed.path))
    for d in package_dirs:
        if os.path.exists(os.path.join(d, name)):
            return os.path.join(d, name)
    raise SystemExit(f"{name} is in none of {package_dirs}")


def facts(feed, package_dirs):
    root = ET.parse(feed).getroot()
    for entry in root.findall(A + "entry"):
        f = entry.find(f"{A}installers/{A}installer/{A}installerFile")
        if f is None:
            continue
        url = text(f, "installerURL")
        path = package_path(url, package_dirs)
        data = open(path, "rb").read()
        print(json.dumps({
            "productId": text(entry, "productId"),
            "installerURL": url,
            "path": path,
            "feed_fileSize": int(text(f, "fileSize")),
            "feed_sha1": text(f, "sha1"),
            "real_size_kb": max(1, math.ceil(len(data) / 1024)),
            "real_sha1": hashlib.sha1(data).hexdigest(),
        }))


def same(a, b, where):
    if a.tag != b.tag or a.attrib != b.attrib or (a.text or "") != (b.text or "") or (a.tail or "") != (b.tail or ""):
        raise SystemExit(f"{where}: {a.tag} {a.attrib} differs: {a.text!r}/{a.tail!r} vs {b.text!r}/{b.tail!r}")
    ca, cb = list(a), list(b)
    if len(ca) != len(cb):
        raise SystemExit(f"{where}: {a.tag} has {len(ca)} children, merged has {len(cb)}")
    for i, (x, y) in enumerate(zip(ca, cb)):
        same(x, y, f"{where}/{x.tag}[{i}]")


def foreign(original, merged, ours):
    o = ET.parse(original).getroot()
    m = ET.parse(merged).getroot()
    by_id = {}
    for e in m.findall(A + "entry"):
        by_id.setdefault(text(e, "productId"), []).append(e)
    for pid in ours:
        if len(by_id.get(pid, [])) != 1:
            raise SystemExit(f"our entry {pid} occurs {len(by_id.get(pid, []))} times")
    kept = 0
    for e in o.findall(A + "entry"):
        pid = text(e, "productId")
        if pid in ours:
            continue
        found = by_id.get(pid, [])
        if len(found) != 1:
            raise SystemExit(f"foreign entry {pid} occurs {len(found)} times in the merged feed")
        # The last entry's tail may change when ours is appended after it.
        a, b = ET.fromstring(ET.tostring(e)), ET.fromstring(ET.tostring(found[0]))
        a.tail = b.tail = None
        same(a, b, pid)
        kept += 1
    definitions = 0
    for name in ["tabs", "keywords", "oses", "osLists", "dependencies", "featured"]:
        ol, ml = o.find(A + name), m.find(A + name)
        if ol is None:
            continue
        if ml is None:
            raise SystemExit(f"root {name} is gone")
        for child in ol:
            key = child.get("id")
            matches = [c for c in ml if c.tag == child.tag and c.get("id") == key and (key is not None or (c.text or "").strip() == (child.text or "").strip())]
            if not matches:
                raise SystemExit(f"root {name}/{child.tag} id={key} is gone")
            a, b = ET.fromstring(ET.tostring(child)), ET.fromstring(ET.tostring(matches[0]))
            a.tail = b.tail = None
            same(a, b, f"{name}/{key}")
            definitions += 1
    print("ok", kept, definitions)


if __name__ == "__main__":
    if sys.argv[1] == "facts":
        facts(sys.argv[2], sys.argv[3:])
    elif sys.argv[1] == "foreign":
        foreign(sys.argv[2], sys.argv[3], set(sys.argv[4:]))
    else:
        raise SystemExit(__doc__)

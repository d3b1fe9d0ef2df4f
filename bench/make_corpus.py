"""Generates the large benchmark corpus: FILES files, about TOTAL bytes,
split into four quarters (q0..q3) so that scaling can be measured on 1/4,
1/2 and all of it. Deterministic (seeded), mixed content:

- 60% source-like text (Python-ish lines from a vocabulary): compressible;
- 25% random bytes (.bin): incompressible, found by the sample;
- 15% random bytes named .whl/.png: already compressed, stored by name.

usage: make_corpus.py DEST [FILES] [TOTAL_BYTES]
"""
import os
import random
import sys

dest = sys.argv[1]
files = int(sys.argv[2]) if len(sys.argv) > 2 else 50_000
total = int(sys.argv[3]) if len(sys.argv) > 3 else 1_000_000_000
rng = random.Random(20261121)
words = ("def class return self import from if else elif for while in not and or "
         "None True False request response view model form field query user "
         "template static url path settings django flask pyramid wsgi").split()
mean = total // files
for i in range(files):
    folder = os.path.join(dest, f"q{i * 4 // files}", f"d{i % 97:02d}", f"e{i % 13}")
    os.makedirs(folder, exist_ok=True)
    size = max(64, int(rng.expovariate(1 / mean)))
    kind = rng.random()
    if kind < 0.60:
        lines = []
        n = 0
        while n < size:
            line = "    " * rng.randint(0, 3) + " ".join(rng.choice(words) for _ in range(rng.randint(2, 9))) + "\n"
            lines.append(line)
            n += len(line)
        data, ext = "".join(lines).encode()[:size], "py"
    else:
        data = rng.randbytes(size)
        ext = "bin" if kind < 0.85 else rng.choice(["whl", "png"])
    with open(os.path.join(folder, f"f{i}.{ext}"), "wb") as f:
        f.write(data)

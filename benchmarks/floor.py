"""The JSON floor: a process that only writes a finished Terraform JSON document, nothing else.

    python benchmarks/floor.py DOCUMENT.pickle OUT.json

The document is the dict the direct engine would serialize, pickled by the benchmark beforehand. This process
starts Python, unpickles it and writes it with the standard library (json.dumps, indent 2, sorted keys): the
least any synth of that document can cost. The benchmark reports each engine as a multiple of it.
"""

import json
import pickle
import sys


def main(source: str, out: str) -> int:
    with open(source, "rb") as f:
        document = pickle.load(f)
    with open(out, "w", encoding="utf-8") as f:
        f.write(json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))

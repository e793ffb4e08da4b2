"""Cross-checks the sort-and-compact part of canonical-vectors.json with Python's json.

Run from this folder: python3 check_python.py. Python sorts keys by code point, Jackson's
TreeMap by UTF-16 code unit; the two differ only when a key holds a character above U+FFFF
and another one in U+E000..U+FFFF at the same position. The script therefore checks each
vector twice where that matters: with Python's own order (which must differ) and with a
UTF-16 sort key (which must match). Vectors that Python's json cannot reproduce at all are
listed with the reason and not compared: nested objects (Jackson keeps their key order,
sort_keys sorts every level), Kit floats (Java's Double.toString) and control characters
that Jackson escapes with upper-case hex digits.
"""
import json
import sys


def basic_value(v):
    if v is True:
        return "true"
    if v is False:
        return "false"
    return v


def load(v):
    # parse_int/parse_float=str keeps a number's text, as Jackson's getText() does for the
    # basic form; the Kit form keeps numbers.
    if v["form"] == "basic":
        d = json.loads(v["body"], parse_int=str, parse_float=str)
        return {k: basic_value(x) for k, x in d.items() if x is not None}
    d = json.loads(v["body"])
    return {k: x for k, x in d.items() if x is not None}


def compact(d, utf16):
    if not utf16:
        return json.dumps(d, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    items = sorted(d.items(), key=lambda kv: kv[0].encode("utf-16-be"))
    return "{" + ",".join(json.dumps(k, ensure_ascii=False) + ":" + json.dumps(x, separators=(",", ":"), ensure_ascii=False)
                          for k, x in items) + "}"


SKIP = {
    "basic-nested-object": "nested object: Jackson keeps its key order",
    "kit-authSync-nested": "nested objects: Jackson keeps their key order",
    "kit-duplicate-nested-key": "nested object: Jackson keeps its key order",
    "kit-numbers": "floats are written by Java's Double.toString",
    "basic-escapes": "Jackson escapes U+001F as \\u001F, Python as \\u001f",
}

doc = json.load(open("canonical-vectors.json", encoding="utf-8"))
failed = 0
compared = 0
for v in doc["vectors"]:
    name, want = v["name"], v["canonical"]
    if want is None:
        print(f"refused  {name}")
        continue
    if name in SKIP:
        print(f"skipped  {name}: {SKIP[name]}")
        continue
    compared += 1
    py, u16 = compact(load(v), False), compact(load(v), True)
    astral = any(ord(c) > 0xFFFF for k in load(v) for c in k)
    if u16 != want:
        failed += 1
        print(f"MISMATCH {name}: python(utf-16 order) {u16!r} != {want!r}")
    elif astral and py == want:
        failed += 1
        print(f"MISMATCH {name}: code-point order should differ from UTF-16 order here")
    elif astral:
        print(f"ok       {name} (UTF-16 order; Python's code-point order gives {py!r})")
    elif py != want:
        failed += 1
        print(f"MISMATCH {name}: python {py!r} != {want!r}")
    else:
        print(f"ok       {name}")
print(f"{compared - failed} passed, {failed} failed")
sys.exit(1 if failed else 0)

# json dumps/loads round trips on values whose text form is the same in
# MicroPython and CPython (no dicts with several keys: key order differs).
import json

print(json.dumps([1, "two", 3.5, True, False, None]))
print(json.dumps({"k": [1, 2]}))
print(json.dumps("quote\"and\\slash"))
print(json.dumps([]), json.dumps({}), json.dumps(""))
v = json.loads('{"a": [1, 2, {"b": null}], "c": "x"}')
print(v["a"], v["c"], sorted(v.keys()))
print(json.loads("[1, 2.5, true, false, null]"))
print(json.loads('"\\u0041\\n"') == "A\n")
print(json.loads(" 42 "), json.loads("-1.5e2"))
print(json.loads(json.dumps([[1], [2, [3]]])))
try:
    json.loads("[1, 2")
    print("parsed?")
except ValueError as e:
    print("bad json:", isinstance(e, ValueError))
print("done")

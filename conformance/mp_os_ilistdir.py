# os.ilistdir: (name, type, inode) tuples as MicroPython's unix port gives them, names as
# bytes for a bytes path, the current directory by default, and the errors for bad input.
import os

base = "/tmp/microloop_conformance_ilistdir"


def attempt(label, f):
    try:
        print(label, f())
    except OSError as e:
        print(label, "OSError", e.errno)
    except Exception as e:
        print(label, type(e).__name__, e)


def clean():
    try:
        for name, kind, _ in os.ilistdir(base):
            path = base + "/" + name
            if kind == 0x4000:
                os.rmdir(path)
            else:
                os.remove(path)
        os.rmdir(base)
    except OSError:
        pass


clean()
os.mkdir(base)
os.mkdir(base + "/sub")
for name in ("a.txt", "b.bin"):
    with open(base + "/" + name, "w") as f:
        f.write(name)

entries = sorted(os.ilistdir(base))
for entry in entries:
    name, kind, inode = entry
    print(len(entry), name, hex(kind), type(inode).__name__, inode == os.stat(base + "/" + name)[1])
print(sorted(e[0] for e in os.ilistdir(base.encode())))
print(sorted(e[1] for e in os.ilistdir(base.encode())))

it = os.ilistdir(base)
print(iter(it) is it, len(list(it)), list(it))

cwd = os.getcwd()
os.chdir(base)
print(sorted(e[0] for e in os.ilistdir()))
print(sorted(e[0] for e in os.ilistdir(".")))
os.chdir(cwd)
print(list(os.ilistdir(base + "/sub")))

attempt("missing", lambda: list(os.ilistdir(base + "/missing")))
attempt("a file", lambda: list(os.ilistdir(base + "/a.txt")))
attempt("int", lambda: os.ilistdir(1))
attempt("None", lambda: os.ilistdir(None))
clean()
print("done")

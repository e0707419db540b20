# Where `await` stays a SyntaxError: outside any function (module level, class
# body), and in a list comprehension of a plain def. `async for`/`async with`
# stay errors in a plain def. A plain def with await compiles.
cases = [
    ("module level", "await x\n"),
    ("class body", "class C:\n    await x\n"),
    ("listcomp in def", "def f(z):\n    return [await y for y in z]\n"),
    ("async for in def", "def f(z):\n    async for y in z:\n        pass\n"),
    ("async with in def", "def f(z):\n    async with z:\n        pass\n"),
    ("await in def", "def f(z):\n    return await z\n"),
    ("await in lambda", "f = lambda z: await z\n"),
    ("await in def in async def", "async def g():\n    def f(z):\n        return await z\n    return f\n"),
    ("yield and return value in async def", "async def f():\n    yield 1\n    return 2\n"),
]
for name, src in cases:
    try:
        exec(compile(src, "case.py", "exec"), {})
        print(name, "compiles")
    except SyntaxError as e:
        print(name, "SyntaxError")
# The message names where the error is.
try:
    compile("x = 1\nawait x\n", "where.py", "exec")
except SyntaxError as e:
    print(e.args[0])

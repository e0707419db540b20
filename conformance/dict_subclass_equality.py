# Dicts compare by their own entries: a subclass's __getitem__ (a multi-value dict returning
# the first of several values) plays no part.
class FirstValue(dict):
    def __getitem__(self, key):
        return super().__getitem__(key)[0]


a = FirstValue({"x": [1, 2]})
b = FirstValue({"x": [1, 2]})
c = FirstValue({"x": [1, 3]})
print(a == b, a == c, a != c, a == {"x": [1, 2]}, {"x": [1, 2]} == a)
print(a["x"])

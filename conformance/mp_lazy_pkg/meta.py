print("loading meta")
VERSION = (1, 2)

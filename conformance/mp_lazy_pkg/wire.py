print("loading wire")


def ping():
    return "pong"


class Frame:
    pass

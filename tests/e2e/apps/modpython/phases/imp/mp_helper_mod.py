def greeting():
    return "hello from the neighbour"

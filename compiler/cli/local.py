def add_local(commands):
    pass

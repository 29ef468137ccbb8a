def add_init(commands):
    pass

"""The shared base every package may use: diagnostics, names, safe text and files, AWS clients. Imports nothing
else of the compiler."""

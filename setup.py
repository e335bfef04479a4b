"""The one compiled part of k2matrix: the callgrind client requests of the instruction
clock (k2matrix.counting). Optional: without valgrind's headers (the Debian package
valgrind) the install goes on without it, and ``--clock instructions`` says how to add it.
Everything else is declared in pyproject.toml."""

from setuptools import Extension, setup

setup(ext_modules=[Extension("k2matrix.counting._callgrind",
                             sources=["src/k2matrix/counting/_callgrind.c"],
                             optional=True)])

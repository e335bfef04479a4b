"""Counting the instructions of a timed region under valgrind's callgrind."""

"""The ``trending`` command line: run the whole system, inspect it, and operate it."""

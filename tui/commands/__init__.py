"""One module a sub-command: a docstring (its help), ``add_arguments(parser)`` and ``main(args) -> int``."""

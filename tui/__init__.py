"""AIShell's front ends: the `aishell` command line and the Textual workbench."""

"""The folders engine/ and tui/ install as aishell.engine and aishell.tui: one namespace, so
nothing named `engine` or `tui` lands at the top of a user's site-packages. Everything else
about the distribution is in pyproject.toml."""

from setuptools import find_packages, setup

FOLDERS = ("engine", "tui")

setup(
    packages=[f"aishell.{name}" for name in find_packages(include=[f"{f}*" for f in FOLDERS])],
    package_dir={f"aishell.{folder}": folder for folder in FOLDERS},
)

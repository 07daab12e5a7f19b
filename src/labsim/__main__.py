"""`python -m labsim`: the same as the `labsim` command."""

from labsim.cli import entry

if __name__ == "__main__":  # not when a spawned child process imports the main module
    entry()

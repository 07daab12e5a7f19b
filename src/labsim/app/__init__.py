"""`labsim app`: an interactive page for what-ifs (Mesa's Solara visualisation), beside the cli layer.

Needs the optional extra `pip install 'labsim[app]'`; `run_server` is the command's entry point
(`check_start` runs first).
"""

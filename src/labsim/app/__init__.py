"""`labsim app`: an interactive page for what-ifs (Mesa's Solara visualisation), beside the cli layer.

Needs the optional extra `pip install 'labsim[app]'`; `serve` is the command's entry point.
"""

"""The `cachekeeper` command line (`cachekeeper ...` once installed, or `python -m cli ...`).

`cli/main.py` parses the command line and runs the policy commands, `cli/ops.py` the operator
commands, `cli/tables.py` renders tables, `cli/wiring.py` gives them the product's Context.
"""

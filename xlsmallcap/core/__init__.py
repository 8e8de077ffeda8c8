"""The functional core: pure pandas functions, prices in, numbers out. No I/O, no Excel.

Every function takes ``as_of`` and uses only observations dated on or before it.
"""

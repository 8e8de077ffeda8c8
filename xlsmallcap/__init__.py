"""xlsmallcap: is the small-cap rally a true rotation out of large caps, or just diversification?

Excel functions (through xlwings) on top of a pure pandas core and an embedded market-data snapshot.
"""

__version__ = "0.1.0"

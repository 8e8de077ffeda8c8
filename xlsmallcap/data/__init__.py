"""The data layer: catalog of series, embedded snapshot, live adapters and the data store."""

"""Directories (名录库): institutions, inspectors, conflicts of interest, regions."""

"""Beneficiary movements: the engine (one registry of kinds), the service entry, coverage
periods, waiting periods, ageing dependents, exclusion proofs.
"""

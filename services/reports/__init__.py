"""Reports: beneficiaries (active, inactive, utilization) and the account managers'
portfolio analysis.
"""

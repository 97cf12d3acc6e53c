"""The demo data generator (`portal-seed`): above the services, nothing in the portal
imports it.
"""

"""Outgoing e-mail: the outbox (recorded in the transaction, delivered after it) and its
command line.
"""

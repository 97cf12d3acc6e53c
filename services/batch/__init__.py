"""Batch movements: the file layout, reading files, checking and applying lines, the
command line.
"""

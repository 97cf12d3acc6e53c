"""Pure domain rules of Portal Empresa.

Standard library only (dates, Decimal, enums): no database, no Streamlit, no
third-party package, no import from the rest of the project. Each module names
in its docstring the legal or normative source of the rules it implements.
Rules never read the clock: ``today`` is always a parameter.

The notes these rules rely on, in plain words with worked examples, are in
``docs/domain/`` (index: ``docs/README.md``).
"""

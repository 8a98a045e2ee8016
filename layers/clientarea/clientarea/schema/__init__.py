"""The HTTP shapes, declared once: request and response bases (`base`), the field types
(`fields`), the answers more than one function gives, by flow (`accounts`, `support`,
`services`, `recovery`, each with its status enum), and each route's documented answers,
its errors derived from the exception classes (`routes`).

Imported by every API function: its modules import only pydantic, Powertools' parameter
types and the standard library, and this file stays empty so that a function loads only
the modules it uses."""

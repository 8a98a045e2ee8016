"""The HTTP shapes, declared once: request and response bases (`base`), the field types
(`fields`), the response models more than one function answers (`responses`) and each
route's documented answers, its errors derived from the exception classes (`routes`).

Imported by every API function: its modules import only pydantic and the standard
library, and this file stays empty so that a function loads only the modules it uses."""

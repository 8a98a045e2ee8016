"""clientarea: the domain shared by every function (one module per concept).

Nothing in this package knows about API Gateway events except `web`, the adapter the
HTTP functions use to turn domain errors into the contract's responses.
"""

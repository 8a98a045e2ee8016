"""Local emulation of the deployed stack, built from template.yaml itself.

- `stack`: reads the SAM template (resources, routes, queues, environment).
- `resources`: creates its tables, queues and SES identity on moto.
- `gateway`: API Gateway's part (route matching, proxy events, the Lambda authorizer,
  gateway responses) using chalice.local's machinery, calling the real handlers.
- `queues`: delivers SQS messages to their consumer functions, as event source
  mappings do.
- `server`: the HTTP dev server (`make dev`) with the `/_dev/*` routes.
"""

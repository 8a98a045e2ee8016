"""Email: `outbox` queues a mail (what API functions call) as a `message`, `rendering`
turns it into localized text and HTML, `delivery` hands it to SES (what the mailer
function calls).

API answers never wait on SES: they only put a small JSON message on the mail queue.
"""

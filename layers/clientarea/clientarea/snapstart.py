"""Lambda SnapStart (template parameter EnableSnapStart): nothing a snapshot shares may
have to be unique.

With SnapStart, Lambda initialises a published version once, snapshots the process and
resumes every new execution environment of that version from the snapshot: whatever
the initialisation made, all of them share. The audit (docs/snapstart.md, and
tests/unit/test_snapstart.py, which imports every handler and fails on any of these
made at init):

- secrets (session and link tokens, recovery keys, ticket and client numbers) come from
  `secrets`, i.e. the kernel's generator read when the handler draws them, never at
  init;
- no clock reading is kept from init: every expiry and timestamp reads `clock.now()` in
  the handler;
- no AWS client, PynamoDB connection, botocore session or credentials exist at init:
  the first request creates them, after the restore, so no connection or credential is
  in the snapshot and none needs re-creating;
- `random`'s state is in the snapshot (the module seeds itself when imported, which the
  standard library and botocore do at init): botocore's retry jitter,
  `email.utils.make_msgid` and Powertools' log sampling would draw the very same
  numbers in every restored environment. `after_restore` reseeds it.

`register()` hooks `after_restore` into the runtime's `snapshot_restore_py` (part of the
Lambda Python runtimes since 3.12, no dependency to ship), and only when the function
is being initialised for a snapshot: without SnapStart it costs nothing.
"""

from __future__ import annotations

import os
import random

SNAPSHOT_INIT = "snap-start"  # AWS_LAMBDA_INITIALIZATION_TYPE when Lambda builds a snapshot


def register() -> None:
    """Run `after_restore` in every environment restored from this one's snapshot."""
    if os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE") != SNAPSHOT_INIT:
        return
    from snapshot_restore_py import register_after_restore  # noqa: PLC0415 - Lambda's runtime

    register_after_restore(after_restore)


def after_restore() -> None:
    random.seed()  # from os.urandom: a state of this environment's own

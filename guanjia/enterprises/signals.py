"""Signals the enterprises app sends, so that other apps follow the registry without it knowing them.

Both are sent inside the transaction that made the change: a receiver's writes commit or roll
back with it, so nothing is half-written.

- ``enterprises_changed(sender, ids)``: enterprises were created in bulk (an import, which sends no
  post_save) or their registry fields (tier among them) changed through ``update_enterprise``.
  ``ids`` is a list of enterprise primary keys.
- ``steward_changed(sender, enterprise, previous_id, steward, by)``: ``enterprise`` now has
  ``steward``; ``previous_id`` is the former steward's id or None. Sent by ``assign_steward``, and so
  for every enterprise of a handover.
"""

from django.dispatch import Signal

enterprises_changed = Signal()
steward_changed = Signal()
